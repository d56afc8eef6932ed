"""INFORMATION_SCHEMA.SNAPSHOTS and ACCESS_HISTORY: history you can query.

SNAPSHOTS (beyond Snowflake) lists the tenant's snapshots with the tables each one changed;
ACCESS_HISTORY (Snowflake's view) lists, per statement, the tables it read with the snapshot
each was read at, and the tables it changed with the snapshot that made the change visible.
Both are built from the catalog, filtered by the tenant, like the other INFORMATION_SCHEMA views.
"""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa

from chronolake.catalog import activity
from chronolake.sql.session import Ctx, from_us
from chronolake.sql.views.pushdown import NOTHING, Kind, Pushed

TIME = pa.timestamp("us", tz="UTC")


SNAPSHOT_FILTERS = {
    "snapshot_id": Kind.INTEGER,
    "commit_time": Kind.TIME,
    "query_id": Kind.TEXT,
    "transaction_id": Kind.TEXT,
    "operation": Kind.TEXT,
}
ACCESS_FILTERS = {"query_id": Kind.TEXT, "query_start_time": Kind.TIME}


def snapshots(ctx: Ctx, pushed: Pushed = NOTHING) -> pa.Table:
    """One row per snapshot of the tenant, oldest first (only those ``pushed`` allows)."""
    found = activity.snapshots(ctx.session.catalog, ctx.session.tenant, pushed.conditions)
    snaps, changed, names = found.snapshots, found.changed, found.names
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
    stmts, by_query = activity.accesses(ctx.session.catalog, ctx.session.tenant, pushed.conditions)
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
