"""What each data file physically holds: its column names and their engine types.

chronolake writes a table's column ``id`` as the Parquet column ``c<id>`` (``physical_name``),
so a file written before a column was added lacks that column, and a file written by an
UPDATE carries the explicit row id column ``c_rowid``. The scan reads each file by these
names (which keeps the engine's own row-count estimates, see ``scan``), so it needs to know
which of them a file has: the file's footer says, read once per process because data files
never change once written.
"""

from __future__ import annotations

import re

import duckdb

from chronolake.lru import LRU

ROW_ID_FIELD = 2_147_483_000  # Parquet field id of the explicit row id column
RID_PHYSICAL = "c_rowid"
_PHYSICAL = re.compile(r"c[0-9]+")

# (physical column name, engine type as DuckDB prints it), in file order
FileColumns = tuple[tuple[str, str], ...]

_FILES: LRU[FileColumns] = LRU(200_000)
_TYPES: LRU[str] = LRU(10_000)


def physical_name(column_id: int) -> str:
    return f"c{column_id}"


def file_columns(duck: duckdb.DuckDBPyConnection, path: str) -> FileColumns:
    """The columns of the Parquet file at ``path`` (an absolute path or s3:// URL), from its
    footer (cached by path: files never change)."""
    found = _FILES.get(path)
    if found is None:
        rel = duck.read_parquet(path)
        found = tuple(zip(rel.columns, (str(t) for t in rel.types), strict=True))
        _FILES.put(path, found)
    return found


def engine_type(duck: duckdb.DuckDBPyConnection, type_text: str) -> str:
    """A declared column type as DuckDB prints it, to compare with a file's column type."""
    found = _TYPES.get(type_text)
    if found is None:
        found = str(duck.type(type_text))
        _TYPES.put(type_text, found)
    return found


def written_by_name(columns: FileColumns) -> bool:
    """True when every column of the file has a name chronolake's writer gives (``c<id>`` or
    the row id), so it can be read by name; other files are read through their field ids."""
    return all(_PHYSICAL.fullmatch(n) or n == RID_PHYSICAL for n, _ in columns)
