"""Which files a tenant still needs: the reachability rule expiry and cleanup share.

A file (data or delete file, by path) is *needed* while some catalog row using its path is
visible at a snapshot that time travel, UNDROP or the latest state can still reach:

* a live table: every row visible at a snapshot >= ``S0``, where ``S0`` is the last snapshot
  committed strictly before ``now - effective retention`` (``catalog/retention.py``). ``S0`` and
  not the first snapshot after the cut-off, because ``AT(TIMESTAMP => cut-off)`` reads the state
  at ``S0``'s successor or earlier and ``BEFORE(VERSION => v)`` reads ``v - 1``; open rows are the
  latest state;
* a dropped table that UNDROP can still bring back (dropped at or after ``now - retention``,
  with retention the table's effective value, raised to its schema's (and database's) when
  that is dropped too, since UNDROP SCHEMA / DATABASE revive its tables): the same rule;
* a dropped table past its retention: nothing (time travel never names a dropped table);
* file rows of a table id without any ``cl_tables`` row: everything (never guess).

Clones and restores add their own rows with the same path, in their own table, so a shared
path stays needed while any table using it needs it. Everything is read with a handful of
set-based catalog queries.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from sqlalchemy import func, select

from chronolake.catalog import schema as s
from chronolake.catalog.base import Catalog
from chronolake.catalog.retention import (
    DAY_US,
    database_days,
    effective,
    load_parents,
    object_days,
    schema_days,
    table_days,
)


@dataclass(frozen=True)
class Reach:
    """What the catalog references and what of it is still needed, at ``now_us``."""

    now_us: int
    referenced: dict[str, tuple[str, int]]  # path -> (kind 'data' | 'delete', bytes)
    needed: frozenset[str]

    @property
    def unneeded(self) -> set[str]:
        return set(self.referenced) - self.needed


def reachability(catalog: Catalog, tenant: str, now_us: int) -> Reach:
    latest = catalog.latest_snapshot(tenant)
    ns = catalog.namespace(tenant, latest)
    parents = load_parents(catalog, tenant, latest.snapshot_id)
    t, sn = s.tables, s.snapshots
    with catalog.engine.connect() as c:
        ids, times = [], []
        for sid, ct in c.execute(
            select(sn.c.snapshot_id, sn.c.commit_time)
            .where(sn.c.tenant_id == tenant)
            .order_by(sn.c.snapshot_id)
        ):
            ids.append(int(sid))
            times.append(int(ct))
        last = (
            select(t.c.table_id, func.max(t.c.begin_snapshot).label("b"))
            .where(t.c.tenant_id == tenant)
            .group_by(t.c.table_id)
            .subquery()
        )
        last_rows = list(
            c.execute(
                select(
                    t.c.table_id, t.c.end_snapshot, t.c.retention_days, t.c.schema_id, t.c.transient
                )
                .join(
                    last,
                    (last.c.table_id == t.c.table_id) & (last.c.b == t.c.begin_snapshot),
                )
                .where(t.c.tenant_id == tenant)
            )
        )
        file_rows: list[tuple[str, int, str, int | None, int]] = []
        for kind, ft in (("data", s.data_files), ("delete", s.delete_files)):
            for f in c.execute(
                select(ft.c.table_id, ft.c.path, ft.c.end_snapshot, ft.c.byte_size).where(
                    ft.c.tenant_id == tenant
                )
            ):
                end = None if f.end_snapshot is None else int(f.end_snapshot)
                file_rows.append((kind, int(f.table_id), str(f.path), end, int(f.byte_size)))
    time_of = dict(zip(ids, times, strict=True))

    def s0(days: int) -> int:
        """The last snapshot committed strictly before the cut-off (0 if none)."""
        i = bisect.bisect_left(times, now_us - days * DAY_US)
        return ids[i - 1] if i > 0 else 0

    keep_from: dict[int, int | None] = {}  # table id -> S0, None: nothing needed
    for r in last_rows:
        tid = int(r.table_id)
        table = ns.tables.get(tid)
        if table is not None and r.end_snapshot is None:
            keep_from[tid] = s0(effective(ns, table_days(ns, table, parents)))
            continue
        if r.end_snapshot is None:  # pragma: no cover - an open row is in the namespace
            keep_from[tid] = -1
            continue
        own = None if r.retention_days is None else int(r.retention_days)
        schema_id = int(r.schema_id)
        days = effective(ns, object_days(ns, "TABLE", own, schema_id, parents, bool(r.transient)))
        sc = ns.schemas.get(schema_id)
        if sc is None:  # UNDROP SCHEMA (or DATABASE) may bring the table back with it
            days = max(days, effective(ns, schema_days(ns, schema_id, parents)))
            db_id = parents.schemas.get(schema_id, (None, 0))[1]
            if db_id and db_id not in ns.databases:
                days = max(days, effective(ns, database_days(ns, db_id, parents)))
        dropped_us = time_of.get(int(r.end_snapshot), 0)
        keep_from[tid] = s0(days) if dropped_us >= now_us - days * DAY_US else None

    referenced: dict[str, tuple[str, int]] = {}
    needed: set[str] = set()
    for kind, tid, path, end, size in file_rows:
        referenced.setdefault(path, (kind, size))
        start = keep_from.get(tid, -1)
        if start is not None and (end is None or end > start):
            needed.add(path)
    return Reach(now_us, referenced, frozenset(needed))
