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

from chronolake.catalog.expiry_marks import update_marks
from chronolake.maintenance.reach import reachability
from chronolake.maintenance.target import Target, session_of
from chronolake.sql.session import to_us
from chronolake.sql.translate import translated


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


def expire(con: Target, dry_run: bool = False) -> ExpiryReport:
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
    session = session_of(con)
    with translated(session.root):  # catalog and file failures as chronolake errors
        catalog, tenant = session.catalog, session.tenant
        now_us = to_us(session.now())
        reach = reachability(catalog, tenant, now_us)
        unneeded = {p: reach.referenced[p] for p in reach.unneeded}
        new, back = update_marks(catalog, tenant, unneeded, reach.needed, now_us, dry_run)
        return ExpiryReport(
            dry_run=dry_run,
            files=len(new),
            bytes=sum(reach.referenced[p][1] for p in new),
            unmarked=len(back),
            seconds=time.monotonic() - started,
            paths=tuple(new),
        )
