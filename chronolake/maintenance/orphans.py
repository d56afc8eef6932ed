"""Orphan removal: files under the tenant's prefix that no catalog row references.

Only a crashed writer leaves such files (a rolled back transaction removes its own). A file is
an orphan when (1) it is a regular file (symlinks are never followed or removed) below the
tenant's storage prefix (listed through the file IO: local or S3), (2) no data or delete file row of
the tenant names its path, and (3) its modification time is older than ``grace`` seconds
(default ``Settings.orphan_grace_s``; wall clock, as mtimes are), so a writer that has written
but not yet committed is never robbed. The directory is listed *before* the catalog is read: a
file committed in between is then seen as referenced.

Older versions spilled into ``.tmp`` below the prefix (connections now spill outside the lake):
its files are orphans like any other, and the folder goes once it is empty.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from chronolake.catalog.reach_inputs import referenced_paths
from chronolake.maintenance.target import Target, session_of
from chronolake.sql.translate import translated

LEGACY_SPILL_DIR = ".tmp"


@dataclass(frozen=True)
class OrphanReport:
    dry_run: bool
    files: int  # orphans deleted (dry run: that would be)
    bytes_reclaimed: int
    recent: int  # unreferenced files left alone because they are younger than the grace
    seconds: float
    paths: tuple[str, ...]


def remove_orphans(con: Target, grace: float | None = None, dry_run: bool = False) -> OrphanReport:
    """Delete unreferenced files older than ``grace`` seconds below the tenant's prefix
    (``con``: a connection or its session)."""
    started = time.monotonic()
    session = session_of(con)
    with translated(session.root):  # catalog and file failures as chronolake errors
        grace_s = session.settings.orphan_grace_s if grace is None else float(grace)
        io = session.io
        listing = io.list()
        referenced = referenced_paths(session.catalog, session.tenant)  # after the listing
        cut = time.time() - grace_s
        removed: list[str] = []
        reclaimed = recent = 0
        for entry in listing:
            if entry.path in referenced:
                continue
            if entry.modified.timestamp() > cut:
                recent += 1
                continue
            if not dry_run and not io.delete(entry.path):
                continue
            removed.append(entry.path)
            reclaimed += entry.size
        if not dry_run:  # only when empty: a file younger than the grace keeps it
            io.remove_empty_dir(LEGACY_SPILL_DIR)
        return OrphanReport(
            dry_run=dry_run,
            files=len(removed),
            bytes_reclaimed=reclaimed,
            recent=recent,
            seconds=time.monotonic() - started,
            paths=tuple(removed),
        )
