"""A session: one connection's state (current names, variables, query ids, transaction)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from sqlglot import exp

from chronolake.catalog.base import DEFAULT_DATABASE, DEFAULT_SCHEMA, Catalog
from chronolake.engine.scan import ScanViews
from chronolake.engine.session import open_duck
from chronolake.settings import Settings
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
    ) -> None:
        self.layout = layout
        self.catalog = catalog
        self.tenant = tenant
        self.settings = settings
        self.autocommit = autocommit
        self.root: Path = layout.tenant_root(tenant)
        self.duck: duckdb.DuckDBPyConnection = open_duck(
            self.root, layout.temp_dir(tenant), settings
        )
        self.views = ScanViews(self.duck, self.root)
        self.session_id = uuid.uuid4().hex[:16]
        self.database: str | None = DEFAULT_DATABASE
        self.schema: str | None = DEFAULT_SCHEMA
        self.variables: dict[str, exp.Expr] = {}
        self.query_ids: list[str] = []
        self.txn: Transaction | None = None
        self.registered: dict[str, str] = {}

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
            self.txn.discard_files(self.root)
            self.txn = None
        self.duck.close()


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
