"""The small base class of catalog backends: only what differs between catalog databases.

The portable catalog (``base.py``, ``commit.py``) calls these hooks inside its own
transactions; the defaults suit a database that already serialises every writer (SQLite's
``BEGIN IMMEDIATE``) and has no clock of its own to offer.
"""

from __future__ import annotations

from sqlalchemy import Connection


class CatalogBackend:
    """Hooks with the defaults of the embedded (SQLite) catalog."""

    name = "sqlite"

    def lock_tenant(self, conn: Connection, tenant: str) -> None:
        """Serialise the commits of ``tenant``: called first in a commit's transaction.

        The default does nothing: the transaction holds the database's only write lock."""

    def lock_catalog(self, conn: Connection) -> None:
        """Serialise catalog creation and migrations across processes (inside ``conn``'s
        transaction); the default relies on the write lock as well."""

    def clock_us(self, conn: Connection) -> int | None:
        """The database's clock in microseconds since the epoch, read inside the commit's
        transaction; None: the database has none to offer, use the caller's clock."""
        return None

    def take_row_ids(self, conn: Connection, tenant: str, table_id: int, count: int) -> int | None:
        """Advance a table's row id counter by ``count`` in one statement and return where it
        stood before; None: no single statement for it here, use the portable read-then-write
        (safe under the write lock)."""
        return None
