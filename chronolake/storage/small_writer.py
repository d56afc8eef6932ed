"""Writing a small result (a few rows: single-row INSERTs) as one Parquet file with pyarrow.

A DuckDB ``COPY`` costs about a millisecond even for one row; fetching the rows and writing
them with pyarrow costs a fraction of that. The file is the same as the COPY would write:
columns ``c<column id>`` (and ``c_rowid``) carrying their ids as Parquet field ids, snappy
with Parquet 2 data pages (as the COPY writes), and
the catalog gets the same column statistics, rendered as DuckDB's ``RETURN_STATS`` renders
them. Only column types whose rendering is certain take this path (integers, booleans and
short strings); anything else, or more rows, is left to the COPY.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from chronolake.io.file_io import FileIO

SMALL_ROWS = 1024  # at most this many rows take this path
# DuckDB truncates longer string statistics (and bumps the last byte of the maximum)
_MAX_STAT_BYTES = 64

_ARROW_TYPES: dict[str, pa.DataType] = {
    "TINYINT": pa.int8(),
    "SMALLINT": pa.int16(),
    "INTEGER": pa.int32(),
    "BIGINT": pa.int64(),
    "UTINYINT": pa.uint8(),
    "USMALLINT": pa.uint16(),
    "UINTEGER": pa.uint32(),
    "UBIGINT": pa.uint64(),
    "BOOLEAN": pa.bool_(),
    "VARCHAR": pa.string(),
}

_BLOCKING = re.compile(
    r"\b(ORDER\s+BY|GROUP\s+BY|DISTINCT|OVER|QUALIFY|HAVING|JOIN|INTERSECT|EXCEPT|WINDOW)\b",
    re.IGNORECASE,
)

Stats = tuple[int, str | None, str | None, int]


def arrow_type(declared: str) -> pa.DataType | None:
    """The Arrow type this path writes for a column of DuckDB type ``declared`` exactly (a
    bounded ``VARCHAR(n)`` is not one: its length check is DuckDB's), else None."""
    return _ARROW_TYPES.get(declared.strip().upper())


def may_be_small(declared_types: Sequence[str], select_sql: str) -> bool:
    """Whether a result can take this path, decided before running anything: its columns'
    types are ones it writes, and the query streams. A query with a blocking step (sort,
    grouping, window, join) would do all its work before its first row: if the result is
    not small, running it twice would double the cost of a large write."""
    if _BLOCKING.search(select_sql):
        return False
    return all(t.split("(")[0].strip().upper() in _ARROW_TYPES for t in declared_types)


def fetch_small(duck: duckdb.DuckDBPyConnection, select_sql: str) -> pa.Table | None:
    """All rows of ``select_sql`` if its column types are ones this path writes and it has at
    most SMALL_ROWS rows, else None. The query streams: a larger result is cancelled after
    SMALL_ROWS + 1 rows, and the caller runs it again (safe: a query has no side effects)."""
    cur = duck.execute(select_sql)
    try:
        desc = cur.description or []
        types = [_ARROW_TYPES.get(str(d[1])) for d in desc]
        rows = cur.fetchmany(SMALL_ROWS + 1) if all(types) else None
        if rows is None or len(rows) > SMALL_ROWS:
            duck.abort()
            return None
        duck.complete()
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            duck.abort()
        raise
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in desc]
    return pa.table(
        {d[0]: pa.array(col, t) for d, col, t in zip(desc, columns, types, strict=True)}
    )


def _supported(t: pa.DataType) -> bool:
    return pa.types.is_integer(t) or pa.types.is_boolean(t) or pa.types.is_string(t)


def _render(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def column_stats(table: pa.Table, field_ids: Mapping[str, int]) -> list[Stats] | None:
    """(column id, min, max, null count) of the named columns, as DuckDB renders them; None
    if a column's rendering could differ from DuckDB's."""
    out = []
    for name, column_id in field_ids.items():
        col = table.column(name)
        if not _supported(col.type):
            return None
        if pa.types.is_string(col.type) and col.length() > col.null_count:
            longest = pc.max(pc.binary_length(col)).as_py()
            if longest is not None and longest > _MAX_STAT_BYTES:
                return None
        mm = pc.min_max(col).as_py()
        out.append((column_id, _render(mm["min"]), _render(mm["max"]), int(col.null_count)))
    return out


def write_small_file(
    table: pa.Table, io: FileIO, directory: str, tag: str, field_ids: Mapping[str, int]
) -> tuple[str, int] | None:
    """Write ``table`` (columns named as ``field_ids`` keys) as one snappy Parquet file in the
    folder ``directory`` of ``io``; returns its relative path and size, or None if a column
    type is not one this path writes."""
    fields = []
    for f in table.schema:
        fid = field_ids.get(f.name)
        if fid is None or not (_supported(f.type)):
            return None
        fields.append(pa.field(f.name, f.type, True, {b"PARQUET:field_id": str(fid).encode()}))
    rel = f"{directory}/data-{tag}-{uuid.uuid4()}.parquet"
    table = table.cast(pa.schema(fields))
    size = io.write_parquet(rel, table, compression="snappy", data_page_version="2.0")
    return rel, size
