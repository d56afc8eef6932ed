"""Expiry, phase one of purging: mark the files only expired snapshots could still reach.

``expire(con)`` computes the tenant's reachability (``maintenance/reach.py``) at the
connection's clock and records, in ``cl_expired_files``, every referenced path no reachable
snapshot needs, with the time it was found expired. It deletes nothing: ``cleanup`` does, after
a grace period, and re-checks reachability itself. A mark whose path is needed again (a
retention was raised before cleanup ran) is taken back. ``dry_run=True`` changes nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import delete, insert, select

from chronolake.catalog import schema as s
from chronolake.catalog.backends import backend_of
from chronolake.maintenance.reach import reachability
from chronolake.sql.session import to_us

if TYPE_CHECKING:
    from chronolake.api.connection import Connection


@dataclass(frozen=True)
class ExpiryReport:
    dry_run: bool
    files: int  # paths newly marked expired (dry run: that would be)
    bytes: int  # their catalog byte sizes
    unmarked: int  # earlier marks taken back because the path is needed again
    seconds: float
    paths: tuple[str, ...]

    @property
    def bytes_reclaimed(self) -> int:
        return 0  # expiry deletes nothing


def expire(con: Connection, dry_run: bool = False) -> ExpiryReport:
    """Mark the tenant's files that no retained snapshot, latest state, clone or undroppable
    table needs any more; ``cleanup`` deletes them later.

    >>> import chronolake
    >>> from chronolake.maintenance import expire
    >>> con = chronolake.connect(lake)
    >>> _ = con.execute("CREATE TABLE t (id INT) DATA_RETENTION_TIME_IN_DAYS = 0")
    >>> _ = con.execute("INSERT INTO t VALUES (1), (2)")
    >>> _ = con.execute("DROP TABLE t")  # retention 0: its data file is needed by nothing
    >>> expire(con, dry_run=True).files, expire(con).files
    (1, 1)
    """
    started = time.monotonic()
    session = con._session
    catalog, tenant = session.catalog, session.tenant
    now_us = to_us(session.now())
    reach = reachability(catalog, tenant, now_us)
    e = s.expired_files
    with catalog.engine.connect().execution_options(write=True) as conn, conn.begin():
        backend_of(conn).lock_tenant(conn, tenant)  # one expiry at a time marks the files
        marks = {
            str(p): d
            for p, d in conn.execute(
                select(e.c.path, e.c.deleted_time).where(e.c.tenant_id == tenant)
            )
        }
        new = sorted(p for p in reach.unneeded if p not in marks)
        back = sorted(p for p, d in marks.items() if d is None and p in reach.needed)
        if not dry_run:
            if new:
                conn.execute(
                    insert(e),
                    [
                        {
                            "tenant_id": tenant,
                            "path": p,
                            "kind": reach.referenced[p][0],
                            "byte_size": reach.referenced[p][1],
                            "expired_time": now_us,
                            "deleted_time": None,
                        }
                        for p in new
                    ],
                )
            for p in back:
                conn.execute(delete(e).where(e.c.tenant_id == tenant, e.c.path == p))
    return ExpiryReport(
        dry_run=dry_run,
        files=len(new),
        bytes=sum(reach.referenced[p][1] for p in new),
        unmarked=len(back),
        seconds=time.monotonic() - started,
        paths=tuple(new),
    )
