"""Filters that the SQL front end pushes into catalog reads: ``column <op> values`` over a
view's column, turned into SQL here, where the catalog's columns are known."""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement

_COMPARE = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


@dataclass(frozen=True)
class Condition:
    """One pushed conjunct: ``column`` (a view column, lower case) ``op`` ``values``."""

    column: str
    op: str  # "in", "between" (two values, inclusive), "<", "<=", ">", ">="
    values: tuple[Any, ...]


def condition_sql(col: Any, c: Condition) -> ColumnElement[bool]:
    """``c`` over one catalog column."""
    if c.op == "in":
        return col.in_(c.values) if len(c.values) > 1 else col == c.values[0]
    if c.op == "between":
        return col.between(c.values[0], c.values[1])
    compare: ColumnElement[bool] = _COMPARE[c.op](col, c.values[0])
    return compare


def where(conditions: Sequence[Condition], columns: Mapping[str, Any]) -> list[ColumnElement[bool]]:
    """SQL conditions over the catalog columns that the view columns map to (conditions on
    other columns are left to the query engine)."""
    out: list[ColumnElement[bool]] = []
    for c in conditions:
        col = columns.get(c.column)
        if col is not None:
            out.append(condition_sql(col, c))
    return out
