"""Restore a table to a point, and revert one statement: new snapshots, metadata only.

RESTORE TABLE t TO AT|BEFORE(...) makes the files visible at the point visible again (new
catalog rows over the same Parquet files) and hides the current ones: no data is copied, the
restore is itself a snapshot (time travel goes through it, and it can be undone by another
restore), and the table keeps its id, its current columns and its history.

REVERT STATEMENT '<query id>' undoes exactly one statement's row changes, even inside a
multi-statement transaction: every data file records the statement that wrote it and every
deleted position the statement that deleted it. Rows it inserted are hidden again, rows it
deleted come back (their positions leave the delete file). It is refused when a later
statement changed a row the statement wrote.
"""

from __future__ import annotations

from dataclasses import replace

import pyarrow as pa
from sqlglot import exp

from chronolake.catalog.base import new_id
from chronolake.catalog.history import statement_files
from chronolake.catalog.model import DataFile
from chronolake.engine.session import first_row
from chronolake.errors import NotSupportedError, SqlError, TimeTravelError
from chronolake.sql.binding.names import resolve_table
from chronolake.sql.binding.timetravel import resolve_point
from chronolake.sql.session import Ctx
from chronolake.storage.delete_files import without_query, write_delete_file


def _reuse(f: DataFile) -> DataFile:
    """A new catalog row for an existing file (and its delete file): nothing is copied."""
    dl = f.delete
    return replace(
        f,
        file_id=new_id(),
        cloned_from=f.file_id,
        delete=None if dl is None else replace(dl, delete_file_id=new_id()),
    )


def restore(ctx: Ctx, node: exp.Expr) -> pa.Table:
    tnode = node.this
    table = resolve_table(ctx.txn.ns, ctx, tnode)
    if table.view_sql is not None:
        raise SqlError(f"{table.name} is a view: only tables can be restored.")
    snap = resolve_point(ctx, table, tnode.args["when"])
    session = ctx.session
    _, target = session.catalog.table_state(session.tenant, table.table_id, snap)
    before = sum(f.live_rows for f in ctx.txn.table_files(table.table_id))
    ctx.txn.remove_all(table.table_id, "RESTORE")
    ctx.txn.add_files(table.table_id, tuple(_reuse(f) for f in target), "RESTORE")
    after = sum(f.live_rows for f in target)
    ctx.rows_deleted += before
    ctx.rows_inserted += after
    return pa.table(
        {
            "status": [f"Table {table.name} restored to snapshot {snap}: {after} rows."],
            "snapshot_id": pa.array([snap], pa.int64()),
        }
    )


def revert(ctx: Ctx, node: exp.Expr) -> pa.Table:
    session = ctx.session
    row = first_row(session.duck, exp.select(node.this.copy()).sql("duckdb"))
    qid = None if row is None else row[0]
    points = session.catalog.statement_points(session.tenant, str(qid)) if qid else None
    if not isinstance(qid, str) or points is None:
        raise TimeTravelError(f"Statement {'NULL' if qid is None else qid} not found")
    produced = points[0]
    if produced is None:
        raise SqlError(f"Statement {qid} committed no changes: there is nothing to revert.")
    ns, txn = ctx.txn.ns, ctx.txn
    written, touched = statement_files(session.catalog, session.tenant, qid, produced)
    if not written and not touched:
        raise NotSupportedError(
            f"Statement {qid} changed no table rows: only INSERT, UPDATE, DELETE and MERGE "
            "can be reverted."
        )
    restored = hidden = 0
    for table_id in sorted(set(written.values()) | set(touched.values())):
        if table_id not in ns.tables:
            raise SqlError(
                f"Statement {qid} changed a table that no longer exists: undrop it first."
            )
        name = ns.tables[table_id].name
        files = {x.file_id: x for x in txn.table_files(table_id)}
        mine = {fid for fid, tid in written.items() if tid == table_id}
        for fid in mine:
            cur = files.get(fid)
            if cur is None or cur.delete is not None:
                raise _later(qid, name)
            hidden += cur.row_count
        deleted_from = [files.get(k) for k, tid in touched.items() if tid == table_id]
        new_versions, back = _undelete(ctx, table_id, qid, name, deleted_from, mine)
        restored += back
        if mine:
            txn.remove_files(table_id, mine, "REVERT")
        if new_versions:
            txn.replace_files(table_id, new_versions, "REVERT")
    ctx.rows_inserted += restored
    ctx.rows_deleted += hidden
    return pa.table(
        {
            "number of rows restored": pa.array([restored], pa.int64()),
            "number of rows removed": pa.array([hidden], pa.int64()),
        }
    )


def _later(qid: str, table: str) -> SqlError:
    return SqlError(
        f"Cannot revert statement {qid}: later statements changed rows it wrote in table "
        f"{table}. Revert those first, or restore the table to a point."
    )


def _undelete(
    ctx: Ctx, table_id: int, qid: str, name: str, touched: list[DataFile | None], mine: set[int]
) -> tuple[list[DataFile], int]:
    """The files statement ``qid`` deleted from (``touched``) with its positions undeleted,
    all of them in one new delete file, and how many positions that brings back."""
    io = ctx.session.io
    parts: dict[int, pa.Table] = {}
    kept: dict[int, DataFile] = {}  # files keeping some positions, by id
    out: list[DataFile] = []
    back = 0
    for cur in touched:
        if cur is None:
            raise _later(qid, name)
        if cur.delete is None or cur.file_id in mine:
            continue
        n, keep = without_query(io, cur.delete, qid)
        back += n
        if n and keep.num_rows:
            parts[cur.file_id], kept[cur.file_id] = keep, cur
        elif n:
            out.append(replace(cur, delete=None))
    if parts:
        written = write_delete_file(io, table_id, parts)
        ctx.txn.add_written(sorted({d.path for d in written.values()}))
        out += [replace(kept[fid], delete=dl) for fid, dl in written.items()]
    return out, back
