"""What the catalog says about one table's current data files: their paths and the column
statistics recorded for them (shared by the small-write tests), on either form of a lake."""

from __future__ import annotations

from typing import Any

from lake_forms import LakeSpec

_CURRENT = (
    "FROM cl_data_files f JOIN cl_tables t ON t.table_id = f.table_id AND t.end_snapshot IS NULL"
)


def column_stats(lake: LakeSpec, table: str) -> list[tuple[object, ...]]:
    """(row count, column position, min, max, null count) per file and column, in commit
    order."""
    return lake.catalog_rows(
        "SELECT f.row_count, c.position, s.min_value, s.max_value, s.null_count "
        f"{_CURRENT} JOIN cl_file_column_stats s ON f.file_id = s.file_id "
        "JOIN cl_columns c ON c.table_id = f.table_id AND c.column_id = s.column_id "
        "WHERE t.name = :name ORDER BY f.begin_snapshot, c.position",
        name=table,
    )


def paths(lake: LakeSpec, table: str) -> list[str]:
    """The table's data files (relative to the tenant's folder), in commit order."""
    rows = lake.catalog_rows(
        f"SELECT f.path {_CURRENT} WHERE t.name = :name ORDER BY f.begin_snapshot", name=table
    )
    return [str(r[0]) for r in rows]


def arrow_schema(lake: LakeSpec, path: str) -> Any:
    """The Arrow schema of a data file, its fields' metadata (field ids) included."""
    return lake.parquet_metadata(path).schema.to_arrow_schema()


def parquet_files(lake: LakeSpec) -> list[str]:
    """Every Parquet file of the default tenant."""
    return [p for p in lake.list_files() if p.endswith(".parquet")]
