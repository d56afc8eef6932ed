"""Turning a value into what a column stores: the cast plus the column's own rules.

Snowflake refuses, rather than silently truncates, a string longer than VARCHAR(n), and a NULL
in a NOT NULL column; DuckDB's ``error()`` raises inside the same write, so nothing of the
statement is committed.
"""

from __future__ import annotations

import re

from sqlglot import exp

from chronolake.catalog.model import ColumnInfo

_VARCHAR_N = re.compile(r"^VARCHAR\((\d+)\)$")
_TS_TYPES = ("TIMESTAMP", "TIMESTAMPTZ")


def column_type(col: ColumnInfo) -> exp.DataType:
    return exp.DataType.build(col.type, dialect="duckdb")


def to_column(value: exp.Expr, col: ColumnInfo, source_is_text: bool = False) -> exp.Expr:
    """``value`` cast to ``col``'s type, failing the statement where Snowflake would."""
    if source_is_text and col.type in _TS_TYPES:
        # Snowflake accepts '2024-01-01 10:00:00 +02:00'; DuckDB wants no space before the offset
        value = exp.func(
            "regexp_replace",
            exp.cast(value, "VARCHAR"),
            exp.Literal.string(r"\s+([+-]\d\d(:?\d\d)?)$"),
            exp.Literal.string(r"\1"),
        )
    out: exp.Expr = exp.cast(value, column_type(col))
    m = _VARCHAR_N.match(col.type)
    if m:
        too_long = exp.GT(this=exp.func("length", out.copy()), expression=exp.Literal.number(m[1]))
        message = exp.func(
            "concat",
            exp.Literal.string("String '"),
            out.copy(),
            exp.Literal.string("' is too long and would be truncated"),
        )
        out = exp.Case(
            ifs=[exp.If(this=too_long, true=exp.cast(exp.func("error", message), "VARCHAR"))],
            default=out,
        )
    if not col.nullable:
        null_message = exp.Literal.string(f"NULL result in a non-nullable column {col.name}")
        out = exp.Case(
            ifs=[
                exp.If(
                    this=exp.Is(this=out.copy(), expression=exp.null()),
                    true=exp.cast(exp.func("error", null_message), column_type(col)),
                )
            ],
            default=out,
        )
    return out
