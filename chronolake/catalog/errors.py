"""Catalog failures (SQLAlchemy, SQLite, PostgreSQL) as chronolake errors.

The class is decided by the exception's type, SQLite's error code or PostgreSQL's SQLSTATE,
never by its message text, so that retry decisions stay correct across versions and backends.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy import exc as sa_exc

from chronolake.catalog.postgres import is_connection_lost as _pg_lost
from chronolake.catalog.postgres import postgres_error
from chronolake.errors import CatalogBusy, Error, IntegrityError, OperationalError

_CATALOG = "the lake's catalog (catalog.sqlite)"


# what the catalog's driver raises itself (rows inserted through the DBAPI cursor)
DRIVER_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error, psycopg.Error)
CATALOG_ERRORS: tuple[type[Exception], ...] = (sa_exc.SQLAlchemyError, *DRIVER_ERRORS)


def is_connection_lost(e: Exception) -> bool:
    """True when a driver error says the catalog server went away (PostgreSQL only: an
    embedded catalog has no connection to lose)."""
    return isinstance(e, psycopg.Error) and _pg_lost(e)


def _driver_error(e: Exception) -> Exception | None:
    return e if isinstance(e, DRIVER_ERRORS) else getattr(e, "orig", None)


def is_duplicate_key(e: Exception) -> bool:
    """True for a unique-key violation, whether SQLAlchemy wrapped it or not."""
    return isinstance(e, sa_exc.IntegrityError) or isinstance(
        _driver_error(e), (sqlite3.IntegrityError, psycopg.IntegrityError)
    )


# PostgreSQL's serialization_failure and deadlock_detected: the database aborted one of two
# racing transactions
_LOST_RACE_STATES = frozenset({"40001", "40P01"})


def is_lost_race(e: Exception) -> bool:
    """True when a concurrent writer won: a duplicate key, or a transaction the database
    aborted for a serialization failure or a deadlock."""
    driver = _driver_error(e)
    return is_duplicate_key(e) or (
        isinstance(driver, psycopg.Error) and driver.sqlstate in _LOST_RACE_STATES
    )


def _sqlite_code(e: Exception) -> int | None:
    """SQLite's primary result code of the driver error in ``e``, if there is one."""
    code = getattr(_driver_error(e), "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


_LOCKED: tuple[type[Error], str] = (
    CatalogBusy,
    f"{_CATALOG} is locked by another writer: retry, or raise the catalog_busy_timeout_s setting.",
)
_BY_CODE: dict[int, tuple[type[Error], str]] = {
    sqlite3.SQLITE_BUSY: _LOCKED,
    sqlite3.SQLITE_LOCKED: _LOCKED,
    sqlite3.SQLITE_CORRUPT: (
        OperationalError,
        f"{_CATALOG} is damaged: restore the lake from a backup.",
    ),
    sqlite3.SQLITE_NOTADB: (
        OperationalError,
        f"{_CATALOG} is damaged or is not a chronolake catalog: restore the lake from a backup, "
        "or check that the path names a lake.",
    ),
    sqlite3.SQLITE_READONLY: (
        OperationalError,
        f"{_CATALOG} cannot be written (read-only file, directory or mount): open the lake "
        "with read_only=True to query it.",
    ),
    sqlite3.SQLITE_CANTOPEN: (
        OperationalError,
        f"{_CATALOG} cannot be opened: check that the lake directory exists and that this "
        "process may read it (and write it, unless read_only=True).",
    ),
    sqlite3.SQLITE_FULL: (
        OperationalError,
        f"{_CATALOG} cannot grow: the disk is full. Free space and retry.",
    ),
    sqlite3.SQLITE_IOERR: (
        OperationalError,
        f"{_CATALOG} could not be read or written (I/O error): check the disk and retry.",
    ),
    sqlite3.SQLITE_PERM: (
        OperationalError,
        f"{_CATALOG} cannot be accessed: this process lacks the permission.",
    ),
}


def catalog_error(e: Exception) -> Error:
    """The chronolake error a user should see for a failed catalog operation (one of
    ``CATALOG_ERRORS``)."""
    driver = _driver_error(e)
    if is_duplicate_key(e):
        where = "the lake's PostgreSQL catalog" if isinstance(driver, psycopg.Error) else _CATALOG
        return IntegrityError(
            f"{where} refused a write that would duplicate a key: retry the statement."
        )
    if isinstance(driver, psycopg.Error):
        return postgres_error(driver)
    code = _sqlite_code(e)
    if code is not None and code in _BY_CODE:
        cls, message = _BY_CODE[code]
        return cls(message[0].upper() + message[1:])
    detail = _driver_error(e) or e
    return OperationalError(f"The lake's catalog failed: {type(detail).__name__}: {detail}")


@contextmanager
def catalog_errors() -> Iterator[None]:
    """Raise what ``catalog_error`` makes of any catalog error in the block."""
    try:
        yield
    except CATALOG_ERRORS as e:
        raise catalog_error(e) from e
