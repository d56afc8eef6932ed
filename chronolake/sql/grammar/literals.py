"""Python values <-> sqlglot literal expressions (parameters, session variables, constants)."""

from __future__ import annotations

import datetime as dt
import decimal
import json
from typing import Any

from sqlglot import exp

from chronolake.errors import ProgrammingError


def to_literal(value: Any) -> exp.Expr:
    """A SQL constant for a Python value; strings are escaped by sqlglot, never by hand."""
    if value is None:
        return exp.null()
    if isinstance(value, bool):
        return exp.true() if value else exp.false()
    if isinstance(value, int):
        return exp.Literal.number(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return exp.cast(exp.Literal.string(repr(value)), "DOUBLE")
        return exp.cast(exp.Literal.number(repr(value)), "DOUBLE")
    if isinstance(value, decimal.Decimal):
        return exp.Literal.number(str(value))
    if isinstance(value, str):
        return exp.Literal.string(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            text = value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00:00")
            return exp.cast(exp.Literal.string(text), exp.DataType.build("TIMESTAMPTZ"))
        return exp.cast(
            exp.Literal.string(value.strftime("%Y-%m-%d %H:%M:%S.%f")),
            exp.DataType.build("TIMESTAMP"),
        )
    if isinstance(value, dt.date):
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.build("DATE"))
    if isinstance(value, dt.time):
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.build("TIME"))
    if isinstance(value, (bytes, bytearray, memoryview)):
        return exp.func("from_hex", exp.Literal.string(bytes(value).hex()))
    if isinstance(value, (dict, list)):
        return exp.cast(exp.Literal.string(json.dumps(value)), exp.DataType.build("JSON"))
    raise ProgrammingError(
        f"Cannot bind a parameter of Python type {type(value).__name__}: use None, bool, int, "
        "float, Decimal, str, bytes, date, time, datetime, dict or list."
    )
