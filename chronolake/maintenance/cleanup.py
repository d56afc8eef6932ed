"""Cleanup, phase two of purging: delete files expiry marked, once their grace period passed.

A file is deleted only when (1) expiry marked it at least ``grace`` seconds ago (default
``Settings.cleanup_grace_s``, by the connection's clock) and (2) reachability computed *now*
still finds no reachable snapshot needing it (a retention raised since the mark keeps it).

Order, for crash safety: the file is removed from storage first, then its mark gets
``deleted_time``. No catalog row is removed, and whether a file is needed never depends on the
mark, so a kill at any moment leaves at worst a deleted file whose mark still says "pending":
nothing reachable lost it, and the next cleanup (deleting a missing file is a no-op)
records it. Files go through the tenant's file IO (local or S3). Catalog file rows of deleted
files stay: they describe history that time travel can no longer reach.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from chronolake.catalog.expiry_marks import pending_marks, record_deleted
from chronolake.io.file_io import FileIO
from chronolake.maintenance.reach import reachability
from chronolake.maintenance.target import Target, session_of
from chronolake.sql.session import to_us
from chronolake.sql.translate import translated

BATCH = 64  # marks recorded per catalog transaction


@dataclass(frozen=True)
class CleanupReport:
    dry_run: bool
    files: int  # files deleted (dry run: that would be)
    bytes_reclaimed: int  # bytes on disk of those files
    pending: int  # marked files still inside their grace period
    kept: int  # marked files needed again (left in place)
    seconds: float
    paths: tuple[str, ...]


def _unlink(io: FileIO, rel: str) -> None:  # a seam for the crash test
    io.delete(rel)


def cleanup(
    con: Target,
    grace: float | None = None,
    dry_run: bool = False,
    on_deleted: Callable[[str], None] | None = None,
) -> CleanupReport:
    """Delete the files expiry marked at least ``grace`` seconds ago that nothing reachable
    needs now. ``con``: a connection or its session.

    >>> import chronolake
    >>> from chronolake.maintenance import cleanup, expire
    >>> con = chronolake.connect(lake)
    >>> _ = con.execute("CREATE TABLE t (id INT) DATA_RETENTION_TIME_IN_DAYS = 0")
    >>> _ = con.execute("INSERT INTO t VALUES (1), (2)")
    >>> _ = con.execute("DROP TABLE t")
    >>> _ = expire(con)
    >>> report = cleanup(con, grace=0)
    >>> report.files, report.bytes_reclaimed > 0
    (1, True)
    """
    started = time.monotonic()
    session = session_of(con)
    with translated(session.root):  # catalog and file failures as chronolake errors
        catalog, tenant = session.catalog, session.tenant
        grace_s = session.settings.cleanup_grace_s if grace is None else float(grace)
        now_us = to_us(session.now())
        marks = pending_marks(catalog, tenant)
        reach = reachability(catalog, tenant, now_us)
        cut = now_us - round(grace_s * 1_000_000)
        due = [p for p, t in marks if t <= cut and p not in reach.needed]
        pending = sum(1 for p, t in marks if t > cut and p not in reach.needed)
        kept = sum(1 for p, _ in marks if p in reach.needed)
        io = session.io
        deleted: list[str] = []
        reclaimed = 0
        done: list[str] = []

        def record() -> None:
            record_deleted(catalog, tenant, done, now_us)
            done.clear()

        for rel in due:
            size = 0
            if io.contains(rel):
                size = io.size(rel) if io.exists(rel) else 0
                if not dry_run:
                    _unlink(io, rel)
            deleted.append(rel)
            reclaimed += size
            if dry_run:
                continue
            if on_deleted is not None:
                on_deleted(rel)
            done.append(rel)
            if len(done) >= BATCH:
                record()
        if not dry_run:
            record()
        return CleanupReport(
            dry_run=dry_run,
            files=len(deleted),
            bytes_reclaimed=reclaimed,
            pending=pending,
            kept=kept,
            seconds=time.monotonic() - started,
            paths=tuple(deleted),
        )
