"""Expiry marks (``cl_expired_files``): the paths expiry found no reachable snapshot needs, and
when cleanup deleted them. Expiry writes marks under the tenant's commit lock, so two expiries
never mark the same path twice; cleanup only sets ``deleted_time``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import delete, insert, select, update

from chronolake.catalog import schema as s
from chronolake.catalog.backends import backend_of
from chronolake.catalog.base import Catalog


def update_marks(
    catalog: Catalog,
    tenant: str,
    unneeded: Mapping[str, tuple[str, int]],
    needed: frozenset[str],
    now_us: int,
    dry_run: bool,
) -> tuple[list[str], list[str]]:
    """Mark every path of ``unneeded`` (path -> (kind, bytes)) not marked yet as expired at
    ``now_us``, and take back the pending marks of paths in ``needed``; return both lists,
    sorted (``dry_run``: what would be, with nothing written)."""
    e = s.expired_files
    with catalog.engine.connect().execution_options(write=True) as conn, conn.begin():
        backend_of(conn).lock_tenant(conn, tenant)  # one expiry at a time marks the files
        marks = {
            str(p): d
            for p, d in conn.execute(
                select(e.c.path, e.c.deleted_time).where(e.c.tenant_id == tenant)
            )
        }
        new = sorted(p for p in unneeded if p not in marks)
        back = sorted(p for p, d in marks.items() if d is None and p in needed)
        if dry_run:
            return new, back
        if new:
            conn.execute(
                insert(e),
                [
                    {
                        "tenant_id": tenant,
                        "path": p,
                        "kind": unneeded[p][0],
                        "byte_size": unneeded[p][1],
                        "expired_time": now_us,
                        "deleted_time": None,
                    }
                    for p in new
                ],
            )
        for p in back:
            conn.execute(delete(e).where(e.c.tenant_id == tenant, e.c.path == p))
    return new, back


def pending_marks(catalog: Catalog, tenant: str) -> list[tuple[str, int]]:
    """(path, expired time in µs) of every mark whose file cleanup has not deleted, by path."""
    e = s.expired_files
    with catalog.engine.connect() as conn:
        return [
            (str(p), int(t))
            for p, t in conn.execute(
                select(e.c.path, e.c.expired_time)
                .where(e.c.tenant_id == tenant, e.c.deleted_time.is_(None))
                .order_by(e.c.path)
            )
        ]


def record_deleted(catalog: Catalog, tenant: str, paths: Iterable[str], now_us: int) -> None:
    """Record that cleanup deleted the files of ``paths`` at ``now_us``."""
    done = list(paths)
    if not done:
        return
    e = s.expired_files
    with catalog.engine.connect().execution_options(write=True) as conn, conn.begin():
        conn.execute(
            update(e).where(e.c.tenant_id == tenant, e.c.path.in_(done)).values(deleted_time=now_us)
        )
