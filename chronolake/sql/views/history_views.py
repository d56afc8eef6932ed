"""INFORMATION_SCHEMA.SNAPSHOTS and ACCESS_HISTORY: history you can query.

SNAPSHOTS (beyond Snowflake) lists the tenant's snapshots with the tables each one changed;
ACCESS_HISTORY (Snowflake's view) lists, per statement, the tables it read with the snapshot
each was read at, and the tables it changed with the snapshot that made the change visible.
Both are built from the catalog, filtered by the tenant, like the other INFORMATION_SCHEMA views.
"""

from __future__ import annotations

import bisect
import json
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
from sqlalchemy import Connection, select

from chronolake.catalog import schema as s
from chronolake.sql.session import Ctx, from_us
from chronolake.sql.views.pushdown import NOTHING, Kind, Pushed

TIME = pa.timestamp("us", tz="UTC")


class _Names:
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


SNAPSHOT_FILTERS = {
    "snapshot_id": Kind.INTEGER,
    "commit_time": Kind.TIME,
    "query_id": Kind.TEXT,
    "transaction_id": Kind.TEXT,
    "operation": Kind.TEXT,
}
ACCESS_FILTERS = {"query_id": Kind.TEXT, "query_start_time": Kind.TIME}
_CHUNK = 500  # ids per IN list


def _chunks(ids: list[Any]) -> Iterator[list[Any]]:
    for i in range(0, len(ids), _CHUNK):
        yield ids[i : i + _CHUNK]


def snapshots(ctx: Ctx, pushed: Pushed = NOTHING) -> pa.Table:
    """One row per snapshot of the tenant, oldest first (only those ``pushed`` allows)."""
    tenant = ctx.session.tenant
    sn, tc = s.snapshots, s.table_changes
    where = pushed.where(
        {
            "snapshot_id": sn.c.snapshot_id,
            "commit_time": sn.c.commit_time,
            "query_id": sn.c.query_id,
            "transaction_id": sn.c.txn_id,
            "operation": sn.c.operation,
        }
    )
    with ctx.session.catalog.engine.connect() as conn:
        # sorted here: an ORDER BY could lead SQLite to the key's order instead of the index
        snaps = sorted(
            conn.execute(select(sn).where(sn.c.tenant_id == tenant, *where)),
            key=lambda r: int(r.snapshot_id),
        )
        changed: dict[int, list[int]] = defaultdict(list)
        wanted = [int(r.snapshot_id) for r in snaps]
        for ids in _chunks(wanted) if where else [None]:
            q = select(tc.c.table_id, tc.c.snapshot_id).where(tc.c.tenant_id == tenant)
            if ids is not None:
                q = q.where(tc.c.snapshot_id.in_(ids))
            for tid, snap in conn.execute(q):
                changed[int(snap)].append(int(tid))
        names = _Names(conn, tenant)
    rows = []
    for r in snaps:
        snap = int(r.snapshot_id)
        tables = sorted(names.table(tid, snap) for tid in changed.get(snap, ()))
        rows.append(
            {
                "snapshot_id": snap,
                "commit_time": from_us(int(r.commit_time)),
                "query_id": r.query_id,
                "operation": r.operation,
                "tables_changed": ", ".join(tables),
                "rows_inserted": int(r.rows_inserted),
                "rows_deleted": int(r.rows_deleted),
                "bytes_added": int(r.bytes_added),
                "transaction_id": r.txn_id,
            }
        )
    return pa.Table.from_pylist(
        rows,
        schema=pa.schema(
            [
                ("snapshot_id", pa.int64()),
                ("commit_time", TIME),
                ("query_id", pa.string()),
                ("operation", pa.string()),
                ("tables_changed", pa.string()),
                ("rows_inserted", pa.int64()),
                ("rows_deleted", pa.int64()),
                ("bytes_added", pa.int64()),
                ("transaction_id", pa.string()),
            ]
        ),
    )


def _objects(rows: list[Any]) -> str:
    return json.dumps(
        [
            {
                "objectName": r.object_name,
                "objectId": int(r.object_id),
                "objectDomain": "Table",
                "snapshot": None if r.snapshot_id is None else int(r.snapshot_id),
            }
            for r in sorted(rows, key=lambda r: (r.object_name, r.snapshot_id or 0))
        ],
        separators=(",", ":"),
    )


def access_history(ctx: Ctx, pushed: Pushed = NOTHING) -> pa.Table:
    """One row per statement that read or changed a table, newest first.

    A write shows once it is committed: the writes of a transaction still open or rolled
    back, and of a failed statement, are not in objects_modified.
    """
    tenant = ctx.session.tenant
    a, st = s.access, s.statements
    by_time = pushed.where({"query_start_time": st.c.start_time})
    with ctx.session.catalog.engine.connect() as conn:
        stmts: dict[str, Any] = {}
        stmt_cols = (st.c.query_id, st.c.start_time, st.c.user_name)
        if by_time:  # the statements of the time range first, then their accesses
            q = select(*stmt_cols).where(
                st.c.tenant_id == tenant, *by_time, *pushed.where({"query_id": st.c.query_id})
            )
            stmts.update({r.query_id: r for r in conn.execute(q)})
            accesses = [
                r
                for ids in _chunks(list(stmts))
                for r in conn.execute(
                    select(a).where(a.c.tenant_id == tenant, a.c.query_id.in_(ids))
                )
            ]
        else:
            by_id = pushed.where({"query_id": a.c.query_id})
            accesses = list(conn.execute(select(a).where(a.c.tenant_id == tenant, *by_id)))
        by_query: dict[str, list[Any]] = defaultdict(list)
        for r in accesses:
            by_query[r.query_id].append(r)
        for ids in _chunks([q for q in by_query if q not in stmts]):
            q = select(*stmt_cols).where(st.c.tenant_id == tenant, st.c.query_id.in_(ids))
            stmts.update({r.query_id: r for r in conn.execute(q)})
    rows = []
    for qid, acc in by_query.items():
        stmt = stmts.get(qid)
        reads = [r for r in acc if r.access == "READ"]
        writes = [r for r in acc if r.access == "WRITE" and r.snapshot_id is not None]
        rows.append(
            {
                "query_id": qid,
                "query_start_time": None if stmt is None else from_us(int(stmt.start_time)),
                "user_name": None if stmt is None else stmt.user_name,
                "direct_objects_accessed": _objects(reads),
                "objects_modified": _objects(writes),
            }
        )
    rows.sort(key=lambda r: (r["query_start_time"] is not None, r["query_start_time"]))
    rows.reverse()
    return pa.Table.from_pylist(
        rows,
        schema=pa.schema(
            [
                ("query_id", pa.string()),
                ("query_start_time", TIME),
                ("user_name", pa.string()),
                ("direct_objects_accessed", pa.string()),
                ("objects_modified", pa.string()),
            ]
        ),
    )
