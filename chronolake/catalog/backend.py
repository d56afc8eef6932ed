"""The small base class of catalog backends: only what differs between catalog databases.

The portable catalog (``base.py``, ``commit.py``) calls these hooks inside its own
transactions. Each backend module (``sqlite.py``, ``postgres.py``) subclasses it; the defaults
here are the portable behaviour.
"""

from __future__ import annotations

from sqlalchemy import Connection


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
