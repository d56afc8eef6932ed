"""Data lineage of one statement: the tables it read (and at which snapshot) and changed.

The binder records every base table it binds in ``ctx.extra["reads"]`` as (table id, snapshot
read); the tables changed are those whose files or definition differ between the transaction
state before the statement and after it. The rows go to ``cl_access`` in the same catalog
transaction as the statement's log row; a write's snapshot is filled in when it commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chronolake.catalog.model import Namespace, TableDelta
from chronolake.sql.session import Ctx


def qualified_name(ns: Namespace, table_id: int) -> str | None:
    """DB.SCHEMA.NAME of a table in a namespace, or None if it is not there."""
    t = ns.tables.get(table_id)
    if t is None:
        return None
    sc = ns.schemas.get(t.schema_id)
    db = ns.databases.get(sc.database_id) if sc is not None else None
    return ".".join(x for x in (db.name if db else "", sc.name if sc else "", t.name) if x)


def _files(delta: TableDelta | None) -> Any:
    """What a delta changed, ignoring row ids handed out lazily (a read may assign them)."""
    if delta is None:
        return None
    return (
        tuple(f.file_id for f in delta.added),
        tuple(
            (old.file_id, new.delete.delete_file_id if new.delete else None)
            for old, new in delta.replaced
        ),
        tuple(f.file_id for f in delta.removed),
    )


def _row(ctx: Ctx, table_id: int, name: str, access: str, snap: int | None) -> dict[str, Any]:
    return {
        "tenant_id": ctx.session.tenant,
        "query_id": ctx.query_id,
        "object_kind": "TABLE",
        "object_id": table_id,
        "object_name": name,
        "access": access,
        "snapshot_id": snap,
    }


def read_rows(ctx: Ctx, *namespaces: Namespace) -> list[dict[str, Any]]:
    """READ rows for the tables the binder recorded, once per (table, snapshot)."""
    seen: set[tuple[int, int]] = set()
    out = []
    for entry in ctx.extra.get("reads", ()):
        if not isinstance(entry, tuple) or len(entry) < 2:
            continue
        tid, snap = entry[0], entry[1]
        if not isinstance(tid, int) or not isinstance(snap, int) or (tid, snap) in seen:
            continue
        seen.add((tid, snap))
        name = None
        for ns in (ctx.txn.ns, *namespaces, ctx.txn.base_ns):
            name = qualified_name(ns, tid)
            if name is not None:
                break
        out.append(_row(ctx, tid, name or str(tid), "READ", snap))
    return out


def write_rows(
    ctx: Ctx,
    before_ns: Namespace,
    before_deltas: Mapping[int, TableDelta],
    before_ops: Mapping[int, str],
) -> list[dict[str, Any]]:
    """WRITE rows for the base tables whose files or definition this statement changed."""
    txn = ctx.txn
    ids = set(txn.deltas) | set(before_deltas) | set(txn.ops) | set(before_ops)
    if txn.ns is not before_ns:  # definitions may have changed
        ids |= set(txn.ns.tables) | set(before_ns.tables)
    out = []
    for tid in sorted(ids):
        after_t, before_t = txn.ns.tables.get(tid), before_ns.tables.get(tid)
        if (after_t or before_t) is None:
            continue
        if (after_t is None or after_t.view_sql is not None) and (
            before_t is None or before_t.view_sql is not None
        ):
            continue  # views are not data; only base tables are recorded
        changed = (
            _files(txn.deltas.get(tid)) != _files(before_deltas.get(tid))
            or txn.ops.get(tid) != before_ops.get(tid)
            or after_t != before_t
        )
        if changed:
            name = qualified_name(txn.ns, tid) or qualified_name(before_ns, tid) or str(tid)
            out.append(_row(ctx, tid, name, "WRITE", None))
    return out


def access_rows(
    ctx: Ctx,
    before_ns: Namespace,
    before_deltas: Mapping[int, TableDelta],
    before_ops: Mapping[int, str],
) -> list[dict[str, Any]]:
    """Every access row of a statement that succeeded."""
    return read_rows(ctx, before_ns) + write_rows(ctx, before_ns, before_deltas, before_ops)
