"""The rows of ``INSERT ... VALUES`` made only of constants, built in Python.

A single-row INSERT is the commonest small commit. Sending its constants through DuckDB
(a query to learn their types, the cast projection, a fetch) costs about a millisecond, more
than writing the file. When every value already has its column's type (an integer literal
for an integer column, a string literal for an unbounded VARCHAR, TRUE/FALSE for a BOOLEAN,
NULL for a nullable column) there is nothing to cast, and the rows become an Arrow table
directly. Anything else (a cast, an expression, a bounded VARCHAR, a default value, a NOT
NULL column given NULL, a value out of the column's range) returns None and takes the general
path, which gives exactly the same rows or the same error.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
from sqlglot import exp

from chronolake.catalog.model import ColumnInfo
from chronolake.storage.small_writer import SMALL_ROWS, arrow_type
from chronolake.storage.writer import physical_name

_INTEGER = re.compile(r"^[0-9]+$")
_NO_VALUE = object()  # a constant this path does not take


def _constant(node: exp.Expr, kind: str) -> Any:
    """The Python value of ``node`` for a column of ``kind`` ("int", "str", "bool"), or
    _NO_VALUE if it is not a constant already of that kind."""
    if isinstance(node, exp.Null):
        return None
    if kind == "bool":
        return node.this if isinstance(node, exp.Boolean) else _NO_VALUE
    negative = isinstance(node, exp.Neg)
    if negative:
        node = node.this
    if not isinstance(node, exp.Literal):
        return _NO_VALUE
    text = node.this
    if kind == "str":
        return text if node.is_string and not negative else _NO_VALUE
    if node.is_string or not _INTEGER.match(text):
        return _NO_VALUE
    return -int(text) if negative else int(text)


def _kind(t: pa.DataType) -> str:
    if pa.types.is_boolean(t):
        return "bool"
    return "str" if pa.types.is_string(t) else "int"


def constant_rows(
    values: exp.Values, columns: Sequence[ColumnInfo], names: Sequence[str]
) -> pa.Table | None:
    """``values`` as a table of the physical columns (``c<id>``) of ``columns``, the listed
    ``names`` filled from the rows and the others NULL; None if any value needs DuckDB."""
    rows = values.expressions
    if not rows or len(rows) > SMALL_ROWS:
        return None
    listed = {n: i for i, n in enumerate(names)}
    out: dict[str, pa.Array] = {}
    for col in columns:
        t = arrow_type(col.type)
        if t is None:
            return None
        kind = _kind(t)
        i = listed.get(col.name)
        if i is None:
            if col.default_sql is not None or not col.nullable:
                return None
            out[physical_name(col.column_id)] = pa.nulls(len(rows), t)
            continue
        cells = []
        for row in rows:
            if not isinstance(row, exp.Tuple) or len(row.expressions) != len(names):
                return None
            value = _constant(row.expressions[i], kind)
            if value is _NO_VALUE or (value is None and not col.nullable):
                return None
            cells.append(value)
        try:
            out[physical_name(col.column_id)] = pa.array(cells, t)
        except (pa.ArrowException, OverflowError, ValueError, UnicodeError):
            return None  # out of the column's range: the general path reports it
    return pa.table(out)
