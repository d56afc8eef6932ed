"""What the catalog says about one table's current data files: their paths and the column
statistics recorded for them (shared by the small-write tests)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

_CURRENT = (
    "FROM cl_data_files f JOIN cl_tables t ON t.table_id = f.table_id AND t.end_snapshot IS NULL"
)


def column_stats(lake: Path, table: str) -> list[tuple[object, ...]]:
    """(row count, column position, min, max, null count) per file and column, in commit
    order."""
    with sqlite3.connect(lake / "catalog.sqlite") as db:
        return db.execute(
            "SELECT f.row_count, c.position, s.min_value, s.max_value, s.null_count "
            f"{_CURRENT} JOIN cl_file_column_stats s ON f.file_id = s.file_id "
            "JOIN cl_columns c ON c.table_id = f.table_id AND c.column_id = s.column_id "
            "WHERE t.name = ? ORDER BY f.begin_snapshot, c.position",
            (table,),
        ).fetchall()


def paths(lake: Path, table: str) -> list[Path]:
    """The table's data files, in commit order."""
    with sqlite3.connect(lake / "catalog.sqlite") as db:
        rows = db.execute(
            f"SELECT f.path {_CURRENT} WHERE t.name = ? ORDER BY f.begin_snapshot", (table,)
        ).fetchall()
    return [lake / "data" / "default" / r[0] for r in rows]
