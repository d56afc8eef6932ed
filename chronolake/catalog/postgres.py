"""The shared catalog backend: a PostgreSQL database reached with psycopg 3.

Only what differs from the portable catalog lives here: the per-tenant commit lock (a row
lock on the tenant's row, so that tenants never wait for each other), the database clock for
commit times, an upsert for row id counters, the engine's connection options, and the
translation of PostgreSQL's errors (by SQLSTATE, never by message text).
"""

from __future__ import annotations

import datetime as dt

import psycopg
from sqlalchemy import Connection, Engine, bindparam, create_engine, event, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import URL

from chronolake.catalog import schema as s
from chronolake.catalog.backend import CatalogBackend
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
        now = conn.execute(_CLOCK).scalar_one()
        return (now - _EPOCH) // dt.timedelta(microseconds=1)

    def take_row_ids(self, conn: Connection, tenant: str, table_id: int, count: int) -> int | None:
        params = {"tenant": tenant, "table_id": table_id, "count": count}
        return int(conn.execute(_UPSERT_ROW_IDS, params).scalar_one()) - count


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
        pool_pre_ping=True,  # a connection dropped by a server restart is replaced, not reused
        connect_args={"connect_timeout": 10, "application_name": "chronolake", "options": options},
    )

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # a write (a commit, a migration) is one transaction: psycopg then sends COMMIT or
        # ROLLBACK when SQLAlchemy ends it, as the transaction is open on the server
        if conn.get_execution_options().get("write"):
            conn.exec_driver_sql("BEGIN")

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
