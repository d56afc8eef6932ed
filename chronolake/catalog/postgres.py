"""The shared catalog backend: a PostgreSQL database reached with psycopg 3.

Only what differs from the portable catalog lives here: the per-tenant commit lock (a row
lock on the tenant's row, so that tenants never wait for each other), the database clock for
commit times, an upsert for row id counters, the engine's connection options, and the
translation of PostgreSQL's errors (by SQLSTATE, never by message text).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
from sqlalchemy import (
    Connection,
    Engine,
    Executable,
    Table,
    bindparam,
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import URL

from chronolake.catalog import pipeline
from chronolake.catalog import schema as s
from chronolake.catalog.backend import CatalogBackend, CommitStart, Writes
from chronolake.catalog.fast_insert import driver_rows, insert_rows
from chronolake.catalog.model import Snapshot
from chronolake.errors import (
    CatalogBusy,
    CatalogUnavailable,
    ConflictError,
    Error,
    InterfaceError,
    OperationalError,
    PermissionDenied,
)

DRIVER = "postgresql+psycopg"
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# key of the transaction-level advisory lock that serialises catalog creation and migrations
_MIGRATION_LOCK = 0x636C6B6C616B65  # "clklake"
_NOT_DURABLE = "SET LOCAL synchronous_commit = off"
# pool record key: when a connection went back to the pool; one idle longer is pinged
_LAST_USED = "chronolake.last_used"
_IDLE_PING_S = 1.0
# Connection.info key: a transaction begun with write="commit" whose BEGIN is still to be
# sent, with the first statements of the transaction (one round trip fewer)
_BEGIN_PENDING = "chronolake.begin_pending"

_LOCK_TENANT = (
    select(s.tenants.c.tenant_id)
    .where(s.tenants.c.tenant_id == bindparam("tenant"))
    .with_for_update()
)
_CLOCK = select(func.clock_timestamp())
_row_ids = pg_insert(s.table_row_ids).values(
    tenant_id=bindparam("tenant"), table_id=bindparam("table_id"), next_row_id=bindparam("count")
)
_UPSERT_ROW_IDS = _row_ids.on_conflict_do_update(
    index_elements=[s.table_row_ids.c.tenant_id, s.table_row_ids.c.table_id],
    set_={"next_row_id": s.table_row_ids.c.next_row_id + _row_ids.excluded.next_row_id},
).returning(s.table_row_ids.c.next_row_id)


class PostgresBackend(CatalogBackend):
    """Row locks per tenant, the server's clock, and upserts."""

    name = "postgresql"

    def lock_tenant(self, conn: Connection, tenant: str) -> None:
        # held until the commit's transaction ends; other tenants' rows stay free
        conn.execute(_LOCK_TENANT, {"tenant": tenant})

    def lock_catalog(self, conn: Connection) -> None:
        conn.execute(select(func.pg_advisory_xact_lock(_MIGRATION_LOCK)))

    def clock_us(self, conn: Connection) -> int | None:
        return _us(conn.execute(_CLOCK).scalar_one())

    def take_row_ids(self, conn: Connection, tenant: str, table_id: int, count: int) -> int | None:
        params = {"tenant": tenant, "table_id": table_id, "count": count}
        return int(conn.execute(_UPSERT_ROW_IDS, params).scalar_one()) - count

    def start_commit(
        self,
        conn: Connection,
        tenant: str,
        latest: Executable,
        row_ids: Mapping[int, int],
        clock: bool,
    ) -> CommitStart | None:
        """BEGIN, the tenant's row lock, the latest snapshot, the clock and the row id
        counters in one round trip; each statement runs after the one before, so the latest
        snapshot is read once the lock is held."""
        ops: list[pipeline.Op] = [("BEGIN", None)] if conn.info.pop(_BEGIN_PENDING, False) else []
        ops += [pipeline.op(conn, _LOCK_TENANT, {"tenant": tenant})]
        head = len(ops)  # statements whose results are not needed
        ops.append(pipeline.op(conn, latest, {"tenant": tenant}))
        if clock:
            ops.append(pipeline.op(conn, _CLOCK))
        tables = list(row_ids)
        for tid in tables:
            params = {"tenant": tenant, "table_id": tid, "count": row_ids[tid]}
            ops.append(pipeline.op(conn, _UPSERT_ROW_IDS, params))
        found, *rest = pipeline.run(conn, ops)[head:]
        snap = Snapshot(*(int(v) for v in found[0])) if found else Snapshot(0, 0, 0)
        now = _us(rest.pop(0)[0][0]) if clock else None
        counters = zip(tables, rest, strict=True)
        first = {tid: int(rows[0][0]) - row_ids[tid] for tid, rows in counters}
        return CommitStart(snap, now, first)

    def writes(self, conn: Connection, durable: bool = True) -> Writes:
        return _PipelinedWrites(conn, durable)


def _us(now: dt.datetime) -> int:
    return (now - _EPOCH) // dt.timedelta(microseconds=1)


class _PipelinedWrites(Writes):
    """Holds a transaction's INSERTs back and sends them (with its BEGIN if still pending,
    and its COMMIT when finished) in one round trip."""

    def __init__(self, conn: Connection, durable: bool) -> None:
        super().__init__(conn)
        # history only: its COMMIT need not wait for the log flush (sent with the first rows)
        self._held: list[pipeline.Op] = [] if durable else [(_NOT_DURABLE, None)]

    def insert(self, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        prepared = driver_rows(self.conn, table, rows)
        if prepared is None:  # SQLAlchemy must run it: after what is held, in order
            self.flush()
            insert_rows(self.conn, table, rows)
            return
        sql, params = prepared
        self._held.append((sql, params if len(params) > 1 else params[0]))

    def flush(self) -> None:
        self._send(commit=False)

    def finish(self, commit: bool) -> None:
        self._send(commit)

    def _send(self, commit: bool) -> None:
        ops: list[pipeline.Op] = []
        if self.conn.info.pop(_BEGIN_PENDING, False):
            ops.append(("BEGIN", None))
        ops += self._held
        self._held = []
        if commit:
            ops.append(("COMMIT", None))
        if ops:
            pipeline.run(self.conn, ops)


def where(url: URL) -> str:
    """The catalog as messages name it: user, host, port and database, never the password."""
    user = f"{url.username}@" if url.username else ""
    port = f":{url.port}" if url.port else ""
    return f"PostgreSQL catalog {user}{url.host or 'localhost'}{port}/{url.database or ''}"


def create_postgres_engine(url: URL, busy_timeout_s: float, read_only: bool = False) -> Engine:
    """An engine on the catalog database; commits wait at most ``busy_timeout_s`` for the
    tenant's lock, and with ``read_only`` every transaction is read-only."""
    if url.drivername != DRIVER:
        raise InterfaceError(
            f"Unsupported PostgreSQL driver in the catalog URL ({url.drivername}): use "
            f"{DRIVER}://user:password@host:port/database."
        )
    if not url.database:
        raise InterfaceError(
            f"The catalog URL names no database: use {DRIVER}://user:password@host:port/database."
        )
    options = f"-c lock_timeout={max(1, round(busy_timeout_s * 1000))}"
    if read_only:
        options += " -c default_transaction_read_only=on"
    engine = create_engine(
        url,
        # reads need no transaction (rows visible at a committed snapshot never change), and
        # without one a read is one round trip instead of three (BEGIN, the read, ROLLBACK)
        isolation_level="AUTOCOMMIT",
        # no ping per checkout (a round trip per transaction): a connection idle for a while
        # is pinged (below), the catalog retries a read once on a connection found dead, and
        # a commit asks whether it landed
        connect_args={"connect_timeout": 10, "application_name": "chronolake", "options": options},
    )

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi: Any, record: Any) -> None:
        record.info[_LAST_USED] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi: Any, record: Any, _proxy: Any) -> None:
        # a connection idle for a while may have outlived a server restart: ping it, and let
        # the pool replace it if it is dead (connections in steady use are never pinged)
        last = record.info.get(_LAST_USED)
        if last is None or time.monotonic() - last < _IDLE_PING_S:
            return
        try:
            dbapi.execute("SELECT 1")
            if not dbapi.autocommit:  # leave no transaction open behind the ping
                dbapi.rollback()
        except psycopg.Error as e:
            if is_connection_lost(e):
                raise sa_exc.DisconnectionError() from e
            raise

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # a write (a commit, a migration) is one transaction: psycopg then sends COMMIT or
        # ROLLBACK when SQLAlchemy ends it, as the transaction is open on the server
        write = conn.get_execution_options().get("write")
        if write == "commit":  # sent with the transaction's first statements
            conn.info[_BEGIN_PENDING] = True
        elif write:
            conn.exec_driver_sql("BEGIN")

    @event.listens_for(engine, "before_cursor_execute")
    def _before_execute(conn: Connection, cursor: Any, *_: Any) -> None:
        if conn.info.pop(_BEGIN_PENDING, False):  # a statement not sent with the BEGIN
            cursor.connection.execute("BEGIN")

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _on_end(conn: Connection) -> None:
        if not conn.invalidated:  # an invalidated connection's info goes with it
            conn.info.pop(_BEGIN_PENDING, None)

    try:
        with engine.connect() as conn:
            conn.execute(select(1))
    except Exception as e:
        engine.dispose()
        driver = getattr(e, "orig", e)
        if isinstance(driver, psycopg.Error):
            raise connect_error(driver, url) from None
        raise
    return engine


def connect_error(e: psycopg.Error, url: URL) -> Error:
    """Why the catalog could not be opened, naming the server and what to check.

    libpq gives no SQLSTATE for a failed connection (refused, timed out, wrong password,
    missing database): its own words are quoted, the password masked."""
    if e.sqlstate is not None:  # connected, then failed
        return postgres_error(e, url)
    return OperationalError(
        f"Cannot open the {where(url)}: {_reason(e, url)}. Check that the server runs and "
        "accepts connections from this machine, the user and password in the catalog URL, "
        "and that the database exists."
    )


def _reason(e: psycopg.Error, url: URL) -> str:
    """The driver's own words on one line, with the password masked should it appear."""
    text = " ".join(str(e).split()).rstrip(".")
    if url.password:
        text = text.replace(str(url.password), "***")
    return text


_LOST = (
    "The connection to the PostgreSQL catalog was lost (the server restarted or is "
    "unreachable); the statement committed nothing: retry it"
)


def is_connection_lost(e: psycopg.Error) -> bool:
    """The server went away or refused us (SQLSTATE classes 08 and 57, or none at all)."""
    state = e.sqlstate or ""
    return state.startswith(("08", "57")) or not state


def postgres_error(e: psycopg.Error, url: URL | None = None) -> Error:
    """The chronolake error for a PostgreSQL failure, by its SQLSTATE class."""
    state = e.sqlstate or ""
    detail = _reason(e, url) if url is not None else " ".join(str(e).split())
    if state in ("40001", "40P01"):
        return ConflictError(
            "Transaction conflict: the catalog database aborted this commit in favour of a "
            "concurrent one. Nothing of this transaction was committed; retry it."
        )
    if state == "55P03":
        return CatalogBusy(
            "The tenant's commit lock in the PostgreSQL catalog is held by another writer: "
            "retry, or raise the catalog_busy_timeout_s setting."
        )
    if state == "42501":
        return PermissionDenied(
            "The PostgreSQL catalog's role lacks a privilege it needs (it must own the "
            f"catalog's tables, or may create them on first use): {detail}"
        )
    if state == "25006":
        return OperationalError(
            "The lake was opened read-only, so the PostgreSQL catalog refused a write."
        )
    if is_connection_lost(e):
        return CatalogUnavailable(f"{_LOST} ({detail}).")
    if state.startswith("53"):
        return OperationalError(
            f"The PostgreSQL catalog is out of a resource (disk, memory or connections): {detail}"
        )
    return OperationalError(f"The PostgreSQL catalog failed: {detail}")
