"""The small base class of catalog backends: only what differs between catalog databases.

The portable catalog (``base.py``, ``commit.py``) calls these hooks inside its own
transactions. Each backend module (``sqlite.py``, ``postgres.py``) subclasses it; the defaults
here are the portable behaviour.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Executable, Table

from chronolake.catalog.fast_insert import insert_rows
from chronolake.catalog.model import Snapshot


@dataclass(frozen=True)
class CommitStart:
    """What a commit reads once it holds its tenant's lock."""

    latest: Snapshot  # the tenant's latest snapshot (Snapshot(0, 0, 0): none yet)
    clock_us: int | None  # the database's clock, if asked for and it has one
    first_row_ids: dict[int, int]  # table id -> first of the row ids taken for it


class Writes:
    """The catalog writes of one write transaction, in order.

    This portable form sends each at once; a backend may hold them back and send them
    together (``flush``), as long as every read that follows sees them."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def insert(self, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
        """INSERT ``rows`` (dicts with the same keys) into ``table``."""
        insert_rows(self.conn, table, rows)

    def execute(self, statement: Executable, params: Any = None) -> None:
        """Run a statement whose result is not needed (an UPDATE, an INSERT ... SELECT)."""
        self.flush()
        self.conn.execute(statement, params)

    def flush(self) -> None:
        """Send what is held back (before a read on the same transaction)."""

    def finish(self, commit: bool) -> None:
        """Send what is held back and, with ``commit``, the transaction's COMMIT with it when
        the backend can (the caller's transaction then ends with nothing left to send)."""
        self.flush()


class CatalogBackend:
    """Hooks the portable catalog calls; subclasses say how their database serialises."""

    name = ""

    def lock_tenant(self, conn: Connection, tenant: str) -> None:
        """Serialise the commits of ``tenant``: called first in a commit's transaction, held
        until it ends."""
        raise NotImplementedError

    def lock_catalog(self, conn: Connection) -> None:
        """Serialise catalog creation and migrations across processes (inside ``conn``'s
        transaction)."""
        raise NotImplementedError

    def clock_us(self, conn: Connection) -> int | None:
        """The database's clock in microseconds since the epoch, read inside the commit's
        transaction; None: the database has none to offer, use the caller's clock."""
        return None

    def take_row_ids(self, conn: Connection, tenant: str, table_id: int, count: int) -> int | None:
        """Advance a table's row id counter by ``count`` in one statement and return where it
        stood before; None: no single statement for it here, use the portable read-then-write
        (safe while the transaction holds the tenant's lock)."""
        return None

    def start_commit(
        self,
        conn: Connection,
        tenant: str,
        latest: Executable,
        row_ids: Mapping[int, int],
        clock: bool,
    ) -> CommitStart | None:
        """Lock ``tenant``, run ``latest`` (its latest snapshot, parameter ``tenant``), read
        the clock if ``clock`` and take ``row_ids`` (table id -> count) at once, on a
        transaction opened with ``write="commit"``; None: take the portable steps one by one
        (``lock_tenant``, ``latest``, ``clock_us``, ``take_row_ids``)."""
        return None

    def writes(self, conn: Connection, durable: bool = True) -> Writes:
        """The writer of a write transaction on ``conn``. ``durable=False``: the transaction
        holds only statement history, which the backend may commit without waiting for its
        log to reach the disk (a crash of the catalog server may then lose the last moments
        of history, never data: a later durable commit makes the earlier ones durable)."""
        return Writes(conn)
