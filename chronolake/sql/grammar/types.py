"""Snowflake data types -> DuckDB types."""

from __future__ import annotations

from sqlglot import exp

from chronolake.errors import NotSupportedError, SqlError

T = exp.DType

_SIMPLE: dict[exp.DType, str] = {
    T.TINYINT: "BIGINT",
    T.SMALLINT: "BIGINT",
    T.INT: "BIGINT",
    T.BIGINT: "BIGINT",
    T.FLOAT: "DOUBLE",
    T.DOUBLE: "DOUBLE",
    T.BOOLEAN: "BOOLEAN",
    T.DATE: "DATE",
    T.TIME: "TIME",
    T.TIMESTAMP: "TIMESTAMP",
    T.TIMESTAMPNTZ: "TIMESTAMP",
    T.DATETIME: "TIMESTAMP",
    T.TIMESTAMPLTZ: "TIMESTAMPTZ",
    T.TIMESTAMPTZ: "TIMESTAMPTZ",
    T.VARIANT: "JSON",
    T.OBJECT: "JSON",
    T.JSON: "JSON",
    T.BINARY: "BLOB",
    T.VARBINARY: "BLOB",
    T.BLOB: "BLOB",
}
_TEXT = {T.VARCHAR, T.CHAR, T.TEXT, T.NVARCHAR, T.NCHAR}


def duck_type(dt: exp.DataType) -> str:
    """The DuckDB type that stores a Snowflake column type."""
    kind = dt.this
    if kind in _TEXT:
        if dt.expressions and kind in (T.VARCHAR, T.NVARCHAR):
            length = int(dt.expressions[0].name)
            if not 1 <= length <= 16_777_216:
                raise SqlError(f"Invalid VARCHAR length {length}: use 1 to 16777216.")
            return f"VARCHAR({length})"
        return "VARCHAR"
    if kind == T.DECIMAL:
        params = [int(p.name) for p in dt.expressions] if dt.expressions else [38, 0]
        precision = params[0]
        scale = params[1] if len(params) > 1 else 0
        if not 1 <= precision <= 38 or not 0 <= scale <= precision:
            raise SqlError(
                f"Invalid NUMBER({precision},{scale}): precision must be 1 to 38 and scale "
                "0 to the precision."
            )
        return f"DECIMAL({precision},{scale})"
    if kind == T.ARRAY:
        return "JSON"
    found = _SIMPLE.get(kind)
    if found is None:
        raise NotSupportedError(
            f"Data type {dt.sql('snowflake')} is not supported. Use NUMBER, FLOAT, VARCHAR, "
            "BOOLEAN, DATE, TIME, TIMESTAMP_NTZ/LTZ/TZ, VARIANT or BINARY."
        )
    return found
