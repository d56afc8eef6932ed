"""Writing immutable Parquet files through DuckDB's COPY (streaming, field ids, snappy with
Parquet 2 encodings: half the size of DuckDB's default Parquet, and faster to read).

Physical column names are ``c<column id>`` and every column carries its column id as the
Parquet field id, so files never depend on user-chosen names. Files are written completely
before any catalog commit can reference them. On S3 storage the COPY writes into the
engine's local staging folder and each file is then uploaded whole through the file IO.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pyarrow as pa
from sqlglot import exp

from chronolake.catalog.base import new_id
from chronolake.catalog.model import ColumnInfo, DataFile
from chronolake.engine.file_columns import RID_PHYSICAL, ROW_ID_FIELD, physical_name
from chronolake.errors import InternalError
from chronolake.io.file_io import FileIO
from chronolake.settings import Settings
from chronolake.storage.layout import table_dir
from chronolake.storage.small_writer import (
    column_stats,
    fetch_small,
    may_be_small,
    write_small_file,
)


def sql_string(text: str) -> str:
    """A DuckDB string literal for an internal path, escaped by sqlglot, never by hand."""
    return exp.Literal.string(text).sql("duckdb")


__all__ = ["RID_PHYSICAL", "physical_name", "write_data_files", "write_small_table"]


def write_data_files(
    duck: duckdb.DuckDBPyConnection,
    io: FileIO,
    table_id: int,
    columns: Sequence[ColumnInfo],
    select_sql: str,
    with_row_ids: bool,
    settings: Settings,
    query_id: str | None = None,
    staging: Path | None = None,
) -> list[DataFile]:
    """Run ``select_sql`` (columns named c<id>, plus c_rowid) into new data files.

    A small result is written by pyarrow (see ``small_writer``), a large one by DuckDB's COPY
    (streaming, parallel, split at ``target_file_size``); on S3 the COPY writes below the
    local ``staging`` folder and the files are uploaded."""
    small = _write_small(duck, io, table_id, columns, select_sql, with_row_ids, query_id)
    if small is not None:
        return small
    rel_dir = table_dir(table_id)
    tag = uuid.uuid4().hex[:12]
    if io.is_local:
        target = io.local_dir(rel_dir)
    elif staging is not None:
        target = staging / f"copy-{tag}"
        target.mkdir()
    else:
        raise InternalError("Writing to S3 storage needs a local staging folder.")
    try:
        return _copy(
            duck, io, target, rel_dir, columns, select_sql, with_row_ids, settings, tag, query_id
        )
    finally:
        if not io.is_local:
            shutil.rmtree(target, ignore_errors=True)


def _copy(
    duck: duckdb.DuckDBPyConnection,
    io: FileIO,
    target: Path,
    rel_dir: str,
    columns: Sequence[ColumnInfo],
    select_sql: str,
    with_row_ids: bool,
    settings: Settings,
    tag: str,
    query_id: str | None,
) -> list[DataFile]:
    """The COPY into ``target`` (the table's folder, or a staging folder for S3)."""
    ids = ", ".join(f"{physical_name(c.column_id)}: {c.column_id}" for c in columns)
    if with_row_ids:
        ids += f", {RID_PHYSICAL}: {ROW_ID_FIELD}"
    rows = duck.execute(
        f"COPY ({select_sql}) TO {sql_string(str(target))} (FORMAT parquet, "
        "COMPRESSION snappy, PARQUET_VERSION V2, "
        f"FIELD_IDS {{{ids}}}, FILE_SIZE_BYTES {int(settings.target_file_size)}, "
        f"ROW_GROUP_SIZE {int(settings.row_group_size)}, "
        f"FILENAME_PATTERN 'data-{tag}-{{uuid}}', RETURN_STATS, APPEND)"
    ).fetchall()
    out = []
    by_name = {physical_name(c.column_id): c.column_id for c in columns}
    for path, count, size, _footer, col_stats, *_ in rows:
        rel = f"{rel_dir}/{os.path.basename(path)}"
        if int(count) == 0:
            if io.is_local:
                io.delete(rel)
            continue  # (a staged file goes with its staging folder)
        stats = []
        for key, st in (col_stats or {}).items():
            cid = by_name.get(key.strip('"'))
            if cid is None:
                continue
            nulls = st.get("null_count")
            stats.append((cid, st.get("min"), st.get("max"), None if nulls is None else int(nulls)))
        if not io.is_local:
            io.upload(path, rel)
        out.append(
            DataFile(
                file_id=new_id(),
                path=rel,
                row_count=int(count),
                byte_size=int(size),
                first_row_id=None,
                has_row_ids=with_row_ids,
                stats=tuple(stats),
                query_id=query_id,
            )
        )
    return out


def _write_small(
    duck: duckdb.DuckDBPyConnection,
    io: FileIO,
    table_id: int,
    columns: Sequence[ColumnInfo],
    select_sql: str,
    with_row_ids: bool,
    query_id: str | None,
) -> list[DataFile] | None:
    """The data files of a small result written by pyarrow; None to leave it to the COPY."""
    if not may_be_small([c.type for c in columns], select_sql):
        return None
    table = fetch_small(duck, select_sql)
    if table is None:
        return None
    return write_small_table(io, table_id, columns, table, with_row_ids, query_id)


def write_small_table(
    io: FileIO,
    table_id: int,
    columns: Sequence[ColumnInfo],
    table: pa.Table,
    with_row_ids: bool,
    query_id: str | None,
) -> list[DataFile] | None:
    """``table`` (columns c<id> [+ c_rowid]) as one data file written by pyarrow; None if a
    column's type or statistics are not ones that path writes exactly as DuckDB's COPY."""
    if table.num_rows == 0:
        return []
    by_name = {physical_name(c.column_id): c.column_id for c in columns}
    stats = column_stats(table, by_name)
    if stats is None:
        return None
    field_ids = dict(by_name)
    if with_row_ids:
        field_ids[RID_PHYSICAL] = ROW_ID_FIELD
    tag = uuid.uuid4().hex[:12]
    written = write_small_file(table, io, table_dir(table_id), tag, field_ids)
    if written is None:
        return None
    rel, size = written
    return [
        DataFile(
            file_id=new_id(),
            path=rel,
            row_count=table.num_rows,
            byte_size=size,
            first_row_id=None,
            has_row_ids=with_row_ids,
            stats=tuple(stats),
            query_id=query_id,
        )
    ]
