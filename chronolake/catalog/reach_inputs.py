"""What the reachability rule of expiry and cleanup (``maintenance/reach.py``) reads from the
catalog, in a handful of set-based queries: the tenant's snapshots with their commit times,
the last row of every table id, every data and delete file row; and the paths orphan removal
must never touch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from chronolake.catalog import schema as s
from chronolake.catalog.base import Catalog


@dataclass(frozen=True)
class LastTableRow:
    """The newest ``cl_tables`` row of a table id (open while the table exists)."""

    table_id: int
    end_snapshot: int | None
    retention_days: int | None
    schema_id: int
    transient: bool


@dataclass(frozen=True)
class FileRow:
    """One data or delete file row: a path a table used until ``end_snapshot``."""

    kind: str  # 'data' | 'delete'
    table_id: int
    path: str
    end_snapshot: int | None
    byte_size: int


@dataclass(frozen=True)
class ReachInputs:
    snapshot_ids: list[int]  # ascending
    commit_times: list[int]  # of each snapshot, in the same order (ascending too)
    last_tables: list[LastTableRow]
    files: list[FileRow]


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def read_reach_inputs(catalog: Catalog, tenant: str) -> ReachInputs:
    """Everything reachability needs of ``tenant``."""
    t, sn = s.tables, s.snapshots
    last = (
        select(t.c.table_id, func.max(t.c.begin_snapshot).label("b"))
        .where(t.c.tenant_id == tenant)
        .group_by(t.c.table_id)
        .subquery()
    )
    with catalog.engine.connect() as c:
        ids, times = [], []
        for sid, ct in c.execute(
            select(sn.c.snapshot_id, sn.c.commit_time)
            .where(sn.c.tenant_id == tenant)
            .order_by(sn.c.snapshot_id)
        ):
            ids.append(int(sid))
            times.append(int(ct))
        tables = [
            LastTableRow(
                int(r.table_id),
                _int_or_none(r.end_snapshot),
                _int_or_none(r.retention_days),
                int(r.schema_id),
                bool(r.transient),
            )
            for r in c.execute(
                select(
                    t.c.table_id, t.c.end_snapshot, t.c.retention_days, t.c.schema_id, t.c.transient
                )
                .join(last, (last.c.table_id == t.c.table_id) & (last.c.b == t.c.begin_snapshot))
                .where(t.c.tenant_id == tenant)
            )
        ]
        files = [
            FileRow(
                kind, int(f.table_id), str(f.path), _int_or_none(f.end_snapshot), int(f.byte_size)
            )
            for kind, ft in (("data", s.data_files), ("delete", s.delete_files))
            for f in c.execute(
                select(ft.c.table_id, ft.c.path, ft.c.end_snapshot, ft.c.byte_size).where(
                    ft.c.tenant_id == tenant
                )
            )
        ]
    return ReachInputs(ids, times, tables, files)


def referenced_paths(catalog: Catalog, tenant: str) -> set[str]:
    """Every path a data or delete file row of ``tenant`` names (committed files only)."""
    out: set[str] = set()
    with catalog.engine.connect() as c:
        for ft in (s.data_files, s.delete_files):
            paths = c.execute(select(ft.c.path).where(ft.c.tenant_id == tenant))
            out.update(str(p) for (p,) in paths)
    return out
