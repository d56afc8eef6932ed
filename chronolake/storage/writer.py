"""Writing immutable Parquet files through DuckDB's COPY (streaming, zstd, field ids).

Physical column names are ``c<column id>`` and every column carries its column id as the
Parquet field id, so files never depend on user-chosen names. Files are written completely
before any catalog commit can reference them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from pathlib import Path

import duckdb
from sqlglot import exp

from chronolake.catalog.base import new_id
from chronolake.catalog.model import ColumnInfo, DataFile, DeleteFile
from chronolake.engine.scan import ROW_ID_FIELD
from chronolake.settings import Settings
from chronolake.storage.layout import delete_file_path, table_dir


def sql_string(text: str) -> str:
    """A DuckDB string literal for an internal path, escaped by sqlglot, never by hand."""
    return exp.Literal.string(text).sql("duckdb")


def physical_name(column_id: int) -> str:
    return f"c{column_id}"


RID_PHYSICAL = "c_rowid"


def write_data_files(
    duck: duckdb.DuckDBPyConnection,
    root: Path,
    table_id: int,
    columns: Sequence[ColumnInfo],
    select_sql: str,
    with_row_ids: bool,
    settings: Settings,
    query_id: str | None = None,
) -> list[DataFile]:
    """Run ``select_sql`` (columns named c<id>, plus c_rowid) into new data files."""
    rel_dir = table_dir(table_id)
    (root / rel_dir).mkdir(parents=True, exist_ok=True)
    ids = ", ".join(f"{physical_name(c.column_id)}: {c.column_id}" for c in columns)
    if with_row_ids:
        ids += f", {RID_PHYSICAL}: {ROW_ID_FIELD}"
    tag = uuid.uuid4().hex[:12]
    rows = duck.execute(
        f"COPY ({select_sql}) TO {sql_string(str(root / rel_dir))} (FORMAT parquet, "
        "COMPRESSION zstd, "
        f"FIELD_IDS {{{ids}}}, FILE_SIZE_BYTES {int(settings.target_file_size)}, "
        f"ROW_GROUP_SIZE {int(settings.row_group_size)}, "
        f"FILENAME_PATTERN 'data-{tag}-{{uuid}}', RETURN_STATS, APPEND)"
    ).fetchall()
    out = []
    by_name = {physical_name(c.column_id): c.column_id for c in columns}
    for path, count, size, _footer, col_stats, *_ in rows:
        if int(count) == 0:
            os.unlink(path)
            continue
        stats = []
        for key, st in (col_stats or {}).items():
            cid = by_name.get(key.strip('"'))
            if cid is None:
                continue
            nulls = st.get("null_count")
            stats.append((cid, st.get("min"), st.get("max"), None if nulls is None else int(nulls)))
        rel = os.path.relpath(path, root)
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


def write_delete_file(
    duck: duckdb.DuckDBPyConnection, root: Path, table_id: int, positions_sql: str
) -> DeleteFile:
    """Write the positions of ``positions_sql`` (columns pos, q), sorted.

    ``q`` is the query id of the statement that deleted the position: it lets one statement be
    reverted even inside a multi-statement transaction.
    """
    rel = delete_file_path(table_id)
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    rows = duck.execute(
        f"COPY (SELECT pos, q FROM ({positions_sql}) ORDER BY pos) "
        f"TO {sql_string(str(root / rel))} "
        "(FORMAT parquet, COMPRESSION zstd, RETURN_STATS)"
    ).fetchall()
    count, size = int(rows[0][1]), int(rows[0][2])
    return DeleteFile(new_id(), rel, count, size)


def write_delete_files(
    duck: duckdb.DuckDBPyConnection, root: Path, table_id: int, positions_sql: str
) -> dict[int, DeleteFile]:
    """One delete file per data file, all in one COPY: ``positions_sql`` yields (f, pos, q),
    f being the data file id. Returns the new delete file of each data file."""
    rel_dir = f"{table_dir(table_id)}/deletes-{uuid.uuid4().hex}"
    (root / rel_dir).mkdir(parents=True, exist_ok=True)
    rows = duck.execute(
        f"COPY (SELECT f, pos, q FROM ({positions_sql}) ORDER BY f, pos) "
        f"TO {sql_string(str(root / rel_dir))} (FORMAT parquet, COMPRESSION zstd, "
        "PARTITION_BY (f), FILENAME_PATTERN 'del-{uuid}', RETURN_STATS, OVERWRITE_OR_IGNORE)"
    ).fetchall()
    out = {}
    for path, count, size, _footer, _stats, partition, *_ in rows:
        out[int(partition["f"])] = DeleteFile(
            new_id(), os.path.relpath(path, root), int(count), int(size)
        )
    return out
