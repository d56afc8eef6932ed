"""Copying a lake with all its history into a new catalog and storage (e.g. an embedded lake to
PostgreSQL + S3, and back), verified version by version.

Order: files first, catalog rows last, in one catalog transaction, so a copy that fails
leaves the destination with files only (orphans that a new copy overwrites) and no tenant.
Verification, once the rows are in: every catalog row equal, every copied file's SHA-256
equal, and at every version of every table (each snapshot that changed it) the row count and
an order-independent hash of all rows, read through each lake's own engine, equal.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chronolake.catalog.transfer import (
    check_empty,
    copy_catalog,
    differences,
    table_versions,
    tenant_ids,
)
from chronolake.errors import DataError, OperationalError, ProgrammingError
from chronolake.maintenance.reach import reachability
from chronolake.sql.session import Session, to_us

if TYPE_CHECKING:
    from chronolake.api.lake import Lake


@dataclass(frozen=True)
class CopyReport:
    tenants: int
    files: int  # data and delete files copied
    bytes: int
    skipped: int  # files cleanup had already deleted (history retention no longer reaches)
    catalog_rows: int
    versions_checked: int  # (table, snapshot) states read and compared in both lakes
    seconds: float


def _copy_files(source: Lake, dest: Lake, tenant: str, now_us: int) -> tuple[int, int, int, set]:
    """Copy the tenant's referenced files; (files, bytes, skipped, paths copied)."""
    reach = reachability(source.catalog, tenant, now_us)
    src, dst = source.layout.tenant_io(tenant), dest.layout.tenant_io(tenant)
    files = size = skipped = 0
    copied: set[str] = set()
    for rel in sorted(reach.referenced):
        if not (src.contains(rel) and dst.contains(rel)):
            raise DataError(
                f"The catalog of tenant '{tenant}' names a file outside its prefix: {rel}."
            )
        if not src.exists(rel):
            if rel in reach.needed:
                raise OperationalError(
                    f"File {src.uri(rel)} of tenant '{tenant}' is missing but still needed by "
                    "its history: the source lake is damaged; nothing was copied into the "
                    "catalog."
                )
            skipped += 1  # cleanup deleted it; no reachable version reads it
            continue
        n, digest = dst.copy_from(src, rel)
        if dst.sha256(rel) != digest:
            raise OperationalError(f"Copying {rel} of tenant '{tenant}' gave a different file.")
        files, size = files + 1, size + n
        copied.add(rel)
    return files, size, skipped, copied


def _state_digest(session: Session, table_id: int, snapshot_id: int) -> tuple[int, int] | None:
    """(rows, hash of all rows) of a table at a snapshot; None when it does not exist then."""
    cat, tenant = session.catalog, session.tenant
    snap = cat.snapshot(tenant, snapshot_id)
    table = cat.namespace(tenant, snap).tables.get(table_id) if snap is not None else None
    if table is None:
        return None
    version, files = cat.table_state(tenant, table_id, snapshot_id)
    read_view, _ = session.views.views(("copy", table_id, version), table.columns, files)
    count, digest = session.duck.execute(
        f'SELECT count(*), coalesce(sum(hash(v)::HUGEINT), 0) FROM "{read_view}" AS v'
    ).fetchone() or (0, 0)
    return int(count), int(digest)


def _readable(session: Session, table_id: int, snapshot_id: int, copied: set[str]) -> bool:
    """Whether every file of the state was copied (cleanup may have deleted old ones)."""
    _, files = session.catalog.table_state(session.tenant, table_id, snapshot_id)
    paths = {f.path for f in files} | {f.delete.path for f in files if f.delete is not None}
    return paths <= copied


def _verify(source: Lake, dest: Lake, tenant: str, copied: set[str]) -> int:
    checked = 0
    src_con, dst_con = source.connect(tenant), dest.connect(tenant)
    try:
        src, dst = src_con._session, dst_con._session
        for table_id, snapshot_id in table_versions(source.catalog.engine, tenant):
            if not _readable(src, table_id, snapshot_id, copied):
                continue
            a, b = (
                _state_digest(src, table_id, snapshot_id),
                _state_digest(dst, table_id, snapshot_id),
            )
            if a != b:
                raise OperationalError(
                    f"Verification failed: tenant '{tenant}', table id {table_id} at snapshot "
                    f"{snapshot_id} reads {a} in the source and {b} in the copy."
                )
            checked += 1
    finally:
        src_con.close()
        dst_con.close()
    return checked


def copy_lake(
    source: Lake, dest: Lake, *, on_progress: Callable[[str], None] | None = None
) -> CopyReport:
    """Copy every tenant of ``source``, with all its history, into the empty ``dest``."""
    started = time.perf_counter()
    say = on_progress or (lambda _msg: None)
    if dest.read_only:
        raise ProgrammingError("The destination of a copy cannot be opened read-only.")
    if source.location == dest.location:
        raise ProgrammingError("The source and the destination of a copy are the same lake.")
    check_empty(dest.catalog.engine, str(dest.location))
    now_us = to_us(source.settings.clock())
    tenants = tenant_ids(source.catalog.engine)
    files = size = skipped = 0
    copied: dict[str, set[str]] = {}
    for tenant in tenants:
        n, b, k, copied[tenant] = _copy_files(source, dest, tenant, now_us)
        files, size, skipped = files + n, size + b, skipped + k
        say(f"tenant {tenant}: {n} files ({b} bytes) copied, {k} already cleaned up")
    rows = sum(copy_catalog(source.catalog.engine, dest.catalog.engine).values())
    say(f"catalog: {rows} rows copied")
    diff = differences(source.catalog.engine, dest.catalog.engine)
    if diff:
        raise OperationalError("Verification failed: the catalogs differ: " + "; ".join(diff))
    checked = 0
    for tenant in tenants:
        n = _verify(source, dest, tenant, copied[tenant])
        checked += n
        say(f"tenant {tenant}: {n} table versions read equal in both lakes")
    return CopyReport(
        len(tenants), files, size, skipped, rows, checked, time.perf_counter() - started
    )
