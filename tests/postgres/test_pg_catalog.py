"""What only a PostgreSQL catalog does: per-tenant commit locks, the database clock, its
errors, and migrations on an existing catalog database."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from services.postgres import Database, PostgresServer, free_port

import chronolake
from chronolake.catalog.errors import catalog_error, is_lost_race
from chronolake.catalog.schema import CATALOG_SCHEMA_VERSION
from chronolake.maintenance import remove_orphans

SAFETY_TIMEOUT_S = 120.0  # only ends a hung test; never decides what it checks


def sql(db: Database, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows of ``query`` run as the database's owner (autocommit)."""
    with psycopg.connect(
        host=db.host, port=db.port, user=db.user, password=db.password, dbname=db.name
    ) as con:
        con.autocommit = True
        cur = con.execute(query, params)
        return cur.fetchall() if cur.description else []


class Gate:
    """An ``on_step`` hook that holds a commit at "commit.write" (its catalog transaction
    open, the tenant's lock held) until released."""

    def __init__(self) -> None:
        self.armed = False  # set once the connection's set-up commits are done
        self.held, self.release = threading.Event(), threading.Event()

    def __call__(self, step: str) -> None:
        if self.armed and step == "commit.write":
            self.held.set()
            assert self.release.wait(SAFETY_TIMEOUT_S), "the test never released the commit"


@contextmanager
def in_thread(fn: Callable[[], Any]) -> Iterator[dict[str, Any]]:
    """Run ``fn`` in a thread; the dict gets its "result" or "error"; joined at exit."""
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["result"] = fn()
        except BaseException as e:
            out["error"] = e

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield out
    finally:
        thread.join(SAFETY_TIMEOUT_S)
        assert not thread.is_alive(), "the thread hung"


def connect(tmp_path: Path, url: str, **kw: Any) -> chronolake.Connection:
    return chronolake.connect(url, tmp_path / "lake", **kw)


def held_commit(tmp_path: Path, url: str, tenant: str) -> tuple[chronolake.Connection, Gate]:
    gate = Gate()
    con = connect(tmp_path, url, tenant=tenant, settings=chronolake.Settings(on_step=gate))
    con.execute("CREATE TABLE t (id INT)")
    gate.armed = True
    return con, gate


def test_tenants_commit_in_parallel(tmp_path: Path, pg_catalog: str) -> None:
    a, gate = held_commit(tmp_path, pg_catalog, "a")
    b = connect(
        tmp_path, pg_catalog, tenant="b", settings=chronolake.Settings(catalog_busy_timeout_s=5)
    )
    b.execute("CREATE TABLE t (id INT)")
    with in_thread(lambda: a.execute("INSERT INTO t VALUES (1)")) as held:
        assert gate.held.wait(SAFETY_TIMEOUT_S)
        # tenant a's commit holds its lock; tenant b commits meanwhile, and finishes
        b.execute("INSERT INTO t VALUES (2)")
        assert b.execute("SELECT id FROM t").fetchall() == [(2,)]
        assert "result" not in held and "error" not in held
        gate.release.set()
    assert "error" not in held, held
    assert a.execute("SELECT id FROM t").fetchall() == [(1,)]
    a.close()
    b.close()


def wait_until(cond: Callable[[], bool]) -> bool:
    """Poll ``cond`` (a state only the server can tell) until it holds; False on a hang."""
    deadline = time.monotonic() + SAFETY_TIMEOUT_S
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.01)
    return False


def _lock_waiters(db: Database) -> int:
    rows = sql(
        db,
        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
        (db.name,),
    )
    return int(rows[0][0])


def test_commits_of_one_tenant_wait_for_the_lock(tmp_path: Path, pg_database: Database) -> None:
    url = pg_database.url
    a, gate = held_commit(tmp_path, url, "acme")
    c = connect(tmp_path, url, tenant="acme")
    with in_thread(lambda: a.execute("INSERT INTO t VALUES (1)")) as first:
        assert gate.held.wait(SAFETY_TIMEOUT_S)
        with in_thread(lambda: c.execute("INSERT INTO t VALUES (2)")) as second:
            # the event: the server shows the second commit waiting on the tenant's row lock
            assert wait_until(lambda: _lock_waiters(pg_database) == 1), (
                "the second commit of the tenant never waited for the lock"
            )
            assert not second  # still waiting: neither a result nor an error
            gate.release.set()
    assert "error" not in first and "error" not in second, (first, second)
    snaps = sql(
        pg_database,
        "SELECT snapshot_id, query_id FROM cl_snapshots WHERE tenant_id = 'acme' "
        "ORDER BY snapshot_id",
    )
    # the held commit took snapshot 2, the one that waited for it snapshot 3
    assert snaps[1:] == [(2, first["result"].sfqid), (3, second["result"].sfqid)]
    assert sorted(c.execute("SELECT id FROM t").fetchall()) == [(1,), (2,)]
    a.close()
    c.close()


def test_a_commit_waiting_too_long_for_the_lock_is_busy(tmp_path: Path, pg_catalog: str) -> None:
    a, gate = held_commit(tmp_path, pg_catalog, "acme")
    settings = chronolake.Settings(catalog_busy_timeout_s=0.2, autocommit_retries=0)
    c = connect(tmp_path, pg_catalog, tenant="acme", settings=settings)
    with in_thread(lambda: a.execute("INSERT INTO t VALUES (1)")) as first:
        assert gate.held.wait(SAFETY_TIMEOUT_S)
        # the lock stays held until the release below, however long the wait takes
        with pytest.raises(chronolake.CatalogBusy) as info:
            c.execute("INSERT INTO t VALUES (2)")
        gate.release.set()
    assert info.value.retryable
    assert str(info.value) == (
        "The tenant's commit lock in the PostgreSQL catalog is held by another writer: retry, "
        "or raise the catalog_busy_timeout_s setting."
    )
    assert "error" not in first, first
    assert c.execute("SELECT id FROM t").fetchall() == [(1,)]  # nothing of the busy one
    a.close()
    c.close()


def _commit_times(db: Database, tenant: str = "default") -> list[int]:
    rows = sql(
        db,
        "SELECT commit_time FROM cl_snapshots WHERE tenant_id = %s ORDER BY snapshot_id",
        (tenant,),
    )
    return [int(r[0]) for r in rows]


def _db_now_us(db: Database) -> int:
    now = sql(db, "SELECT clock_timestamp()")[0][0]
    return (now - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)


def test_commit_times_come_from_the_database_clock(tmp_path: Path, pg_database: Database) -> None:
    with connect(tmp_path, pg_database.url) as con:
        con.execute("CREATE TABLE t (id INT)")
        before = _db_now_us(pg_database)
        for i in range(5):
            con.execute("INSERT INTO t VALUES (?)", [i])
        after = _db_now_us(pg_database)
    times = _commit_times(pg_database)
    assert len(times) == 6
    assert all(a < b for a, b in itertools.pairwise(times)), times
    assert before <= times[1] and times[-1] <= after, (before, times, after)


def test_a_test_clock_overrides_the_database_clock(tmp_path: Path, pg_database: Database) -> None:
    fixed = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    with connect(tmp_path, pg_database.url, clock=lambda: fixed) as con:
        con.execute("CREATE TABLE t (id INT)")
        con.execute("INSERT INTO t VALUES (1)")
        con.execute("INSERT INTO t VALUES (2)")
    start = (fixed - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)
    # the clock stands still: each commit is bumped 1 µs past the one before
    assert _commit_times(pg_database) == [start, start + 1, start + 2]


def test_commit_times_stay_increasing_when_the_database_clock_is_behind(
    tmp_path: Path, pg_database: Database
) -> None:
    future = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    with connect(tmp_path, pg_database.url, clock=lambda: future) as con:
        con.execute("CREATE TABLE t (id INT)")  # a node whose clock ran a day ahead
    with connect(tmp_path, pg_database.url) as con:  # the database's clock, a day behind
        con.execute("INSERT INTO t VALUES (1)")
    first, second = _commit_times(pg_database)
    assert second == first + 1


# -- opening: clear errors, nothing created or changed --------------------------------------


def _open_error(tmp_path: Path, url: str) -> chronolake.Error:
    with pytest.raises(chronolake.Error) as info:
        chronolake.connect(url, tmp_path / "lake")
    assert not (tmp_path / "lake").exists(), "a failed open created the lake folder"
    return info.value


CHECK = (
    ". Check that the server runs and accepts connections from this machine, the user and "
    "password in the catalog URL, and that the database exists."
)


def test_unreachable_server(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    e = _open_error(tmp_path, f"postgresql+psycopg://app:s3cret@127.0.0.1:{port}/lake")
    assert type(e) is chronolake.OperationalError
    assert str(e).startswith(f"Cannot open the PostgreSQL catalog app@127.0.0.1:{port}/lake: ")
    assert f"port {port} failed: Connection refused" in str(e)
    assert str(e).endswith(CHECK) and "s3cret" not in str(e)


def test_wrong_password(tmp_path: Path, pg_database: Database) -> None:
    db = pg_database
    url = f"postgresql+psycopg://{db.user}:wrong-pw@{db.host}:{db.port}/{db.name}"
    e = _open_error(tmp_path, url)
    assert type(e) is chronolake.OperationalError
    assert str(e).startswith(
        f"Cannot open the PostgreSQL catalog {db.user}@{db.host}:{db.port}/{db.name}: "
    )
    assert f'password authentication failed for user "{db.user}"' in str(e)
    assert str(e).endswith(CHECK)
    assert "wrong-pw" not in str(e) and db.password not in str(e)


def test_missing_database(tmp_path: Path, pg_database: Database) -> None:
    db = pg_database
    url = f"postgresql+psycopg://{db.user}:{db.password}@{db.host}:{db.port}/nosuchdb"
    e = _open_error(tmp_path, url)
    assert type(e) is chronolake.OperationalError
    assert 'database "nosuchdb" does not exist' in str(e) and str(e).endswith(CHECK)
    assert db.password not in str(e)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "postgresql+asyncpg://u@h/db",
            "Unsupported PostgreSQL driver in the catalog URL (postgresql+asyncpg): use "
            "postgresql+psycopg://user:password@host:port/database.",
        ),
        (
            "mysql://u@h/db",
            "Unsupported catalog database 'mysql': use sqlite:///path/to/catalog.sqlite or "
            "postgresql+psycopg://user:password@host:port/db.",
        ),
        (
            "postgresql+psycopg://u@h:notaport/db",
            "Invalid catalog URL: use sqlite:///path/to/catalog.sqlite or "
            "postgresql+psycopg://user:password@host:port/db.",
        ),
    ],
)
def test_bad_catalog_url(tmp_path: Path, url: str, message: str) -> None:
    e = _open_error(tmp_path, url)
    assert type(e) is chronolake.InterfaceError
    assert str(e) == message


def test_a_newer_catalog_is_refused_and_left_alone(tmp_path: Path, pg_database: Database) -> None:
    with connect(tmp_path, pg_database.url) as con:
        con.execute("CREATE TABLE t (id INT)")
    sql(pg_database, "UPDATE cl_meta SET value = '99' WHERE key = 'schema_version'")
    before = sql(pg_database, "SELECT count(*) FROM cl_snapshots")
    with pytest.raises(chronolake.OperationalError) as info:
        chronolake.connect(pg_database.url, tmp_path / "lake", tenant="other")
    assert str(info.value) == (
        f"This lake's catalog has schema version 99, newer than this chronolake understands "
        f"({CATALOG_SCHEMA_VERSION}). Upgrade chronolake."
    )
    assert sql(pg_database, "SELECT value FROM cl_meta WHERE key = 'schema_version'") == [("99",)]
    assert sql(pg_database, "SELECT count(*) FROM cl_snapshots") == before
    assert sql(pg_database, "SELECT tenant_id FROM cl_tenants") == [("default",)]


def test_an_older_catalog_is_migrated(tmp_path: Path, pg_database: Database) -> None:
    with connect(tmp_path, pg_database.url) as con:
        con.execute("CREATE TRANSIENT TABLE t (id INT)")
    # what a version 3 catalog lacked: cl_tables.transient and the history lookup indexes
    sql(pg_database, "ALTER TABLE cl_tables DROP COLUMN transient")
    sql(pg_database, "DROP INDEX cl_snapshots_query")
    sql(pg_database, "UPDATE cl_meta SET value = '3' WHERE key = 'schema_version'")
    with connect(tmp_path, pg_database.url) as con:
        con.execute("CREATE TRANSIENT TABLE u (id INT)")
        assert con.execute("SELECT count(*) FROM u").fetchall() == [(0,)]
    assert sql(pg_database, "SELECT value FROM cl_meta WHERE key = 'schema_version'") == [
        (str(CATALOG_SCHEMA_VERSION),)
    ]
    assert sql(pg_database, "SELECT name, transient FROM cl_tables ORDER BY name") == [
        ("T", None),
        ("U", True),
    ]
    assert sql(
        pg_database, "SELECT count(*) FROM pg_indexes WHERE indexname = 'cl_snapshots_query'"
    ) == [(1,)]


def test_read_only(tmp_path: Path, pg_database: Database) -> None:
    with pytest.raises(chronolake.NotFound) as info:  # an empty database holds no catalog
        chronolake.connect(pg_database.url, tmp_path / "lake", read_only=True)
    assert str(info.value) == (
        "This database holds no chronolake catalog: check the catalog URL (opening read-only "
        "never creates one)."
    )
    with connect(tmp_path, pg_database.url) as con:
        con.execute("CREATE TABLE t (id INT)")
        con.execute("INSERT INTO t VALUES (1)")
    before = sql(pg_database, "SELECT count(*) FROM cl_statements")
    with connect(tmp_path, pg_database.url, read_only=True) as con:
        assert con.execute("SELECT id FROM t").fetchall() == [(1,)]
        with pytest.raises(chronolake.ReadOnlyError):
            con.execute("INSERT INTO t VALUES (2)")
    assert sql(pg_database, "SELECT count(*) FROM cl_statements") == before


# -- lost races ----------------------------------------------------------------------------


def _two_serializable(db: Database) -> psycopg.Error:
    """A real serialization failure: two SERIALIZABLE transactions that read what the other
    writes; the second to commit loses."""
    sql(db, "CREATE TABLE race (k INT PRIMARY KEY, v INT)")
    sql(db, "INSERT INTO race VALUES (1, 0), (2, 0)")
    cons = [
        psycopg.connect(
            host=db.host, port=db.port, user=db.user, password=db.password, dbname=db.name
        )
        for _ in range(2)
    ]
    try:
        for con in cons:
            con.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
        cons[0].execute("SELECT sum(v) FROM race").fetchall()
        cons[1].execute("SELECT sum(v) FROM race").fetchall()
        cons[0].execute("UPDATE race SET v = 1 WHERE k = 1")
        cons[1].execute("UPDATE race SET v = 1 WHERE k = 2")
        cons[0].commit()
        with pytest.raises(psycopg.Error) as info:
            cons[1].commit()
        return info.value
    finally:
        for con in cons:
            con.close()


def test_lost_races_are_retryable_conflicts(pg_database: Database) -> None:
    failure = _two_serializable(pg_database)
    assert failure.sqlstate == "40001"
    assert is_lost_race(failure)
    e = catalog_error(failure)
    assert type(e) is chronolake.ConflictError and e.retryable
    with pytest.raises(psycopg.IntegrityError) as dup:
        sql(pg_database, "INSERT INTO race VALUES (1, 0)")
    assert is_lost_race(dup.value)


def test_a_server_restart_between_statements(tmp_path: Path) -> None:
    server = PostgresServer.start()  # its own: the restart must not disturb other tests
    try:
        url = server.create_database().url
        with connect(tmp_path, url) as con:
            con.execute("CREATE TABLE t (id INT)")
            con.execute("INSERT INTO t VALUES (1)")
            server.restart()
            # the pooled connections died with the server; the next statements get new ones
            con.execute("INSERT INTO t VALUES (2)")
            assert con.execute("SELECT id FROM t ORDER BY id").fetchall() == [(1,), (2,)]
    finally:
        server.stop()


def test_maintenance_and_metrics_after_a_server_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Calls outside SQL statements (storage metrics, orphan removal), whose reads are not
    retried, get live connections after a restart: a pooled connection idle for a while is
    pinged at checkout and replaced if dead (here every one counts as idle, so that the test
    waits for no clock)."""
    from chronolake.catalog import postgres

    monkeypatch.setattr(postgres, "_IDLE_PING_S", 0.0)
    server = PostgresServer.start()
    try:
        url = server.create_database().url
        with connect(tmp_path, url) as con:
            con.execute("CREATE TABLE t (id INT)")
            con.execute("INSERT INTO t VALUES (1)")
            server.restart()
            assert [t.name for t in con.storage_metrics().tables] == ["T"]
            server.restart()
            assert remove_orphans(con, grace=3600).files == 0
            assert con.execute("SELECT id FROM t").fetchall() == [(1,)]
    finally:
        server.stop()
