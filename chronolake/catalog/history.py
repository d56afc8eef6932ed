"""Dropped objects: versions of tables, schemas and databases no longer in the namespace.

A dropped object is one whose *last* catalog row (the row with the largest begin snapshot, as
seen from a read snapshot) has been ended. Its columns and data files are never ended by a
drop, so bringing the same id back into the namespace (UNDROP) makes its data and history
visible again. Renames end a row too, but then the id lives on under a later row, which is why
only the last row of an id counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, func, insert, select, update

from chronolake.catalog import schema as s
from chronolake.catalog.base import Catalog, column_from_row, visible
from chronolake.catalog.commit import MAINTENANCE_OPERATIONS
from chronolake.catalog.model import DataFile, TableInfo


@dataclass(frozen=True)
class Dropped:
    """The last version of a dropped object."""

    object_id: int
    name: str
    parent_id: int | None  # tables: schema id; schemas: database id; databases: None
    created_snapshot: int  # tables: their created snapshot; others: first begin snapshot
    dropped_snapshot: int  # the snapshot that ended the last row
    next_column_id: int = 0  # tables only
    retention_days: int | None = None  # its own DATA_RETENTION_TIME_IN_DAYS, if set
    transient: bool = False  # tables only


_KINDS: dict[str, tuple[Any, str, str | None]] = {
    "TABLE": (s.tables, "table_id", "schema_id"),
    "SCHEMA": (s.schemas, "schema_id", "database_id"),
    "DATABASE": (s.databases, "database_id", None),
}


def _last_rows(kind: str, tenant: str, read: int) -> tuple[Any, Select[Any]]:
    """Every id's last row among the rows begun at or before ``read``."""
    table, idcol, _ = _KINDS[kind]
    other = table.alias("later")
    latest = (
        select(func.max(other.c.begin_snapshot))
        .where(
            other.c.tenant_id == table.c.tenant_id,
            other.c[idcol] == table.c[idcol],
            other.c.begin_snapshot <= read,
        )
        .scalar_subquery()
    )
    q = select(table).where(table.c.tenant_id == tenant, table.c.begin_snapshot == latest)
    return table, q


def dropped(
    catalog: Catalog,
    tenant: str,
    kind: str,
    read: int,
    *,
    name: str | None = None,
    parent_ids: Iterable[int] | None = None,
    dropped_snapshot: int | None = None,
) -> list[Dropped]:
    """Dropped versions of ``kind`` ('TABLE', 'SCHEMA', 'DATABASE') as of snapshot ``read``,
    most recently dropped first. Views are not tables here."""
    table, idcol, parent = _KINDS[kind]
    _, q = _last_rows(kind, tenant, read)
    q = q.where(table.c.end_snapshot.is_not(None), table.c.end_snapshot <= read)
    if name is not None:
        q = q.where(table.c.name == name)
    if parent is not None and parent_ids is not None:
        q = q.where(table.c[parent].in_(list(parent_ids)))
    if dropped_snapshot is not None:
        q = q.where(table.c.end_snapshot == dropped_snapshot)
    if kind == "TABLE":
        q = q.where(table.c.view_sql.is_(None))
    with catalog.engine.connect() as c:
        rows = list(c.execute(q))
        first: dict[int, int] = {}
        if kind != "TABLE" and rows:
            ids = [int(r._mapping[idcol]) for r in rows]
            first = {
                int(i): int(b)
                for i, b in c.execute(
                    select(table.c[idcol], func.min(table.c.begin_snapshot))
                    .where(table.c.tenant_id == tenant, table.c[idcol].in_(ids))
                    .group_by(table.c[idcol])
                )
            }
    out = []
    for r in rows:
        m = r._mapping
        oid = int(m[idcol])
        out.append(
            Dropped(
                object_id=oid,
                name=str(m["name"]),
                parent_id=None if parent is None else int(m[parent]),
                created_snapshot=int(m["created_snapshot"]) if kind == "TABLE" else first[oid],
                dropped_snapshot=int(m["end_snapshot"]),
                next_column_id=int(m["next_column_id"]) if kind == "TABLE" else 0,
                retention_days=None if m["retention_days"] is None else int(m["retention_days"]),
                transient=kind == "TABLE" and bool(m["transient"]),
            )
        )
    out.sort(key=lambda d: (-d.dropped_snapshot, d.object_id))
    return out


def last_names(catalog: Catalog, tenant: str, kind: str, read: int) -> dict[int, tuple[str, int]]:
    """id -> (name, parent id or 0) of every schema or database, dropped or not."""
    _, idcol, parent = _KINDS[kind]
    _, q = _last_rows(kind, tenant, read)
    with catalog.engine.connect() as c:
        return {
            int(r._mapping[idcol]): (
                str(r._mapping["name"]),
                0 if parent is None else int(r._mapping[parent]),
            )
            for r in c.execute(q)
        }


def last_retention(
    catalog: Catalog, tenant: str, kind: str, read: int
) -> dict[int, tuple[int | None, int]]:
    """id -> (own retention days or None, parent id or 0) of every schema or database, from
    its last row (dropped or not): what a dropped object inherits from."""
    _, idcol, parent = _KINDS[kind]
    _, q = _last_rows(kind, tenant, read)
    with catalog.engine.connect() as c:
        return {
            int(r._mapping[idcol]): (
                None if r._mapping["retention_days"] is None else int(r._mapping["retention_days"]),
                0 if parent is None else int(r._mapping[parent]),
            )
            for r in c.execute(q)
        }


def first_snapshots(catalog: Catalog, tenant: str, kind: str) -> dict[int, int]:
    """id -> the first snapshot of each schema or database (its creation)."""
    table, idcol, _ = _KINDS[kind]
    with catalog.engine.connect() as c:
        return {
            int(i): int(b)
            for i, b in c.execute(
                select(table.c[idcol], func.min(table.c.begin_snapshot))
                .where(table.c.tenant_id == tenant)
                .group_by(table.c[idcol])
            )
        }


def commit_times(catalog: Catalog, tenant: str, snapshots: Iterable[int]) -> dict[int, int]:
    """snapshot id -> commit time (us); snapshot 0 (a tenant's start) -> its creation time."""
    ids = sorted(set(snapshots))
    out: dict[int, int] = {}
    sn = s.snapshots
    with catalog.engine.connect() as c:
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            for sid, t in c.execute(
                select(sn.c.snapshot_id, sn.c.commit_time).where(
                    sn.c.tenant_id == tenant, sn.c.snapshot_id.in_(chunk)
                )
            ):
                out[int(sid)] = int(t)
        if 0 in ids:
            row = c.execute(
                select(s.tenants.c.created_time).where(s.tenants.c.tenant_id == tenant)
            ).first()
            if row is not None:
                out[0] = int(row[0])
    return out


def dropped_table_info(catalog: Catalog, tenant: str, d: Dropped) -> TableInfo:
    """The dropped table as it was just before its drop (columns are never ended by a drop)."""
    at = d.dropped_snapshot - 1
    col = s.columns
    with catalog.engine.connect() as c:
        cols = [
            column_from_row(r)
            for r in c.execute(
                select(col).where(
                    col.c.tenant_id == tenant, col.c.table_id == d.object_id, visible(col, at)
                )
            )
        ]
    cols.sort(key=lambda x: x.position)
    assert d.parent_id is not None
    return TableInfo(
        d.object_id,
        d.parent_id,
        d.name,
        tuple(cols),
        d.created_snapshot,
        d.next_column_id,
        retention_days=d.retention_days,
        transient=d.transient,
    )


def seed_row_ids(catalog: Catalog, tenant: str, source_id: int, table_id: int) -> None:
    """A clone's row id counter starts at its source's, so the row ids of the rows it shares
    and of the rows either side adds later never collide. Written at once (like
    ``Catalog.allocate_row_ids``): a counter of a table that never commits is harmless."""
    t = s.table_row_ids
    with catalog.engine.connect().execution_options(write=True) as conn, conn.begin():
        row = conn.execute(
            select(t.c.next_row_id).where(t.c.tenant_id == tenant, t.c.table_id == source_id)
        ).first()
        start = int(row[0]) if row is not None else 0
        mine = conn.execute(
            select(t.c.next_row_id).where(t.c.tenant_id == tenant, t.c.table_id == table_id)
        ).first()
        if mine is None:
            conn.execute(insert(t).values(tenant_id=tenant, table_id=table_id, next_row_id=start))
        elif int(mine[0]) < start:
            conn.execute(
                update(t)
                .where(t.c.tenant_id == tenant, t.c.table_id == table_id)
                .values(next_row_id=start)
            )


def compacted_inserts(
    catalog: Catalog, tenant: str, table_id: int, s0: int, s1: int
) -> list[DataFile]:
    """INSERT files written inside (s0, s1] that a compaction replaced before s1: their rows
    now live in files that store row ids (never counted as inserts), so CHANGES APPEND_ONLY
    reads the rows as inserted from the original files, which retention keeps."""
    f, sn = s.data_files, s.snapshots
    q = (
        select(f.c.file_id, f.c.path, f.c.row_count, f.c.byte_size, f.c.first_row_id)
        .select_from(
            f.join(sn, and_(sn.c.tenant_id == f.c.tenant_id, sn.c.snapshot_id == f.c.end_snapshot))
        )
        .where(
            f.c.tenant_id == tenant,
            f.c.table_id == table_id,
            f.c.begin_snapshot > s0,
            f.c.begin_snapshot <= s1,
            f.c.end_snapshot <= s1,
            f.c.has_row_ids.is_(False),
            f.c.cloned_from.is_(None),
            sn.c.operation.in_(MAINTENANCE_OPERATIONS),
        )
        .order_by(f.c.begin_snapshot, f.c.file_id)
    )
    with catalog.engine.connect() as conn:
        return [
            DataFile(int(r[0]), r[1], int(r[2]), int(r[3]), int(r[4]), False)
            for r in conn.execute(q)
        ]


def statement_files(
    catalog: Catalog, tenant: str, query_id: str, produced: int
) -> tuple[dict[int, int], dict[int, int]]:
    """What a committed statement changed, for REVERT: (data files it wrote -> their table,
    data files whose deletes changed in the snapshot it produced -> their table)."""
    f, d = s.data_files, s.delete_files
    with catalog.engine.connect() as conn:
        written = {
            int(r.file_id): int(r.table_id)
            for r in conn.execute(
                select(f.c.file_id, f.c.table_id).where(
                    f.c.tenant_id == tenant, f.c.query_id == query_id
                )
            )
        }
        touched = {
            int(r.data_file_id): int(r.table_id)
            for r in conn.execute(
                select(d.c.data_file_id, d.c.table_id).where(
                    d.c.tenant_id == tenant, d.c.begin_snapshot == produced
                )
            )
        }
    return written, touched
