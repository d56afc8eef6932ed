"""The embedded catalog backend: one SQLite file in WAL mode.

Only what differs from the portable catalog lives here: pragmas, and taking the write lock
at BEGIN (``BEGIN IMMEDIATE``) so that a commit's validation and its writes are serialised
across processes.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Connection, Engine, create_engine, event

from chronolake.catalog.backend import CatalogBackend


class SqliteBackend(CatalogBackend):
    """One write lock for the whole file, taken at BEGIN by every writing transaction."""

    name = "sqlite"

    def lock_tenant(self, conn: Connection, tenant: str) -> None:
        """Nothing more to take: ``BEGIN IMMEDIATE`` already serialises every writer."""

    def lock_catalog(self, conn: Connection) -> None:
        """Nothing more to take: migrations run under ``BEGIN IMMEDIATE`` too."""


def _open_read_only(path: Path, busy_timeout_s: float) -> sqlite3.Connection:
    """Open the catalog file without write access.

    SQLite may still create its WAL index files (``-shm``, ``-wal``) next to the catalog to
    see concurrent writers' commits consistently; where the directory is read-only (a
    read-only mount) they cannot exist, nobody can write, and the file is opened immutable.
    """
    uri = f"file:{quote(str(path))}?mode=ro"
    if not os.access(path.parent, os.W_OK):
        uri += "&immutable=1"
    return sqlite3.connect(uri, uri=True, timeout=busy_timeout_s, check_same_thread=False)


def create_sqlite_engine(path: Path, busy_timeout_s: float, read_only: bool = False) -> Engine:
    """An engine whose ``begin()`` opens a deferred read or, with ``write=True``, a write lock.

    With ``read_only`` the file is never written: writes fail with SQLITE_READONLY."""
    if read_only:
        engine = create_engine("sqlite://", creator=lambda: _open_read_only(path, busy_timeout_s))
    else:
        engine = create_engine(
            f"sqlite:///{path}",
            connect_args={"timeout": busy_timeout_s, "check_same_thread": False},
        )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        if read_only:
            cur.execute("PRAGMA query_only=ON")
        else:
            cur.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode survives a killed process (only power loss can drop the last commits)
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
        cur.execute("PRAGMA foreign_keys=OFF")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get("write"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")

    return engine
