"""Immutable values the catalog hands out: what a tenant's namespace and tables look like."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class Snapshot:
    snapshot_id: int
    commit_time_us: int
    schema_snapshot: int


@dataclass(frozen=True)
class ColumnInfo:
    column_id: int
    name: str
    type: str  # a DuckDB type
    position: int
    default_sql: str | None = None  # the default value as text, cast to ``type`` when read
    nullable: bool = True

    def default_value_text(self) -> str | None:
        return self.default_sql


@dataclass(frozen=True)
class TableInfo:
    table_id: int
    schema_id: int
    name: str
    columns: tuple[ColumnInfo, ...]
    created_snapshot: int | None  # None: created by a transaction that has not committed yet
    next_column_id: int
    view_sql: str | None = None  # a view: its query (Snowflake SQL), bound when used
    retention_days: int | None = None  # own DATA_RETENTION_TIME_IN_DAYS (None: inherited)
    transient: bool = False  # retention at most 1 day (CREATE TRANSIENT TABLE)

    def column(self, name: str) -> ColumnInfo | None:
        for col in self.columns:
            if col.name == name:
                return col
        return None

    def with_columns(self, columns: tuple[ColumnInfo, ...]) -> TableInfo:
        ordered = tuple(replace(c, position=i) for i, c in enumerate(columns))
        next_id = max([self.next_column_id, *(c.column_id + 1 for c in ordered)])
        return replace(self, columns=ordered, next_column_id=next_id)


@dataclass(frozen=True)
class SchemaInfo:
    schema_id: int
    database_id: int
    name: str
    retention_days: int | None = None  # own DATA_RETENTION_TIME_IN_DAYS (None: inherited)


@dataclass(frozen=True)
class DatabaseInfo:
    database_id: int
    name: str
    retention_days: int | None = None  # own DATA_RETENTION_TIME_IN_DAYS (None: inherited)


@dataclass(frozen=True)
class DeleteFile:
    delete_file_id: int
    path: str  # relative to the tenant's storage root
    delete_count: int  # positions of this row's part
    byte_size: int  # of the whole file (shared by the parts of one statement's file)
    # the data file id whose positions in the file are this row's (a file is shared by the
    # data files one statement deleted from); None: the whole file (written before parts)
    part: int | None = None


@dataclass(frozen=True)
class DataFile:
    file_id: int
    path: str  # relative to the tenant's storage root
    row_count: int
    byte_size: int
    first_row_id: int | None  # None: assigned at commit (or lazily inside a transaction)
    has_row_ids: bool  # the file stores row ids explicitly (UPDATE/MERGE images)
    delete: DeleteFile | None = None
    stats: tuple[tuple[int, str | None, str | None, int | None], ...] = field(
        default=(), compare=False
    )
    query_id: str | None = field(default=None, compare=False)  # the statement that wrote it
    # set when this row re-uses another file row's Parquet file (CLONE, restore): the file is
    # shared, and its rows are not new inserts
    cloned_from: int | None = field(default=None, compare=False)

    @property
    def live_rows(self) -> int:
        return self.row_count - (self.delete.delete_count if self.delete else 0)


def stored_bytes(files: Iterable[DataFile]) -> int:
    """Bytes of ``files`` and their delete files, a delete file shared by several of them
    (one statement's) counted once."""
    deletes = {f.delete.path: f.delete.byte_size for f in files if f.delete is not None}
    return sum(f.byte_size for f in files) + sum(deletes.values())


@dataclass(frozen=True)
class Namespace:
    """Databases, schemas and tables of a tenant at one snapshot (or inside a transaction),
    with the tenant's (account's) parameters, e.g. DATA_RETENTION_TIME_IN_DAYS -> '3'."""

    databases: dict[int, DatabaseInfo]
    schemas: dict[int, SchemaInfo]
    tables: dict[int, TableInfo]
    settings: dict[str, str] = field(default_factory=dict)

    def database_by_name(self, name: str) -> DatabaseInfo | None:
        for db in self.databases.values():
            if db.name == name:
                return db
        return None

    def schema_by_name(self, database_id: int, name: str) -> SchemaInfo | None:
        for sc in self.schemas.values():
            if sc.database_id == database_id and sc.name == name:
                return sc
        return None

    def table_by_name(self, schema_id: int, name: str) -> TableInfo | None:
        for t in self.tables.values():
            if t.schema_id == schema_id and t.name == name:
                return t
        return None

    def copy(self) -> Namespace:
        return Namespace(
            dict(self.databases), dict(self.schemas), dict(self.tables), dict(self.settings)
        )


@dataclass(frozen=True)
class TableDelta:
    """What a transaction did to one table's files, without needing its full file list."""

    added: tuple[DataFile, ...] = ()  # files written by this transaction
    replaced: tuple[tuple[DataFile, DataFile], ...] = ()  # (committed file, same with new deletes)
    removed: tuple[DataFile, ...] = ()  # committed files no longer visible

    def apply(self, committed: tuple[DataFile, ...]) -> tuple[DataFile, ...]:
        gone = {f.file_id for f in self.removed}
        new = {old.file_id: n for old, n in self.replaced}
        kept = tuple(new.get(f.file_id, f) for f in committed if f.file_id not in gone)
        return kept + self.added
