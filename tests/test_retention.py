"""Retention settings through the Python API: versioned values, the effective retention other
code calls (expiry, cleanup, storage metrics), and the catalog migration adding them."""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

from lake_forms import LakeSpec

import chronolake
from chronolake.catalog.backends import open_catalog_engine
from chronolake.catalog.base import Catalog
from chronolake.catalog.retention import (
    DAY_US,
    oldest_reachable_us,
    table_retention_days,
)
from chronolake.catalog.schema import CATALOG_SCHEMA_VERSION
from chronolake.settings import Settings
from chronolake.storage.layout import LakeLayout


def _clock() -> tuple[Callable[[], dt.datetime], Callable[[float], None]]:
    now = [dt.datetime(2024, 1, 1, tzinfo=dt.UTC)]

    def clock() -> dt.datetime:
        now[0] += dt.timedelta(milliseconds=1)
        return now[0]

    def sleep(days: float) -> None:
        now[0] += dt.timedelta(days=days)

    return clock, sleep


@contextlib.contextmanager
def _catalog(lake: LakeSpec) -> Iterator[Catalog]:
    engine = open_catalog_engine(lake.catalog_url, Settings(), read_only=True)
    try:
        yield Catalog(engine)
    finally:
        engine.dispose()


def test_changes_are_snapshots_and_versioned(lake_spec: LakeSpec) -> None:
    clock, sleep = _clock()
    con = lake_spec.connect(clock=clock)
    con.execute("CREATE TABLE t (id INT)")
    before = con.execute("SELECT MAX(snapshot_id) FROM information_schema.snapshots").fetchone()
    con.execute("ALTER ACCOUNT SET DATA_RETENTION_TIME_IN_DAYS = 7")
    con.execute("ALTER ACCOUNT SET DATA_RETENTION_TIME_IN_DAYS = 7")  # no change: no snapshot
    sleep(1)
    con.execute("ALTER SCHEMA public SET DATA_RETENTION_TIME_IN_DAYS = 3")
    ops = con.execute(
        "SELECT operation FROM information_schema.snapshots WHERE snapshot_id > ? "
        "ORDER BY snapshot_id",
        [before[0] if before else 0],
    ).fetchall()
    assert ops == [("ALTER_ACCOUNT",), ("ALTER_SCHEMA",)]
    mid_us = int((clock() - dt.timedelta(hours=12)).timestamp() * 1_000_000)
    con.close()

    tenant = "default"
    with _catalog(lake_spec) as catalog:
        latest = catalog.latest_snapshot(tenant)
        ns = catalog.namespace(tenant, latest)
        table = next(t for t in ns.tables.values() if t.name == "T")
        assert table_retention_days(catalog, tenant, table.table_id) == 3
        # as the catalog said half a day ago: the account's 7 (the schema had no value yet)
        assert table_retention_days(catalog, tenant, table.table_id, mid_us) == 7
    assert oldest_reachable_us(10 * DAY_US, 3) == 7 * DAY_US


def test_dropped_table_retention_follows_its_schema(lake_spec: LakeSpec) -> None:
    clock, _ = _clock()
    con = lake_spec.connect(clock=clock)
    con.execute("CREATE SCHEMA s DATA_RETENTION_TIME_IN_DAYS = 4")
    con.execute("CREATE TABLE s.t (id INT)")
    con.execute("CREATE TABLE s.u (id INT) DATA_RETENTION_TIME_IN_DAYS = 2")
    con.execute("DROP TABLE s.t")
    con.execute("DROP SCHEMA s")  # u dropped with its schema
    con.execute("ALTER ACCOUNT SET MIN_DATA_RETENTION_TIME_IN_DAYS = 3")
    con.close()
    ids = dict(lake_spec.catalog_rows("SELECT name, table_id FROM cl_tables"))
    with _catalog(lake_spec) as catalog:
        # the dropped schema's value; u's own 2, raised to 3
        assert table_retention_days(catalog, "default", ids["T"]) == 4
        assert table_retention_days(catalog, "default", ids["U"]) == 3


def test_catalog_migration_adds_retention(tmp_path: Path) -> None:
    clock, _ = _clock()
    con = chronolake.connect(tmp_path, clock=clock)
    con.execute("CREATE TABLE t (id INT)")
    con.execute("INSERT INTO t VALUES (1)")
    con.close()
    db = sqlite3.connect(LakeLayout(tmp_path).catalog_path)
    for table in ("cl_databases", "cl_schemas", "cl_tables"):
        db.execute(f"ALTER TABLE {table} DROP COLUMN retention_days")
    db.execute("DROP TABLE cl_tenant_settings")
    db.execute("UPDATE cl_meta SET value = '1' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    con = chronolake.connect(tmp_path, clock=clock)
    con.execute("ALTER TABLE t SET DATA_RETENTION_TIME_IN_DAYS = 5")
    con.execute("ALTER ACCOUNT SET MIN_DATA_RETENTION_TIME_IN_DAYS = 2")
    rows = con.execute("SHOW TABLES").fetchall()
    assert [(r[1], r[5], r[7]) for r in rows] == [("T", 1, "5")]
    con.close()
    version = sqlite3.connect(LakeLayout(tmp_path).catalog_path).execute(
        "SELECT value FROM cl_meta WHERE key = 'schema_version'"
    )
    assert version.fetchone() == (str(CATALOG_SCHEMA_VERSION),)
