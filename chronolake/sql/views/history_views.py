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
from typing import Any

import pyarrow as pa
from sqlalchemy import Connection, select

from chronolake.catalog import schema as s
from chronolake.sql.session import Ctx, from_us

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


def snapshots(ctx: Ctx) -> pa.Table:
    """One row per snapshot of the tenant, oldest first."""
    tenant = ctx.session.tenant
    sn, tc = s.snapshots, s.table_changes
    with ctx.session.catalog.engine.connect() as conn:
        snaps = conn.execute(
            select(sn).where(sn.c.tenant_id == tenant).order_by(sn.c.snapshot_id)
        ).all()
        changed: dict[int, list[int]] = defaultdict(list)
        for tid, snap in conn.execute(
            select(tc.c.table_id, tc.c.snapshot_id).where(tc.c.tenant_id == tenant)
        ):
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


def access_history(ctx: Ctx) -> pa.Table:
    """One row per statement that read or changed a table, newest first.

    A write shows once it is committed: the writes of a transaction still open or rolled
    back, and of a failed statement, are not in objects_modified.
    """
    tenant = ctx.session.tenant
    a, st = s.access, s.statements
    with ctx.session.catalog.engine.connect() as conn:
        accesses = conn.execute(select(a).where(a.c.tenant_id == tenant)).all()
        by_query: dict[str, list[Any]] = defaultdict(list)
        for r in accesses:
            by_query[r.query_id].append(r)
        stmts: dict[str, Any] = {}
        ids = list(by_query)
        for i in range(0, len(ids), 500):
            q = select(st.c.query_id, st.c.start_time, st.c.user_name).where(
                st.c.tenant_id == tenant, st.c.query_id.in_(ids[i : i + 500])
            )
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
