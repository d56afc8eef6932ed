"""Catalog reads behind the history views (QUERY_HISTORY, SNAPSHOTS, ACCESS_HISTORY) and the
names objects had at any snapshot; each takes the filters the SQL front end pushed down."""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from chronolake.catalog import schema as s
from chronolake.catalog.base import Catalog
from chronolake.catalog.filters import Condition, where

_CHUNK = 500  # ids per IN list


def _chunks(ids: list[Any]) -> Iterator[list[Any]]:
    for i in range(0, len(ids), _CHUNK):
        yield ids[i : i + _CHUNK]


class NameVersions:
    """Qualified table names as they were at any snapshot (dropped tables included)."""

    def __init__(self, conn: Connection, tenant: str) -> None:
        self._versions: dict[tuple[str, int], tuple[list[int], list[tuple[Any, ...]]]] = {}
        for kind, tab, idcol, extra in (
            ("t", s.tables, "table_id", "schema_id"),
            ("s", s.schemas, "schema_id", "database_id"),
            ("d", s.databases, "database_id", None),
        ):
            cols = [tab.c[idcol], tab.c.begin_snapshot, tab.c.name]
            if extra is not None:
                cols.append(tab.c[extra])
            q = select(*cols).where(tab.c.tenant_id == tenant).order_by(tab.c.begin_snapshot)
            for r in conn.execute(q):
                begins, rows = self._versions.setdefault((kind, int(r[0])), ([], []))
                begins.append(int(r[1]))
                rows.append(tuple(r[2:]))

    def _at(self, kind: str, oid: int, snap: int) -> tuple[Any, ...] | None:
        found = self._versions.get((kind, oid))
        if found is None:
            return None
        begins, rows = found
        i = bisect.bisect_right(begins, snap) - 1
        return rows[max(i, 0)]  # before its first version: its first name

    def table(self, table_id: int, snap: int) -> str:
        t = self._at("t", table_id, snap)
        if t is None:
            return str(table_id)
        name, schema_id = t
        sc = self._at("s", int(schema_id), snap)
        if sc is None:
            return str(name)
        db = self._at("d", int(sc[1]), snap)
        return ".".join(str(x) for x in ((db[0],) if db else ()) + (sc[0], name))


def statements(
    catalog: Catalog, tenant: str, conditions: Sequence[Condition], limit: int | None
) -> list[dict[str, Any]]:
    """QUERY_HISTORY's catalog rows: the ``limit`` newest, or those the conditions allow."""
    t = s.statements
    cond = where(
        conditions,
        {
            "query_id": t.c.query_id,
            "session_id": t.c.session_id,
            "transaction_id": t.c.txn_id,
            "snapshot_id": t.c.produced_snapshot,
            "start_time": t.c.start_time,
            "query_type": t.c.query_type,
            "execution_status": t.c.execution_status,
        },
    )
    q = select(t).where(t.c.tenant_id == tenant, *cond)
    if limit is not None:
        q = q.order_by(t.c.start_time.desc(), t.c.query_id).limit(limit)
    with catalog.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(q)]


@dataclass(frozen=True)
class SnapshotRows:
    snapshots: list[Any]  # cl_snapshots rows, by snapshot id
    changed: dict[int, list[int]]  # snapshot id -> ids of the tables it changed
    names: NameVersions


def snapshots(catalog: Catalog, tenant: str, conditions: Sequence[Condition]) -> SnapshotRows:
    """SNAPSHOTS' catalog rows (those the conditions allow) with the tables each changed."""
    sn, tc = s.snapshots, s.table_changes
    cond = where(
        conditions,
        {
            "snapshot_id": sn.c.snapshot_id,
            "commit_time": sn.c.commit_time,
            "query_id": sn.c.query_id,
            "transaction_id": sn.c.txn_id,
            "operation": sn.c.operation,
        },
    )
    with catalog.engine.connect() as conn:
        # sorted here: an ORDER BY could lead SQLite to the key's order instead of the index
        snaps = sorted(
            conn.execute(select(sn).where(sn.c.tenant_id == tenant, *cond)),
            key=lambda r: int(r.snapshot_id),
        )
        changed: dict[int, list[int]] = defaultdict(list)
        wanted = [int(r.snapshot_id) for r in snaps]
        for ids in _chunks(wanted) if cond else [None]:
            q = select(tc.c.table_id, tc.c.snapshot_id).where(tc.c.tenant_id == tenant)
            if ids is not None:
                q = q.where(tc.c.snapshot_id.in_(ids))
            for tid, snap in conn.execute(q):
                changed[int(snap)].append(int(tid))
        names = NameVersions(conn, tenant)
    return SnapshotRows(snaps, changed, names)


def accesses(
    catalog: Catalog, tenant: str, conditions: Sequence[Condition]
) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """ACCESS_HISTORY's catalog rows: (statements by query id, access rows by query id)."""
    a, st = s.access, s.statements
    by_time = where(conditions, {"query_start_time": st.c.start_time})
    with catalog.engine.connect() as conn:
        stmts: dict[str, Any] = {}
        stmt_cols = (st.c.query_id, st.c.start_time, st.c.user_name)
        if by_time:  # the statements of the time range first, then their accesses
            q = select(*stmt_cols).where(
                st.c.tenant_id == tenant, *by_time, *where(conditions, {"query_id": st.c.query_id})
            )
            stmts.update({r.query_id: r for r in conn.execute(q)})
            rows = [
                r
                for ids in _chunks(list(stmts))
                for r in conn.execute(
                    select(a).where(a.c.tenant_id == tenant, a.c.query_id.in_(ids))
                )
            ]
        else:
            by_id = where(conditions, {"query_id": a.c.query_id})
            rows = list(conn.execute(select(a).where(a.c.tenant_id == tenant, *by_id)))
        by_query: dict[str, list[Any]] = defaultdict(list)
        for r in rows:
            by_query[r.query_id].append(r)
        for ids in _chunks([q for q in by_query if q not in stmts]):
            q = select(*stmt_cols).where(st.c.tenant_id == tenant, st.c.query_id.in_(ids))
            stmts.update({r.query_id: r for r in conn.execute(q)})
    return stmts, by_query
