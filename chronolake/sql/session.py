"""A session: one connection's state (current names, variables, query ids, transaction)."""

from __future__ import annotations

import datetime as dt
import uuid
import weakref
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

import duckdb
from sqlglot import exp

from chronolake.catalog.base import DEFAULT_DATABASE, DEFAULT_SCHEMA, Catalog
from chronolake.engine.guard import StatementGuard
from chronolake.engine.scan import ScanViews
from chronolake.engine.session import open_duck
from chronolake.engine.spill import close_spill_dir, open_spill_dir
from chronolake.errors import ProgrammingError
from chronolake.settings import Settings
from chronolake.sql.binding.temp_tables import move_temp_tables
from chronolake.storage.layout import LakeLayout
from chronolake.txn.transaction import Transaction


def to_us(t: dt.datetime) -> int:
    if t.tzinfo is None:
        raise ValueError("clock() must return an aware datetime")
    delta = t - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(us: int) -> dt.datetime:
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=us)


class Session:
    def __init__(
        self,
        layout: LakeLayout,
        catalog: Catalog,
        tenant: str,
        settings: Settings,
        autocommit: bool,
        read_only: bool = False,
    ) -> None:
        self.layout = layout
        self.read_only = read_only
        self.role: str | None = None  # sql/roles.py: None allows everything (embedded use)
        self.catalog = catalog
        self.tenant = tenant
        self.settings = settings
        self.autocommit = autocommit
        self.io = layout.tenant_io(tenant)  # every file of the tenant, through chronolake.io
        self.root = self.io.duck_root().rstrip("/")  # the prefix error messages leave out
        self.session_id = uuid.uuid4().hex[:16]
        self.spill_dir = open_spill_dir(settings, self.session_id)
        # removed at close(), or when a session never closed is collected or the process exits
        self._remove_spill_dir = weakref.finalize(self, close_spill_dir, self.spill_dir)
        self._engines = 0  # engines opened so far (each has its own spill subfolder)
        try:
            self.duck: duckdb.DuckDBPyConnection = self._open_duck("UTC")
        except BaseException:
            self._remove_spill_dir()
            raise
        self.views = ScanViews(self.duck, self.io)
        self.guard = StatementGuard(self.duck)
        self.database: str | None = DEFAULT_DATABASE
        self.schema: str | None = DEFAULT_SCHEMA
        self.variables: dict[str, exp.Expr] = {}
        self.query_ids: list[str] = []
        self.txn: Transaction | None = None
        self.registered: dict[str, str] = {}  # user name -> internal DuckDB name
        self.registered_objects: dict[str, Any] = {}  # internal name -> Arrow table
        self.statement_objects: list[str] = []  # registered for the running statement only
        self.timezone = "UTC"
        self.parameters: dict[str, str | None] = {}
        # temporary tables (binding/temp_tables.py): (db, schema, name) -> TempTable; their
        # rows live in this session's DuckDB only, so they end with it
        self.temp_tables: dict[tuple[str, str, str], Any] = {}
        self.temp_undo: dict[tuple[str, str, str], Any] = {}  # statements/temp_undo.py

    def _open_duck(self, zone: str) -> duckdb.DuckDBPyConnection:
        # an engine of its own spill subfolder: one closing deletes its temp files by name
        self._engines += 1
        folder = self.spill_dir / f"engine-{self._engines}"
        folder.mkdir(mode=0o700)
        self.engine_dir = folder  # the engine may write here (and stages S3 uploads here)
        return open_duck(self.io, folder, self.settings, zone, not self.read_only)

    def register(self, internal: str, table: Any) -> None:
        self.duck.register(internal, table)
        self.registered_objects[internal] = table

    def unregister(self, internal: str) -> None:
        self.duck.unregister(internal)
        self.registered_objects.pop(internal, None)

    def drop_statement_objects(self) -> None:
        for name in self.statement_objects:
            self.duck.unregister(name)
        self.statement_objects.clear()
        self.views.trim()

    def set_timezone(self, zone: str) -> None:
        """ALTER SESSION SET TIMEZONE: the engine's settings are locked, so reopen it."""
        try:
            zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ProgrammingError(
                f"Invalid value [{zone}] for parameter 'TIMEZONE': use an IANA time zone name "
                "such as 'UTC' or 'America/Los_Angeles'."
            ) from None
        old = self.duck
        self.duck = self.guard.duck = self._open_duck(zone)
        self.views = ScanViews(self.duck, self.io)
        for internal, table in self.registered_objects.items():
            self.duck.register(internal, table)
        held = [t.internal for t in self.temp_tables.values()]
        for saved in self.temp_undo.values():  # statements/temp_undo.Saved
            held += [x for x in (saved.table and saved.table.internal, saved.rows) if x]
        move_temp_tables(held, old, self.duck)
        old.close()
        self.timezone = zone

    def now(self) -> dt.datetime:
        t = self.settings.clock()
        if t.tzinfo is None:
            raise ValueError("clock() must return an aware datetime (UTC)")
        return t.astimezone(dt.UTC)

    def begin(self, explicit: bool) -> Transaction:
        read = self.catalog.latest_snapshot(self.tenant)
        return Transaction(self.catalog, self.tenant, read, explicit)

    def close(self) -> None:
        if self.txn is not None:
            self.txn.discard_files(self.io)
            self.txn = None
        self.duck.close()
        self._remove_spill_dir()


@dataclass
class Ctx:
    """What one statement runs with."""

    session: Session
    txn: Transaction
    start: dt.datetime
    query_id: str
    query_type: str = "UNKNOWN"
    rows_inserted: int = 0
    rows_updated: int = 0
    rows_deleted: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def database(self) -> str | None:
        return self.session.database

    @property
    def schema(self) -> str | None:
        return self.session.schema

    @property
    def start_us(self) -> int:
        return to_us(self.start)
