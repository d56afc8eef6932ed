"""Shared by the expiry / cleanup / orphan tests: a fake clock, a lake with a varied history,
and a brute-force reachability computed from the catalog, independent of maintenance/reach.py."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

import chronolake
from chronolake.catalog import schema as s
from chronolake.catalog.base import Catalog
from chronolake.catalog.history import dropped
from chronolake.catalog.retention import DAY_US, table_retention_days


class Clock:
    def __init__(self, start: dt.datetime | None = None) -> None:
        self.now = start or dt.datetime(2024, 1, 1, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(milliseconds=1)
        return self.now

    def sleep(self, days: float) -> None:
        self.now += dt.timedelta(days=days)


def build_history(con: chronolake.Connection, clock: Clock) -> None:
    """Tables with updates, deletes, compaction, a clone, a restore, drops old and new, and a
    table with time travel off, spread over days so part of the history is out of retention."""
    ex = con.execute
    ex("CREATE TABLE a (id INT, v VARCHAR)")
    for i in range(4):
        ex(f"INSERT INTO a SELECT range, 'a{i}' FROM range({i * 10}, {i * 10 + 10})")
    ex("DELETE FROM a WHERE id % 3 = 0")
    ex("UPDATE a SET v = 'u' WHERE id < 5")
    ex("CREATE TABLE gone (x INT)")  # dropped long ago: purged
    ex("INSERT INTO gone VALUES (1), (2)")
    ex("CREATE TABLE off (x INT) DATA_RETENTION_TIME_IN_DAYS = 0")
    ex("INSERT INTO off VALUES (1)")
    ex("INSERT INTO off VALUES (2)")
    ex("DELETE FROM off WHERE x = 1")
    clock.sleep(0.5)
    ex("DROP TABLE gone")
    ex("CREATE TABLE b CLONE a")  # shares a's files of now
    clock.sleep(2)  # everything above is out of a 1-day retention now
    con.compact_table("a", min_age_s=0, max_deleted_ratio=0.01, min_files=2)
    ex("DELETE FROM b WHERE id > 30")
    ex("INSERT INTO a VALUES (100, 'new')")
    ex("CREATE TABLE keep (x INT) DATA_RETENTION_TIME_IN_DAYS = 5")
    ex("INSERT INTO keep VALUES (1)")
    ex("DELETE FROM keep")
    ex("CREATE TABLE recent (x INT) DATA_RETENTION_TIME_IN_DAYS = 5")
    ex("INSERT INTO recent VALUES (7)")
    ex("DROP TABLE recent")  # still undroppable
    clock.sleep(2)
    ex("UPDATE a SET v = 'late' WHERE id = 100")
    ex("INSERT INTO b VALUES (200, 'b')")
    con.restore_table("b", "version:" + str(_latest(con) - 1))
    ex("INSERT INTO off VALUES (3)")
    clock.sleep(0.5)
    ex("DELETE FROM a WHERE id = 1")


def _latest(con: chronolake.Connection) -> int:
    row = con.execute("SELECT MAX(snapshot_id) FROM information_schema.snapshots").fetchone()
    return int(row[0])


def referenced(cat: Catalog, tenant: str) -> set[str]:
    out: set[str] = set()
    with cat.engine.connect() as c:
        for ft in (s.data_files, s.delete_files):
            out.update(
                str(p) for (p,) in c.execute(select(ft.c.path).where(ft.c.tenant_id == tenant))
            )
    return out


def _paths(cat: Catalog, tenant: str, table_id: int, snap: int) -> set[str]:
    out = set()
    for f in cat.table_files(tenant, table_id, snap):
        out.add(f.path)
        if f.delete is not None:
            out.add(f.delete.path)
    return out


def brute_needed(cat: Catalog, tenant: str, now_us: int) -> set[str]:
    """Every path visible at a point time travel, UNDROP or the latest state can reach."""
    latest = cat.latest_snapshot(tenant)
    with cat.engine.connect() as c:
        times = {
            int(a): int(b)
            for a, b in c.execute(
                select(s.snapshots.c.snapshot_id, s.snapshots.c.commit_time).where(
                    s.snapshots.c.tenant_id == tenant
                )
            )
        }
    needed: set[str] = set()
    ns = cat.namespace(tenant, latest)

    def exists(table_id: int, snap: int) -> bool:
        found = cat.snapshot(tenant, snap)
        return found is not None and table_id in cat.namespace(tenant, found).tables

    def points(cutoff: int) -> set[int]:
        pts = {cat.snapshot_at_time(tenant, cutoff, True), latest.snapshot_id}
        for v, t in times.items():
            if t >= cutoff:
                pts.update((v, v - 1, cat.snapshot_at_time(tenant, t, False)))
        return {p for p in pts if p >= 1}

    for tid, table in ns.tables.items():
        if table.view_sql is not None:
            continue
        cutoff = now_us - table_retention_days(cat, tenant, tid) * DAY_US
        for p in points(cutoff):
            if exists(tid, p):
                needed |= _paths(cat, tenant, tid, p)
        needed |= _paths(cat, tenant, tid, latest.snapshot_id)
    for d in dropped(cat, tenant, "TABLE", latest.snapshot_id):
        cutoff = now_us - table_retention_days(cat, tenant, d.object_id) * DAY_US
        if times[d.dropped_snapshot] < cutoff:
            continue
        for p in points(cutoff):
            if exists(d.object_id, p):
                needed |= _paths(cat, tenant, d.object_id, p)
        needed |= _paths(cat, tenant, d.object_id, latest.snapshot_id)
    return needed


def answers(con: chronolake.Connection, now_us: int) -> dict[tuple[str, int], list[Any]]:
    """Every live table's rows at every version reachable now (and the latest state)."""
    cat, tenant = con.session.catalog, con.tenant
    latest = cat.latest_snapshot(tenant).snapshot_id
    out: dict[tuple[str, int], list[Any]] = {}
    ns = cat.namespace(tenant, cat.latest_snapshot(tenant))
    for tid, table in ns.tables.items():
        cutoff = now_us - table_retention_days(cat, tenant, tid) * DAY_US
        versions = [
            v
            for v in range(1, latest + 1)
            if (snap := cat.snapshot(tenant, v)) is not None
            and snap.commit_time_us >= cutoff + 60_000_000  # clear of the edge
            and v >= (table.created_snapshot or 0)
        ]
        for v in versions:
            rows = con.execute(f"SELECT * FROM {table.name} AT(VERSION => {v})").fetchall()
            out[(table.name, v)] = sorted(rows, key=repr)
        out[(table.name, 0)] = sorted(
            con.execute(f"SELECT * FROM {table.name}").fetchall(), key=repr
        )
    return out
