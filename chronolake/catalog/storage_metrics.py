"""Storage metrics: how the bytes of a tenant's files split between its tables (SEMANTICS 9, 11).

Every committed data and delete file the catalog references counts once, for the table that
first wrote it (the file row with the smallest begin snapshot; for data files the row without
``cloned_from`` wins a tie). Its bytes land in exactly one of four buckets of that table:

- ``active``: a row of the writing table that uses the path is visible at the latest snapshot
  and the table exists there, and for a data file, not all of its rows are deleted there (a
  data file whose rows a delete file marks all deleted, and that delete file, are no longer
  active from the snapshot that deleted the last row);
- ``time_travel``: not active, but a row of the writing table is visible at a snapshot still
  inside the table's retention (``catalog/retention.py``), dropped tables included (UNDROP
  brings their data back within retention);
- ``retained_for_clone``: the writing table does not need it any more, but another table that
  shares the path (a clone, or a restore of it) has it active or in its time travel window;
  also a data file all of whose rows the writer deleted before its retention, when a clone
  still reads them (a fully deleted file nobody else needs stays ``time_travel`` while the
  latest snapshot still references it: cleanup keeps it until compaction rewrites it);
- ``failsafe``: nobody needs it; it is past retention and waits for cleanup.

Retention cuts are those of expiry and cleanup (``maintenance/reach.py``): rows visible at the
last snapshot committed strictly before ``now - retention`` or later are in time travel, and a
dropped table keeps the longest of its, its schema's and its database's retention (UNDROP of
either brings it back). A file cleanup already removed from disk (its mark in
``cl_expired_files`` has ``deleted_time``) counts nowhere: catalog rows of deleted files stay.

A row "is visible at S" only while its table exists at S: the file rows of a dropped table stay
open in the catalog, so each row's interval is cut to the table's lifetime (the union of its
``cl_tables`` rows). Everything is computed from a handful of set-based catalog queries (one
per catalog table) and Python; nothing is read per table or per file.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select

from chronolake.catalog import schema as s
from chronolake.catalog.base import Catalog
from chronolake.catalog.retention import (
    DAY_US,
    database_days,
    effective,
    load_parents,
    object_days,
    oldest_reachable_us,
    schema_days,
)

Interval = tuple[int, int]  # [begin, end) in snapshot ids; end is latest + 1 when open
BUCKETS = ("active", "time_travel", "failsafe", "retained_for_clone")


@dataclass
class TableMetrics:
    """One row of TABLE_STORAGE_METRICS (times in microseconds since the epoch, UTC)."""

    table_id: int
    name: str
    schema_id: int
    schema_name: str
    database_id: int
    database_name: str
    clone_group_id: int
    retention_days: int
    transient: bool = False
    active: int = 0
    time_travel: int = 0
    failsafe: int = 0
    retained_for_clone: int = 0
    deleted: bool = False
    created_us: int | None = None
    dropped_us: int | None = None
    entered_failsafe_us: int | None = None
    schema_created_us: int | None = None
    schema_dropped_us: int | None = None
    database_created_us: int | None = None
    database_dropped_us: int | None = None

    @property
    def total(self) -> int:
        return self.active + self.time_travel + self.failsafe + self.retained_for_clone


@dataclass(frozen=True)
class SnapshotPoint:
    """Storage at one snapshot: what it added, and what was active right after it."""

    snapshot_id: int
    commit_time_us: int
    bytes_added: int  # as the snapshot recorded it (a clone records the bytes it shares)
    new_file_bytes: int  # bytes of the files first written by this snapshot
    active_bytes: int
    referenced_bytes: int  # bytes of every file written so far that is still referenced


@dataclass
class StorageReport:
    tables: list[TableMetrics] = field(default_factory=list)
    timeline: list[SnapshotPoint] = field(default_factory=list)


@dataclass(frozen=True)
class _Row:
    table_id: int
    path: str
    begin: int
    end: int | None
    size: int
    cloned: bool
    # the snapshot from which every row of the data file (for a delete row: of the data file
    # it marks) is deleted, if that happened by the latest snapshot
    all_deleted: int | None = None
    is_delete: bool = False


# statuses of one table's use of a path, weakest first: "referenced" is a fully deleted
# file the latest snapshot still references (needed by no reachable state's rows)
_RANK = {"referenced": 0, "time_travel": 1, "active": 2}


def _merge(intervals: Iterable[Interval]) -> list[Interval]:
    out: list[Interval] = []
    for lo, hi in sorted(intervals):
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        elif lo < hi:
            out.append((lo, hi))
    return out


def _cut(row: _Row, life: list[Interval], top: int) -> list[Interval]:
    """The row's interval cut to its table's lifetime."""
    lo, hi = row.begin, top if row.end is None else row.end
    out = []
    for a, b in life:
        x, y = max(lo, a), min(hi, b)
        if x < y:
            out.append((x, y))
    return out


def _live(row: _Row, pieces: list[Interval], extra: int = 0) -> list[Interval]:
    """Pieces cut where the data file's rows are all deleted (``extra`` snapshots later)."""
    if row.all_deleted is None:
        return pieces
    stop = row.all_deleted + extra
    return [(lo, min(hi, stop)) for lo, hi in pieces if lo < stop]


def _status(row: _Row, pieces: list[Interval], top: int, oldest: int) -> str | None:
    if row.all_deleted is None and any(hi == top for _, hi in pieces):
        return "active"
    # the delete file that deleted the last row is read by time travel to that snapshot
    if any(hi > oldest for _, hi in _live(row, pieces, 1 if row.is_delete else 0)):
        return "time_travel"
    if any(hi == top for _, hi in pieces):
        return "referenced"
    return None


def _all_deleted(data_rows: Iterable[Any], delete_rows: Iterable[Any]) -> dict[int, int]:
    """Data file row id -> the first snapshot at which a delete file marks all its rows."""
    counts = {int(r.file_id): int(r.row_count) for r in data_rows}
    out: dict[int, int] = {}
    for r in delete_rows:
        fid = int(r.data_file_id)
        if fid in counts and int(r.delete_count) >= counts[fid]:
            out[fid] = min(out.get(fid, int(r.begin_snapshot)), int(r.begin_snapshot))
    return out


def _clamp(end: Any, latest: int) -> int | None:
    """An end snapshot as seen at ``latest``: ended later means still open then."""
    return None if end is None or int(end) > latest else int(end)


class _Versions:
    """All catalog rows of tables, schemas or databases of a tenant, by id, oldest first, as
    of snapshot ``latest`` (what later commits began or ended is left out)."""

    def __init__(self, rows: Iterable[Any], latest: int) -> None:
        self.rows: dict[int, list[Any]] = defaultdict(list)
        for row in rows:
            d = dict(row._mapping)
            if int(d["begin_snapshot"]) > latest:
                continue
            d["end_snapshot"] = _clamp(d["end_snapshot"], latest)
            self.rows[int(row[0])].append(SimpleNamespace(**d))
        for v in self.rows.values():
            v.sort(key=lambda r: int(r.begin_snapshot))

    def last(self, oid: int) -> Any | None:
        v = self.rows.get(oid)
        return v[-1] if v else None

    def first_begin(self, oid: int) -> int | None:
        v = self.rows.get(oid)
        return int(v[0].begin_snapshot) if v else None

    def life(self, oid: int, top: int) -> list[Interval]:
        return _merge(
            (int(r.begin_snapshot), top if r.end_snapshot is None else int(r.end_snapshot))
            for r in self.rows.get(oid, ())
        )

    def dropped_at(self, oid: int) -> int | None:
        last = self.last(oid)
        return None if last is None or last.end_snapshot is None else int(last.end_snapshot)


def storage_report(catalog: Catalog, tenant: str, now_us: int) -> StorageReport:
    """Per table storage metrics at ``now_us`` (the clock of the caller), and the timeline."""
    latest = catalog.latest_snapshot(tenant)
    top = latest.snapshot_id + 1
    ns = catalog.namespace(tenant, latest)
    t, sc, db, sn = s.tables, s.schemas, s.databases, s.snapshots
    df, dl = s.data_files, s.delete_files
    with catalog.engine.connect() as c:
        tables = _Versions(
            c.execute(
                select(
                    t.c.table_id,
                    t.c.begin_snapshot,
                    t.c.end_snapshot,
                    t.c.schema_id,
                    t.c.name,
                    t.c.created_snapshot,
                    t.c.view_sql,
                    t.c.retention_days,
                    t.c.transient,
                ).where(t.c.tenant_id == tenant)
            ),
            latest.snapshot_id,
        )
        schemas = _Versions(
            c.execute(
                select(
                    sc.c.schema_id,
                    sc.c.begin_snapshot,
                    sc.c.end_snapshot,
                    sc.c.database_id,
                    sc.c.name,
                    sc.c.retention_days,
                ).where(sc.c.tenant_id == tenant)
            ),
            latest.snapshot_id,
        )
        databases = _Versions(
            c.execute(
                select(
                    db.c.database_id,
                    db.c.begin_snapshot,
                    db.c.end_snapshot,
                    db.c.name,
                    db.c.retention_days,
                ).where(db.c.tenant_id == tenant)
            ),
            latest.snapshot_id,
        )
        snaps = c.execute(
            select(sn.c.snapshot_id, sn.c.commit_time, sn.c.bytes_added)
            .where(sn.c.tenant_id == tenant, sn.c.snapshot_id <= latest.snapshot_id)
            .order_by(sn.c.snapshot_id)
        ).all()
        tenant_created = c.execute(
            select(s.tenants.c.created_time).where(s.tenants.c.tenant_id == tenant)
        ).scalar()
        data_rows = c.execute(
            select(
                df.c.file_id,
                df.c.table_id,
                df.c.path,
                df.c.begin_snapshot,
                df.c.end_snapshot,
                df.c.byte_size,
                df.c.cloned_from,
                df.c.row_count,
            ).where(df.c.tenant_id == tenant, df.c.begin_snapshot <= latest.snapshot_id)
        ).all()
        delete_rows = c.execute(
            select(
                dl.c.table_id,
                dl.c.path,
                dl.c.begin_snapshot,
                dl.c.end_snapshot,
                dl.c.byte_size,
                dl.c.data_file_id,
                dl.c.delete_count,
            ).where(dl.c.tenant_id == tenant, dl.c.begin_snapshot <= latest.snapshot_id)
        ).all()

        gone: set[str] = set()
        marks = s.metadata.tables.get("cl_expired_files")  # expiry's marks, if present
        if marks is not None:
            gone = {
                str(p)
                for (p,) in c.execute(
                    select(marks.c.path).where(
                        marks.c.tenant_id == tenant, marks.c.deleted_time.is_not(None)
                    )
                )
            }

    snap_ids = [int(r.snapshot_id) for r in snaps]
    snap_times = [int(r.commit_time) for r in snaps]
    time_of = dict(zip(snap_ids, snap_times, strict=True))
    created_us = int(tenant_created) if tenant_created is not None else None

    def when(snapshot_id: int | None) -> int | None:
        if snapshot_id is None:
            return None
        return time_of.get(snapshot_id, created_us)  # snapshot 0: the tenant's creation

    def oldest_snapshot(days: int) -> int:
        """The last snapshot committed strictly before the oldest point the retention keeps
        reachable (0 if none): rows visible there or later are still in time travel. The
        same cut as expiry's (``maintenance/reach.py``)."""
        i = bisect.bisect_left(snap_times, oldest_reachable_us(now_us, days))
        return snap_ids[i - 1] if i > 0 else 0

    # Effective retention of every table, dropped or not, as the catalog says now.
    parents = load_parents(catalog, tenant, latest.snapshot_id)

    all_deleted = _all_deleted(data_rows, delete_rows)
    rows: list[_Row] = [
        _Row(
            int(r.table_id),
            str(r.path),
            int(r.begin_snapshot),
            _clamp(r.end_snapshot, latest.snapshot_id),
            int(r.byte_size),
            r.cloned_from is not None,
            all_deleted.get(int(r.file_id)),
        )
        for r in data_rows
    ]
    rows += [
        _Row(
            int(r.table_id),
            str(r.path),
            int(r.begin_snapshot),
            _clamp(r.end_snapshot, latest.snapshot_id),
            int(r.byte_size),
            False,
            all_deleted.get(int(r.data_file_id)),
            is_delete=True,
        )
        for r in delete_rows
    ]
    # The table a clone copied its files from: the writer of the rows it began with.
    file_table = {int(r.file_id): int(r.table_id) for r in data_rows}
    cloned_source: dict[int, int] = {}
    for dr in data_rows:
        if dr.cloned_from is None:
            continue
        src = file_table.get(int(dr.cloned_from))
        last = tables.last(int(dr.table_id))
        if (
            src is not None
            and last is not None
            and int(dr.begin_snapshot) == int(last.created_snapshot)
        ):
            cloned_source.setdefault(int(dr.table_id), src)

    metrics: dict[int, TableMetrics] = {}
    for tid in tables.rows:
        last = tables.last(tid)
        if last is None or last.view_sql is not None:
            continue
        schema_id = int(last.schema_id)
        srow = schemas.last(schema_id)
        database_id = int(srow.database_id) if srow is not None else 0
        drow = databases.last(database_id)
        live = ns.tables.get(tid)
        if live is not None:
            own = live.retention_days
        else:
            own = None if last.retention_days is None else int(last.retention_days)
        transient = bool(last.transient)
        days = effective(ns, object_days(ns, "TABLE", own, schema_id, parents, transient))
        dropped = tables.dropped_at(tid)
        if dropped is not None:
            # UNDROP SCHEMA / DATABASE revive the table too: the longest of the three counts
            # (as for expiry, ``maintenance/reach.py``).
            days = max(days, effective(ns, schema_days(ns, schema_id, parents)))
            if database_id:
                days = max(days, effective(ns, database_days(ns, database_id, parents)))
        m = TableMetrics(
            table_id=tid,
            name=str(last.name),
            schema_id=schema_id,
            schema_name=str(srow.name) if srow is not None else "",
            database_id=database_id,
            database_name=str(drow.name) if drow is not None else "",
            clone_group_id=tid,
            retention_days=days,
            transient=transient,
            created_us=when(int(last.created_snapshot)),
            dropped_us=when(dropped),
            schema_created_us=when(schemas.first_begin(schema_id)),
            schema_dropped_us=when(schemas.dropped_at(schema_id)),
            database_created_us=when(databases.first_begin(database_id)),
            database_dropped_us=when(databases.dropped_at(database_id)),
        )
        if dropped is not None and m.dropped_us is not None:
            out_us = m.dropped_us + days * DAY_US
            if out_us < now_us:
                m.deleted = True
                m.entered_failsafe_us = out_us
        metrics[tid] = m
    for tid, m in metrics.items():
        seen = {tid}
        group = tid
        while group in cloned_source and cloned_source[group] not in seen:
            group = cloned_source[group]
            seen.add(group)
        m.clone_group_id = group

    life = {tid: tables.life(tid, top) for tid in tables.rows}
    oldest = {tid: oldest_snapshot(m.retention_days) for tid, m in metrics.items()}

    by_path: dict[str, list[_Row]] = defaultdict(list)
    for r in rows:
        by_path[r.path].append(r)

    # Per path: merged intervals where it is active somewhere, for the timeline.
    active_pieces: list[tuple[int, int, int]] = []
    first_seen: list[tuple[int, int]] = []
    for path_rows in by_path.values():
        writer = min(path_rows, key=lambda r: (r.begin, r.cloned))
        size = writer.size
        status: dict[int, str] = {}  # table id -> best status of its rows using the path
        pieces_all: list[Interval] = []
        for r in path_rows:
            pieces = _cut(r, life.get(r.table_id, []), top)
            pieces_all += _live(r, pieces)
            if r.table_id not in metrics:
                continue
            found = _status(r, pieces, top, oldest[r.table_id])
            if found is not None and _RANK[found] > _RANK.get(status.get(r.table_id, ""), -1):
                status[r.table_id] = found
        first_seen.append((writer.begin, size))
        for lo, hi in _merge(pieces_all):
            active_pieces.append((lo, hi, size))
        owner = metrics.get(writer.table_id)
        # No owner: a file row of a table without a table row (never committed that way).
        # Gone: cleanup removed the file from disk.
        if owner is None or writer.path in gone:
            continue
        mine = status.get(writer.table_id)
        others = any(st != "referenced" for tid, st in status.items() if tid != writer.table_id)
        if mine in ("active", "time_travel"):
            bucket = mine
        elif others:
            bucket = "retained_for_clone"
        elif mine == "referenced":
            bucket = "time_travel"
        else:
            bucket = "failsafe"
        setattr(owner, bucket, getattr(owner, bucket) + size)

    # Timeline: a difference array over snapshot ids.
    delta: dict[int, int] = defaultdict(int)
    for lo, hi, size in active_pieces:
        delta[lo] += size
        delta[hi] -= size
    written: dict[int, int] = defaultdict(int)
    for begin, size in first_seen:
        written[begin] += size
    timeline = []
    running = referenced = 0
    for sr in snaps:
        sid = int(sr.snapshot_id)
        running += delta.get(sid, 0)
        referenced += written.get(sid, 0)
        timeline.append(
            SnapshotPoint(
                sid,
                int(sr.commit_time),
                int(sr.bytes_added),
                written.get(sid, 0),
                running,
                referenced,
            )
        )
    ordered = sorted(
        metrics.values(), key=lambda m: (m.database_name, m.schema_name, m.name, m.table_id)
    )
    return StorageReport(ordered, timeline)
