"""Object parameters: DATA_RETENTION_TIME_IN_DAYS on the tenant (account), databases, schemas
and tables, and the tenant's MIN_DATA_RETENTION_TIME_IN_DAYS (SEMANTICS.md section 9).

Values live in the namespace (``retention_days`` of each object, ``Namespace.settings`` for
the tenant), so setting one is a committed, versioned change like any DDL.
"""

from __future__ import annotations

import decimal
from dataclasses import replace
from functools import partial

import pyarrow as pa
from sqlglot import exp

from chronolake.catalog.model import TableInfo
from chronolake.catalog.retention import (
    DATA_RETENTION,
    TENANT_PARAMETERS,
    check_days,
    check_transient_days,
)
from chronolake.engine.guard import MAX_TIMEOUT_S
from chronolake.errors import NotFound, NotSupportedError, SqlError
from chronolake.sql.binding.names import resolve_database, resolve_schema
from chronolake.sql.grammar.dialect import AlterParameters
from chronolake.sql.session import Ctx, Session
from chronolake.sql.statements.namespace_ops import status

STATEMENT_TIMEOUT = "STATEMENT_TIMEOUT_IN_SECONDS"
ACCOUNT_PARAMETERS = (*TENANT_PARAMETERS, STATEMENT_TIMEOUT)

# accepted on CREATE / ALTER TABLE and ignored (change tracking is always on)
_IGNORED_TABLE_PARAMETERS = ("CHANGE_TRACKING",)


def _value(expr: exp.Expr) -> object:
    """A parameter's constant value: a number, a string, or the SQL text of anything else."""
    negative = isinstance(expr, exp.Neg)
    inner = expr.this if negative else expr
    if isinstance(inner, exp.Literal):
        if inner.is_string:
            return str(inner.this) if not negative else expr.sql("snowflake")
        number = decimal.Decimal(str(inner.this))
        number = -number if negative else number
        return int(number) if number == int(number) else number
    return expr.sql("snowflake")


def parameter_days(name: str, expr: exp.Expr) -> int:
    """The days a DATA_RETENTION_TIME_IN_DAYS (or MIN_...) value gives, or Snowflake's error."""
    return check_days(name, _value(expr))


def timeout_seconds(expr: exp.Expr) -> int:
    """A STATEMENT_TIMEOUT_IN_SECONDS value (0 to 604800), or Snowflake's error for it."""
    value = _value(expr)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_TIMEOUT_S:
        return value
    raise SqlError(f"invalid value [{value}] for parameter '{STATEMENT_TIMEOUT}'")


def statement_timeout(session: Session, settings: dict[str, str]) -> int:
    """The running statement's timeout in seconds: the session's value, else the account's
    (``settings`` of the namespace), else ``Settings.statement_timeout_s``; 0 is the largest."""
    value = session.parameters.get(STATEMENT_TIMEOUT) or settings.get(STATEMENT_TIMEOUT)
    seconds = session.settings.statement_timeout_s if value is None else int(value)
    return seconds if 0 < seconds <= MAX_TIMEOUT_S else MAX_TIMEOUT_S


def _property_name(prop: exp.Expr) -> str:
    key = prop.this
    return str(key.name if isinstance(key, exp.Expr) else key).upper()


def retention_property(node: exp.Create) -> int | None:
    """The DATA_RETENTION_TIME_IN_DAYS = n of a CREATE DATABASE | SCHEMA | TABLE, if given."""
    props = node.args.get("properties")
    days = None
    for prop in props.expressions if props is not None else []:
        if isinstance(prop, exp.Property) and _property_name(prop) == DATA_RETENTION:
            days = parameter_days(DATA_RETENTION, prop.args["value"])
    return days


def _unsupported(kind: str, name: str) -> NotSupportedError:
    return NotSupportedError(
        f"Parameter {name} is not supported on {kind}: chronolake supports "
        f"{', '.join(ACCOUNT_PARAMETERS) if kind == 'ACCOUNT' else DATA_RETENTION}."
    )


def alter_table_parameters(ctx: Ctx, table: TableInfo, action: exp.Expr, unset: bool) -> TableInfo:
    """ALTER TABLE t SET DATA_RETENTION_TIME_IN_DAYS = n | UNSET DATA_RETENTION_TIME_IN_DAYS."""
    items: list[exp.Expr] = []
    for e in action.expressions:
        items += e.expressions if isinstance(e, exp.Properties) else [e]
    new = table
    for item in items:
        name = _property_name(item) if isinstance(item, exp.Property) else item.name.upper()
        if name in _IGNORED_TABLE_PARAMETERS:
            continue
        if name != DATA_RETENTION:
            raise _unsupported("TABLE", name)
        if unset:
            new = replace(new, retention_days=None)
        elif isinstance(item, exp.Property):
            days = parameter_days(name, item.args["value"])
            if new.transient:
                check_transient_days(days)
            new = replace(new, retention_days=days)
        else:
            raise _unsupported("TABLE", name)
    if new != table:
        ctx.txn.set_table(new, "ALTER_TABLE")
    return new


def alter_parameters(ctx: Ctx, node: AlterParameters) -> pa.Table:
    """ALTER ACCOUNT | DATABASE | SCHEMA ... SET | UNSET parameters."""
    kind = str(node.args["kind"]).upper()
    allowed = ACCOUNT_PARAMETERS if kind == "ACCOUNT" else (DATA_RETENTION,)
    changes: dict[str, int | None] = {}
    for item in node.expressions:
        name = _property_name(item) if isinstance(item, exp.Property) else item.name.upper()
        if name not in allowed:
            raise _unsupported(kind, name)
        check = timeout_seconds if name == STATEMENT_TIMEOUT else partial(parameter_days, name)
        changes[name] = check(item.args["value"]) if isinstance(item, exp.Property) else None
    ns = ctx.txn.ns.copy()
    target = node.this
    if kind == "ACCOUNT":
        for name, days in changes.items():
            if days is None:
                ns.settings.pop(name, None)
            else:
                ns.settings[name] = str(days)
    else:
        assert isinstance(target, exp.Table)
        try:
            if kind == "DATABASE":
                db = resolve_database(ns, ctx, target.name)
                ns.databases[db.database_id] = replace(db, retention_days=changes[DATA_RETENTION])
            else:
                sc = resolve_schema(ns, ctx, target.db or None, target.name)
                ns.schemas[sc.schema_id] = replace(sc, retention_days=changes[DATA_RETENTION])
        except NotFound:
            if node.args.get("exists"):
                return status("Statement executed successfully.")
            raise
    if ns != ctx.txn.ns:
        ctx.txn.set_namespace(ns, f"ALTER_{kind}")
    return status("Statement executed successfully.")
