"""Which names a query can see where: the scoping of WITH, as the engine applies it."""

from __future__ import annotations

from sqlglot import exp


def cte_in_scope(node: exp.Expr, name: str) -> bool:
    """Whether ``name`` at ``node`` is a CTE that DuckDB will resolve it to (WITH scoping)."""
    child, parent = node, node.parent
    while parent is not None:
        if isinstance(parent, exp.With):
            ctes = parent.expressions
            # a CTE sees the ones before it, and itself only in a WITH RECURSIVE
            upto = next((i for i, c in enumerate(ctes) if c is child), len(ctes))
            seen = ctes[: upto + 1] if parent.args.get("recursive") else ctes[:upto]
            if any(c.alias_or_name == name for c in seen):
                return True
        else:
            with_ = parent.args.get("with_")
            if (
                isinstance(with_, exp.With)
                and with_ is not child
                and any(c.alias_or_name == name for c in with_.expressions)
            ):
                return True
        child, parent = parent, parent.parent
    return False
