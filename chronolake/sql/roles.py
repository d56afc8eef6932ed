"""Roles: what a connection opened with ``role=`` may run (the server's tokens carry one).

``reader`` reads (SELECT with time travel and CHANGES, SHOW, DESCRIBE, history views) and
sets up its session (USE, SET, ALTER SESSION, BEGIN/COMMIT/ROLLBACK); ``writer`` also
changes data and objects; ``admin`` also changes retention settings. No role (embedded
use) allows everything.
"""

from __future__ import annotations

from sqlglot import exp

from chronolake.catalog.retention import DATA_RETENTION, MIN_DATA_RETENTION
from chronolake.errors import InterfaceError, PermissionDenied
from chronolake.sql.grammar.parse import AlterParameters

ROLES = ("reader", "writer", "admin")
_RETENTION = {DATA_RETENTION, MIN_DATA_RETENTION}


def check_role_name(role: object) -> str | None:
    """``role`` as given to ``Lake.connect``: None or one of ROLES."""
    if role is None or role in ROLES:
        return role
    raise InterfaceError(f"role must be one of {', '.join(ROLES)} (or None), not {role!r}.")


def _sets_retention(tree: exp.Expr) -> bool:
    if isinstance(tree, AlterParameters):
        return str(tree.args.get("kind") or "").upper() != "SESSION"
    if not isinstance(tree, exp.Alter):
        return False
    return any(
        node.name.upper() in _RETENTION
        for node in tree.find_all(exp.Property, exp.Var, exp.Identifier)
    )


def required_role(tree: exp.Expr, writes: bool) -> str:
    """The least role that may run ``tree`` (``writes``: the statement changes the lake)."""
    if _sets_retention(tree):
        return "admin"
    return "writer" if writes else "reader"


def check_role(role: str | None, tree: exp.Expr, writes: bool, query_type: str) -> None:
    """Raise PermissionDenied when ``role`` may not run ``tree``."""
    if role is not None:
        require(role, required_role(tree, writes), query_type.replace("_", " "))


def require(role: str | None, needed: str, what: str) -> None:
    """Raise PermissionDenied unless ``role`` (None: any) is at least ``needed`` for ``what``."""
    if role is not None and ROLES.index(role) < ROLES.index(needed):
        raise PermissionDenied(
            f"Your role '{role}' may not run {what}: it needs the '{needed}' role. "
            "Ask an admin of your tenant for a token with that role."
        )
