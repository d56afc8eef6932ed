"""INFORMATION_SCHEMA.TABLE_STORAGE_METRICS (SEMANTICS 9, 11): the four byte columns of all
tables partition the bytes of the files the catalog references, each file counted once, for
the table that first wrote it, also when clones and restores share files."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from lake_forms import LakeSpec

import chronolake
from chronolake.maintenance import cleanup, expire
from chronolake.maintenance.reach import reachability
from chronolake.sql.session import to_us

BYTES = ("active_bytes", "time_travel_bytes", "failsafe_bytes", "retained_for_clone_bytes")


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(milliseconds=1)
        return self.now

    def days(self, n: float) -> None:
        self.now += dt.timedelta(days=n)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def con(lake_spec: LakeSpec, clock: Clock) -> Any:
    c = lake_spec.connect(clock=clock)
    yield c
    c.close()


def metrics(con: Any) -> dict[tuple[str, bool], dict[str, Any]]:
    """Rows by (name, dropped); at most one dropped version per name in these tests."""
    cur = con.execute("SELECT * FROM information_schema.table_storage_metrics")
    names = [str(d[0]).lower() for d in cur.description]
    out = {}
    for row in cur.fetchall():
        r = dict(zip(names, row, strict=True))
        key = (r["table_name"], r["table_dropped"] is not None)
        assert key not in out
        out[key] = r
    return out


def referenced_bytes_on_disk(lake: LakeSpec) -> int:
    """Sum of the sizes of the files under the tenant prefix that the catalog references."""
    paths = {r[0] for r in lake.catalog_rows("SELECT path FROM cl_data_files")}
    paths |= {r[0] for r in lake.catalog_rows("SELECT path FROM cl_delete_files")}
    files = lake.list_files()
    return sum(files[p] for p in paths if p in files)


def check_partition(con: Any, lake: LakeSpec) -> dict[tuple[str, bool], dict[str, Any]]:
    rows = metrics(con)
    total = sum(r[b] for r in rows.values() for b in BYTES)
    assert total == referenced_bytes_on_disk(lake)
    for r in rows.values():
        assert all(r[b] >= 0 for b in BYTES)
    try:  # expiry's reachability (maintenance), when present, must agree with FAILSAFE
        from chronolake.maintenance.reach import reachability
    except ImportError:  # pragma: no cover
        return rows
    session = con._session
    found = reachability(session.catalog, session.tenant, to_us(session.now()))
    files = lake.list_files()
    unneeded = sum(found.referenced[p][1] for p in found.unneeded if p in files)
    assert unneeded == sum(r["failsafe_bytes"] for r in rows.values())
    return rows


def total(r: dict[str, Any]) -> int:
    return sum(r[b] for b in BYTES)


def test_columns_are_snowflakes(con: Any) -> None:
    con.execute("CREATE TABLE t (id INT)")
    con.execute("CREATE VIEW v AS SELECT * FROM t")
    cur = con.execute("SELECT * FROM information_schema.table_storage_metrics")
    assert [str(d[0]).upper() for d in cur.description] == [
        "TABLE_CATALOG",
        "TABLE_SCHEMA",
        "TABLE_NAME",
        "ID",
        "CLONE_GROUP_ID",
        "IS_TRANSIENT",
        "ACTIVE_BYTES",
        "TIME_TRAVEL_BYTES",
        "FAILSAFE_BYTES",
        "RETAINED_FOR_CLONE_BYTES",
        "DELETED",
        "TABLE_CREATED",
        "TABLE_DROPPED",
        "TABLE_ENTERED_FAILSAFE",
        "CATALOG_CREATED",
        "CATALOG_DROPPED",
        "SCHEMA_CREATED",
        "SCHEMA_DROPPED",
        "COMMENT",
    ]
    rows = cur.fetchall()
    assert len(rows) == 1  # views have no storage row
    (r,) = rows
    assert r[:3] == ("MAIN", "PUBLIC", "T")
    assert r[3] == r[4]  # not a clone: its own clone group
    assert r[5] == "NO" and r[6:10] == (0, 0, 0, 0) and r[10] is False


def test_updates_move_bytes_from_time_travel_to_failsafe(
    con: Any, clock: Clock, lake_spec: LakeSpec
) -> None:
    lake = lake_spec
    con.execute("CREATE TABLE t (id INT, v VARCHAR)")
    con.execute("INSERT INTO t SELECT range, 'v' || range FROM range(1000)")
    first = check_partition(con, lake)[("T", False)]
    assert first["active_bytes"] > 0 and first["time_travel_bytes"] == 0
    con.execute("DELETE FROM t WHERE id < 10")
    con.execute("UPDATE t SET v = 'w' WHERE id >= 990")
    con.execute("INSERT INTO t VALUES (5000, 'x'), (5001, 'y')")
    con.execute("DELETE FROM t WHERE id = 5000")
    r = check_partition(con, lake)[("T", False)]
    assert r["time_travel_bytes"] > 0 and r["failsafe_bytes"] == 0
    assert r["retained_for_clone_bytes"] == 0
    clock.days(1.5)  # past the default retention of 1 day
    after = check_partition(con, lake)[("T", False)]
    assert after["time_travel_bytes"] == 0
    assert after["failsafe_bytes"] == r["time_travel_bytes"]
    assert after["active_bytes"] == r["active_bytes"]


def test_longer_retention_keeps_time_travel(con: Any, clock: Clock, lake_spec: LakeSpec) -> None:
    con.execute("CREATE TABLE t (id INT) DATA_RETENTION_TIME_IN_DAYS = 5")
    con.execute("INSERT INTO t VALUES (1), (2), (3)")
    con.execute("DELETE FROM t WHERE id = 1")
    con.execute("DELETE FROM t WHERE id = 2")  # replaces the first delete file
    before = check_partition(con, lake_spec)[("T", False)]
    clock.days(3)
    r = check_partition(con, lake_spec)[("T", False)]
    assert r == before and r["time_travel_bytes"] > 0
    con.execute("ALTER TABLE t SET DATA_RETENTION_TIME_IN_DAYS = 1")
    r = check_partition(con, lake_spec)[("T", False)]
    assert r["time_travel_bytes"] == 0 and r["failsafe_bytes"] == before["time_travel_bytes"]


def test_clone_shares_files_counted_once(con: Any, clock: Clock, lake_spec: LakeSpec) -> None:
    lake = lake_spec
    con.execute("CREATE TABLE t (id INT, v VARCHAR)")
    con.execute("INSERT INTO t SELECT range, 'v' || range FROM range(1000)")
    con.execute("DELETE FROM t WHERE id < 10")
    before = check_partition(con, lake)
    con.execute("CREATE TABLE c CLONE t")
    rows = check_partition(con, lake)
    # The clone writes no file: its shared data and delete files count for T only.
    assert rows[("C", False)]["active_bytes"] == 0 and total(rows[("C", False)]) == 0
    assert rows[("T", False)] == before[("T", False)]
    assert rows[("C", False)]["clone_group_id"] == rows[("T", False)]["id"]
    shared = rows[("T", False)]["active_bytes"]

    # T forgets its rows: still active for the clone, so no longer T's time travel but
    # retained for the clone once T's retention has passed.
    con.execute("TRUNCATE TABLE t")
    rows = check_partition(con, lake)
    assert rows[("T", False)]["active_bytes"] == 0
    assert (
        rows[("T", False)]["time_travel_bytes"]
        == shared + before[("T", False)]["time_travel_bytes"]
    )
    con.execute("INSERT INTO c VALUES (-1, 'mine')")
    clock.days(2)
    rows = check_partition(con, lake)
    t, c = rows[("T", False)], rows[("C", False)]
    assert t["retained_for_clone_bytes"] == shared
    assert t["time_travel_bytes"] == 0
    assert c["active_bytes"] > 0 and c["retained_for_clone_bytes"] == 0

    # Dropping the clone: within its retention the files are in the clone's time travel ...
    con.execute("DROP TABLE c")
    rows = check_partition(con, lake)
    c = rows[("C", True)]
    assert c["table_dropped"] is not None and c["deleted"] is False
    assert c["time_travel_bytes"] > 0 and c["active_bytes"] == 0
    assert rows[("T", False)]["retained_for_clone_bytes"] == shared
    # ... and past it nobody needs them any more.
    clock.days(2)
    rows = check_partition(con, lake)
    c, t = rows[("C", True)], rows[("T", False)]
    assert c["deleted"] is True and c["table_entered_failsafe"] is not None
    assert c["time_travel_bytes"] == 0 and c["failsafe_bytes"] > 0
    assert t["retained_for_clone_bytes"] == 0 and t["failsafe_bytes"] >= shared


def test_drop_and_create_or_replace(con: Any, clock: Clock, lake_spec: LakeSpec) -> None:
    lake = lake_spec
    con.execute("CREATE TABLE t (id INT)")
    con.execute("INSERT INTO t SELECT range FROM range(100)")
    old = check_partition(con, lake)[("T", False)]
    con.execute("CREATE OR REPLACE TABLE t AS SELECT range AS id FROM range(50)")
    rows = check_partition(con, lake)
    dropped, new = rows[("T", True)], rows[("T", False)]
    assert dropped["id"] == old["id"] and dropped["id"] != new["id"]
    assert dropped["time_travel_bytes"] == old["active_bytes"] and dropped["active_bytes"] == 0
    assert dropped["deleted"] is False and dropped["table_entered_failsafe"] is None
    assert new["active_bytes"] > 0
    con.execute("CREATE TABLE gone (id INT)")
    con.execute("INSERT INTO gone VALUES (1)")
    con.execute("DROP TABLE gone")
    assert check_partition(con, lake)[("GONE", True)]["time_travel_bytes"] > 0
    clock.days(1.5)
    rows = check_partition(con, lake)
    assert rows[("T", True)]["failsafe_bytes"] == old["active_bytes"]
    assert rows[("T", True)]["deleted"] is True
    assert rows[("GONE", True)]["time_travel_bytes"] == 0
    assert rows[("GONE", True)]["failsafe_bytes"] > 0
    # DELETED agrees with UNDROP: past retention the table cannot come back.
    with pytest.raises(chronolake.Error, match="purged"):
        con.execute("UNDROP TABLE gone")


def test_restore_shares_files_within_the_table(con: Any, clock: Clock, lake_spec: LakeSpec) -> None:
    lake = lake_spec
    con.execute("CREATE TABLE t (id INT)")
    con.execute("INSERT INTO t SELECT range FROM range(100)")
    good = con.execute("SELECT MAX(snapshot_id) FROM information_schema.snapshots").fetchone()
    con.execute("DELETE FROM t WHERE id < 50")
    con.execute(f"RESTORE TABLE t TO AT(VERSION => {good[0]})")
    r = check_partition(con, lake)[("T", False)]
    assert r["active_bytes"] > 0 and r["retained_for_clone_bytes"] == 0
    clock.days(2)
    after = check_partition(con, lake)[("T", False)]
    assert after["active_bytes"] == r["active_bytes"]
    assert after["failsafe_bytes"] == r["time_travel_bytes"]


def test_timeline_and_api(con: Any, lake_spec: LakeSpec) -> None:
    con.execute("CREATE TABLE t (id INT)")
    con.execute("INSERT INTO t SELECT range FROM range(100)")
    con.execute("INSERT INTO t SELECT range FROM range(100)")
    con.execute("TRUNCATE TABLE t")
    report = con.storage_metrics()
    points = report.timeline
    assert [p.snapshot_id for p in points] == sorted(p.snapshot_id for p in points)
    assert points[-1].active_bytes == 0
    assert points[-2].active_bytes == sum(p.bytes_added for p in points[:-1]) > 0
    assert points[-1].referenced_bytes == referenced_bytes_on_disk(lake_spec)
    assert sum(p.new_file_bytes for p in points) == points[-1].referenced_bytes
    (t,) = report.tables
    assert t.total == referenced_bytes_on_disk(lake_spec)


def test_undrop_within_retention_makes_bytes_active_again(con: Any, lake_spec: LakeSpec) -> None:
    con.execute("CREATE TABLE t (id INT)")
    con.execute("INSERT INTO t SELECT range FROM range(10)")
    active = check_partition(con, lake_spec)[("T", False)]["active_bytes"]
    con.execute("DROP TABLE t")
    r = check_partition(con, lake_spec)[("T", True)]
    assert (r["active_bytes"], r["time_travel_bytes"], r["deleted"]) == (0, active, False)
    con.execute("UNDROP TABLE t")
    rows = check_partition(con, lake_spec)
    assert list(rows) == [("T", False)] and rows[("T", False)]["active_bytes"] == active


def test_files_cleanup_removed_count_nowhere(con: Any, clock: Clock, lake_spec: LakeSpec) -> None:
    lake = lake_spec
    con.execute("CREATE TABLE t (id INT)")
    con.execute("INSERT INTO t SELECT range FROM range(100)")
    con.execute("CREATE TABLE c CLONE t")
    con.execute("TRUNCATE TABLE t")
    con.execute("INSERT INTO t VALUES (1), (2)")
    con.execute("DELETE FROM t WHERE id = 1")
    con.execute("DELETE FROM t WHERE id = 2")  # the first delete file leaves the table
    clock.days(2)
    rows = check_partition(con, lake)
    failsafe = rows[("T", False)]["failsafe_bytes"]
    shared = rows[("T", False)]["retained_for_clone_bytes"]
    assert failsafe > 0 and shared > 0
    # FAILSAFE is exactly what expiry finds unneeded (the same retention cuts).
    session = con._session
    found = reachability(session.catalog, session.tenant, to_us(session.now()))
    unneeded = sum(found.referenced[p][1] for p in found.unneeded)
    assert unneeded == sum(r["failsafe_bytes"] for r in rows.values())
    expire(con)
    cleanup(con, grace=0)
    rows = check_partition(con, lake)  # sums only the referenced files still on disk
    assert rows[("T", False)]["failsafe_bytes"] == 0
    assert rows[("T", False)]["retained_for_clone_bytes"] == shared  # the clone still uses it


def file_sizes(con: Any, sql: str) -> int:
    """Sum of byte sizes of catalog rows (``sql`` selects byte_size from a catalog table)."""
    with con._session.catalog.engine.connect() as c:
        return sum(int(r[0]) for r in c.exec_driver_sql(sql))


def test_fully_deleted_file_is_time_travel_not_active(
    con: Any, clock: Clock, lake_spec: LakeSpec
) -> None:
    lake = lake_spec
    con.execute("CREATE TABLE t (id INT)")
    con.execute("INSERT INTO t SELECT range FROM range(1000)")
    con.execute("INSERT INTO t SELECT range FROM range(1000, 1010)")
    kept = file_sizes(con, "SELECT byte_size FROM cl_data_files WHERE row_count = 1000")
    gone = file_sizes(con, "SELECT byte_size FROM cl_data_files WHERE row_count = 10")
    con.execute("DELETE FROM t WHERE id >= 1000")  # every row of the second file
    marks = file_sizes(con, "SELECT byte_size FROM cl_delete_files")
    r = check_partition(con, lake)[("T", False)]
    assert r["active_bytes"] == kept
    assert r["time_travel_bytes"] == gone + marks
    # past retention nothing reads them, but the latest snapshot still references them
    # (cleanup keeps them until compaction rewrites the file): still time travel
    clock.days(1.5)
    r = check_partition(con, lake)[("T", False)]
    assert (r["active_bytes"], r["time_travel_bytes"]) == (kept, gone + marks)
    assert r["failsafe_bytes"] == r["retained_for_clone_bytes"] == 0


def test_rows_a_clone_still_reads_are_retained_for_it(
    con: Any, clock: Clock, lake_spec: LakeSpec
) -> None:
    lake = lake_spec
    con.execute("CREATE TABLE t (id INT)")
    con.execute("INSERT INTO t SELECT range FROM range(1000)")
    shared = file_sizes(con, "SELECT byte_size FROM cl_data_files")
    con.execute("CREATE TABLE c CLONE t")
    con.execute("DELETE FROM t WHERE id >= 0")  # t deletes every row; the clone keeps them
    marks = file_sizes(con, "SELECT byte_size FROM cl_delete_files")
    rows = check_partition(con, lake)
    t, c = rows[("T", False)], rows[("C", False)]
    assert (t["active_bytes"], t["time_travel_bytes"]) == (0, shared + marks)
    assert total(c) == 0  # the clone wrote nothing
    clock.days(2)  # past t's retention: the data file is kept only because c reads it
    t = check_partition(con, lake)[("T", False)]
    assert t["retained_for_clone_bytes"] == shared
    assert (t["active_bytes"], t["time_travel_bytes"], t["failsafe_bytes"]) == (0, marks, 0)
    assert con.execute("SELECT COUNT(*) FROM c").fetchone() == (1000,)
