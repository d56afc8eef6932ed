"""Simple filters on an INFORMATION_SCHEMA view, pushed into the catalog query that builds it.

A history view (QUERY_HISTORY, SNAPSHOTS, ACCESS_HISTORY) is an Arrow table computed per
statement; without help a lookup of one query id would read the whole history. When the view
is the only source of a SELECT, the conjuncts of that SELECT's WHERE of the shape
``column <op> constant`` (``=``, ``IN (...)``, ``<``, ``<=``, ``>``, ``>=``, ``BETWEEN``) on a
column the view maps to the catalog become catalog conditions, served by catalog indexes.

Pushing only ever narrows to a superset of the answer: DuckDB still applies the full WHERE to
the rows the view holds. Anything not understood exactly is left out (or, for a time constant
whose time zone the comparison could read differently, widened by a day).
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import duckdb
from sqlglot import exp

from chronolake.catalog.filters import Condition
from chronolake.engine.session import first_row
from chronolake.sql.session import Ctx

_DAY_US = 86_400_000_000
_INT64 = 2**63
_EXACT_TIME_TYPES = {"TIMESTAMP WITH TIME ZONE", "VARCHAR"}  # read as the comparison reads them
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}
_OPS: dict[type[exp.Expr], str] = {
    exp.EQ: "=",
    exp.LT: "<",
    exp.LTE: "<=",
    exp.GT: ">",
    exp.GTE: ">=",
}


class Kind(enum.Enum):
    """How a view column's constants are read (the catalog column's representation)."""

    TEXT = "text"
    INTEGER = "integer"
    TIME = "time"  # TIMESTAMP_TZ in the view, microseconds since the epoch in the catalog


@dataclass(frozen=True)
class Pushed:
    """The conditions pushed into one view (empty: build the whole view)."""

    conditions: tuple[Condition, ...] = ()

    def on(self, column: str) -> list[Condition]:
        return [c for c in self.conditions if c.column == column]


NOTHING = Pushed()


def pushed_filters(ctx: Ctx, node: exp.Table, kinds: Mapping[str, Kind]) -> Pushed:
    """The conditions on ``kinds``' columns that the SELECT reading ``node`` alone implies."""
    select = _sole_source_select(node)
    if select is None:
        return NOTHING
    where = select.args.get("where")
    if where is None:
        return NOTHING
    names = {node.name.lower()}
    if node.alias:
        names = {node.alias.lower()}
    # a select-list alias of a view column's name could be what WHERE means: leave it
    aliased = {e.alias.lower() for e in select.expressions if isinstance(e, exp.Alias)}
    usable = {k: v for k, v in kinds.items() if k not in aliased}
    found: list[Condition] = []
    for part in _conjuncts(where.this):
        cond = _condition(ctx, part, names, usable)
        if cond is not None:
            found.append(cond)
    return Pushed(tuple(found))


def _sole_source_select(node: exp.Table) -> exp.Select | None:
    parent = node.parent
    if not isinstance(parent, exp.From) or not isinstance(parent.parent, exp.Select):
        return None
    select = parent.parent
    if select.args.get("joins") or select.args.get("laterals"):
        return None
    return select


def _conjuncts(e: exp.Expr) -> Iterator[exp.Expr]:
    while isinstance(e, exp.Paren):
        e = e.this
    if isinstance(e, exp.And):
        yield from _conjuncts(e.this)
        yield from _conjuncts(e.expression)
    else:
        yield e


def _column(e: exp.Expr, names: set[str], kinds: Mapping[str, Kind]) -> str | None:
    """The view column ``e`` names, if it is a (qualified or not) column of the view."""
    if not isinstance(e, exp.Column) or e.args.get("db") or e.args.get("catalog"):
        return None
    if e.table and e.table.lower() not in names:
        return None
    name = e.name.lower()
    return name if name in kinds else None


def _condition(
    ctx: Ctx, e: exp.Expr, names: set[str], kinds: Mapping[str, Kind]
) -> Condition | None:
    if isinstance(e, exp.In):
        col = _column(e.this, names, kinds)
        if col is None or e.args.get("query") or e.args.get("unnest") or not e.expressions:
            return None
        values = [_constant(ctx, x, kinds[col]) for x in e.expressions]
        if any(v is None or not v[1] for v in values):
            return None
        return Condition(col, "in", tuple(v[0] for v in values if v is not None))
    if isinstance(e, exp.Between):
        col = _column(e.this, names, kinds)
        if col is None or e.args.get("symmetric") or kinds[col] is Kind.TEXT:
            return None
        low = _bound(ctx, col, ">=", e.args["low"], kinds[col])
        high = _bound(ctx, col, "<=", e.args["high"], kinds[col])
        return _merge(low, high)
    op = _OPS.get(type(e))
    if op is None:
        return None
    col, value = _column(e.this, names, kinds), e.expression
    if col is None:
        col, value = _column(e.expression, names, kinds), e.this
        op = _FLIP.get(op, op)
    if col is None:
        return None
    if op != "=" and kinds[col] is Kind.TEXT:
        return None  # text orders by collation: equality only
    if op == "=":
        found = _constant(ctx, value, kinds[col])
        if found is None:
            return None
        v, exact = found
        if exact:
            return Condition(col, "in", (v,))
        return Condition(col, "between", (v - _DAY_US, v + _DAY_US))
    return _bound(ctx, col, op, value, kinds[col])


def _bound(ctx: Ctx, col: str, op: str, value: exp.Expr, kind: Kind) -> Condition | None:
    found = _constant(ctx, value, kind)
    if found is None:
        return None
    v, exact = found
    if not exact:
        v = v - _DAY_US if op in (">", ">=") else v + _DAY_US
        op = ">=" if op in (">", ">=") else "<="
    return Condition(col, op, (v,))


def _merge(low: Condition | None, high: Condition | None) -> Condition | None:
    if low is None or high is None:
        return low or high
    return Condition(low.column, "between", (low.values[0], high.values[0]))


def _constant(ctx: Ctx, e: exp.Expr, kind: Kind) -> tuple[Any, bool] | None:
    """(value in the catalog's representation, exact?) of a constant, or None."""
    if kind is Kind.TEXT:
        if isinstance(e, exp.Literal) and e.is_string:
            return e.this, True
        return None
    if kind is Kind.INTEGER:
        neg = isinstance(e, exp.Neg)
        lit = e.this if neg else e
        if isinstance(lit, exp.Literal) and not lit.is_string and str(lit.this).isdigit():
            value = -int(lit.this) if neg else int(lit.this)
            if -_INT64 <= value < _INT64:  # beyond it the catalog could not bind the value
                return value, True
        return None
    return _time_constant(ctx, e)


def _time_constant(ctx: Ctx, e: exp.Expr) -> tuple[int, bool] | None:
    inner = e
    while isinstance(inner, (exp.Cast, exp.TryCast)):
        inner = inner.this
    if not isinstance(inner, exp.Literal):
        return None
    # DuckDB reads the constant, in the session's time zone, as the user's comparison will
    probe = exp.select(
        exp.func("typeof", e.copy()),
        exp.func("epoch_us", exp.cast(e.copy(), exp.DType.TIMESTAMPTZ)),
    )
    try:
        row = first_row(ctx.session.duck, probe.sql("duckdb"))
    except duckdb.Error:
        return None
    if row is None or row[1] is None:
        return None
    return int(row[1]), str(row[0]) in _EXACT_TIME_TYPES
