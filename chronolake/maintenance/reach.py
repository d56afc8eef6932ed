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
path stays needed while any table using it needs it. The catalog is read with a handful of
set-based queries (``catalog/reach_inputs.py``).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from chronolake.catalog.base import Catalog
from chronolake.catalog.reach_inputs import read_reach_inputs
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
    inputs = read_reach_inputs(catalog, tenant)
    ids, times = inputs.snapshot_ids, inputs.commit_times
    time_of = dict(zip(ids, times, strict=True))

    def s0(days: int) -> int:
        """The last snapshot committed strictly before the cut-off (0 if none)."""
        i = bisect.bisect_left(times, now_us - days * DAY_US)
        return ids[i - 1] if i > 0 else 0

    keep_from: dict[int, int | None] = {}  # table id -> S0, None: nothing needed
    for r in inputs.last_tables:
        tid = r.table_id
        table = ns.tables.get(tid)
        if table is not None and r.end_snapshot is None:
            keep_from[tid] = s0(effective(ns, table_days(ns, table, parents)))
            continue
        if r.end_snapshot is None:  # pragma: no cover - an open row is in the namespace
            keep_from[tid] = -1
            continue
        own, schema_id = r.retention_days, r.schema_id
        days = effective(ns, object_days(ns, "TABLE", own, schema_id, parents, r.transient))
        sc = ns.schemas.get(schema_id)
        if sc is None:  # UNDROP SCHEMA (or DATABASE) may bring the table back with it
            days = max(days, effective(ns, schema_days(ns, schema_id, parents)))
            db_id = parents.schemas.get(schema_id, (None, 0))[1]
            if db_id and db_id not in ns.databases:
                days = max(days, effective(ns, database_days(ns, db_id, parents)))
        dropped_us = time_of.get(r.end_snapshot, 0)
        keep_from[tid] = s0(days) if dropped_us >= now_us - days * DAY_US else None

    referenced: dict[str, tuple[str, int]] = {}
    needed: set[str] = set()
    for f in inputs.files:
        referenced.setdefault(f.path, (f.kind, f.byte_size))
        start = keep_from.get(f.table_id, -1)
        if start is not None and (f.end_snapshot is None or f.end_snapshot > start):
            needed.add(f.path)
    return Reach(now_us, referenced, frozenset(needed))
