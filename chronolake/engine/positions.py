"""A lean view of every row of a table's files, for a DML statement to find its rows in.

The scan's row view applies deletes file by file and reads through ``schema=``, which leaves
DuckDB with no row count for the scan: a ``WHERE id IN (SELECT id FROM ids)`` then builds its
hash table on the whole table instead of on the ids. This view reads all files in one
``read_parquet(..., union_by_name=true)`` (an exact row count; only the columns a statement
uses are read) and includes the rows already deleted: the caller drops those from its few
matches afterwards. It depends on the data files only, so it is kept from one statement to
the next while they stay the same (a DELETE adds none).

Physical columns are named ``c<column id>`` in every file, so matching by name is matching
by column id; a column absent from a file reads as NULL, which is what the table's schema
says unless the column has a default: such tables (and any file set DuckDB cannot unify, or
a column no file has yet) get no view, and the caller uses the scan's row view.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import duckdb
from sqlglot import exp
from sqlglot.errors import SqlglotError

from chronolake.catalog.model import ColumnInfo, DataFile
from chronolake.engine.scan import FILE_COL, POS_COL, RID_COL
from chronolake.io.file_io import FileIO

VIEW = "__cl_dml_rows"
_RID_PHYSICAL = "c_rowid"  # the name the writer gives the explicit row id column


def _column(col: ColumnInfo) -> str:
    value = exp.cast(
        exp.column(f"c{col.column_id}", "d"), exp.DataType.build(col.type, dialect="duckdb")
    )
    return value.as_(exp.to_identifier(col.name, quoted=True)).sql("duckdb")


def all_rows_view(
    duck: duckdb.DuckDBPyConnection,
    io: FileIO,
    columns: Sequence[ColumnInfo],
    files: Sequence[DataFile],
) -> str | None:
    """The name of the view over every row of ``files`` (deleted ones included), with the
    columns of the scan's row view; None when the scan's row view must be used instead."""
    if not files or any(c.default_sql is not None for c in columns):
        return None
    state = [(f.path, f.file_id, f.first_row_id, f.has_row_ids) for f in files]
    key = hashlib.sha256(repr((io.url, state, tuple(columns))).encode()).hexdigest()
    found = duck.execute(f"SELECT getvariable('{VIEW}_key')").fetchall()
    if found and found[0][0] == key:
        return VIEW
    duck.execute(f"SET VARIABLE {VIEW}_key = NULL")
    duck.execute(
        f"SET VARIABLE {VIEW}_v = {{'f': ?::VARCHAR[], 'i': ?::BIGINT[], 'r': ?::BIGINT[]}}",
        [
            [io.uri(f.path) for f in files],
            [f.file_id for f in files],
            [f.first_row_id for f in files],
        ],
    )
    var = f"getvariable('{VIEW}_v')"
    idx = "d.file_index::BIGINT + 1"
    first_rid = f"list_extract({var}.r, {idx}) + d.file_row_number"
    rid = (
        f"coalesce(d.{_RID_PHYSICAL}, {first_rid})"
        if any(f.has_row_ids for f in files)
        else first_rid
    )
    try:
        duck.execute(
            f"CREATE OR REPLACE TEMP VIEW {VIEW} AS SELECT "
            + "".join(_column(c) + ", " for c in columns)
            + f"list_extract({var}.i, {idx}) AS {FILE_COL}, d.file_row_number AS {POS_COL}, "
            f"{rid} AS {RID_COL} FROM read_parquet({var}.f, union_by_name=true, "
            "file_row_number=true) AS d"
        )
    except (duckdb.Error, SqlglotError, ValueError):
        # e.g. a column no file has yet: the scan's row view knows the schema
        return None
    duck.execute(f"SET VARIABLE {VIEW}_key = ?", [key])
    return VIEW
