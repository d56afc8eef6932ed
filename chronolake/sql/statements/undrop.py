"""UNDROP TABLE | SCHEMA | DATABASE (SEMANTICS.md section 6).

UNDROP brings back the most recently dropped version of a name, with its id, so its data
files, columns and history (never ended by the drop) are visible again. A schema or database
comes back with the objects that were dropped with it (in the same snapshot). An object
dropped earlier in the running transaction counts as the most recent drop of its name.
"""

from __future__ import annotations

import pyarrow as pa
from sqlglot import exp

from chronolake.catalog.history import Dropped, commit_times, dropped, dropped_table_info
from chronolake.catalog.model import DatabaseInfo, Namespace, SchemaInfo, TableInfo
from chronolake.catalog.retention import effective, load_parents, object_days, oldest_reachable_us
from chronolake.errors import AlreadyExists, NotFound, NotSupportedError
from chronolake.sql.binding.names import resolve_database, resolve_schema
from chronolake.sql.session import Ctx
from chronolake.sql.statements.namespace_ops import status


def undrop(ctx: Ctx, node: exp.Undrop) -> pa.Table:
    kind = str(node.args.get("kind") or "").upper()
    target = node.this
    if not isinstance(target, exp.Table):
        raise NotSupportedError(f"UNDROP {kind} needs a name.")
    if kind == "TABLE":
        return _undrop_table(ctx, target)
    if kind == "SCHEMA":
        return _undrop_schema(ctx, target)
    if kind == "DATABASE":
        return _undrop_database(ctx, target)
    raise NotSupportedError(f"UNDROP {kind} is not supported: use TABLE, SCHEMA or DATABASE.")


def _exists(name: str) -> AlreadyExists:
    return AlreadyExists(f"Object '{name}' already exists.")


def _purged(kind: str, name: str) -> NotFound:
    return NotFound(f"{kind} {name} did not exist or was purged.")


def _drop_snap(ctx: Ctx) -> int:
    return ctx.txn.read.snapshot_id


def _kept(ctx: Ctx, kind: str, found: list[Dropped]) -> list[Dropped]:
    """The versions still inside their retention window (older ones count as purged)."""
    if not found:
        return found
    session = ctx.session
    times = commit_times(session.catalog, session.tenant, [d.dropped_snapshot for d in found])
    parents = load_parents(session.catalog, session.tenant, ctx.txn.read.snapshot_id)
    ns = ctx.txn.ns
    out = []
    for d in found:
        own, parent = d.retention_days, d.parent_id
        days = effective(ns, object_days(ns, kind, own, parent, parents, d.transient))
        # 0 days: purged at the drop itself, even when the clock has not moved since
        if days > 0 and times.get(d.dropped_snapshot, 0) >= oldest_reachable_us(ctx.start_us, days):
            out.append(d)
    return out


def _revive_tables(ctx: Ctx, ns: Namespace, found: list[Dropped]) -> None:
    session = ctx.session
    for d in found:
        if d.object_id in ns.tables:
            continue
        ns.tables[d.object_id] = dropped_table_info(session.catalog, session.tenant, d)
        ctx.txn.revived.add(d.object_id)
        ctx.txn.ops[d.object_id] = "UNDROP_TABLE"


def _undrop_table(ctx: Ctx, target: exp.Table) -> pa.Table:
    name = target.name
    txn, session = ctx.txn, ctx.session
    ns = txn.ns.copy()
    try:
        sc = resolve_schema(ns, ctx, target.catalog or None, target.db or None)
    except NotFound as e:
        raise NotFound(
            f"Table {name} cannot be undropped: {e} Undrop its schema (or database) first."
        ) from None
    if ns.table_by_name(sc.schema_id, name) is not None:
        raise _exists(name)
    # dropped by this transaction (the most recent drop of all)
    for t in txn.base_ns.tables.values():
        if (
            t.table_id not in ns.tables
            and t.schema_id == sc.schema_id
            and t.name == name
            and t.view_sql is None
        ):
            ns.tables[t.table_id] = t
            return _done_table(ctx, ns, t)
    found = [
        d
        for d in dropped(
            session.catalog,
            session.tenant,
            "TABLE",
            _drop_snap(ctx),
            name=name,
            parent_ids=[sc.schema_id],
        )
        if d.object_id not in ns.tables
    ]
    found = _kept(ctx, "TABLE", found)
    if not found:
        raise _purged("Table", name)
    _revive_tables(ctx, ns, found[:1])
    return _done_table(ctx, ns, ns.tables[found[0].object_id])


def _done_table(ctx: Ctx, ns: Namespace, t: TableInfo) -> pa.Table:
    ctx.txn.set_namespace(ns, "UNDROP_TABLE")
    ctx.txn.ops[t.table_id] = "UNDROP_TABLE"
    return status(f"Table {t.name} successfully restored.")


def _restore_schema(ctx: Ctx, ns: Namespace, sc: SchemaInfo, dropped_at: int | None) -> None:
    """Bring back a schema and the tables dropped with it (``None``: by this transaction)."""
    txn, session = ctx.txn, ctx.session
    ns.schemas[sc.schema_id] = sc
    if dropped_at is None:
        for t in txn.base_ns.tables.values():
            if t.schema_id == sc.schema_id and t.table_id not in ns.tables:
                ns.tables[t.table_id] = t
        return
    found = dropped(
        session.catalog,
        session.tenant,
        "TABLE",
        _drop_snap(ctx),
        parent_ids=[sc.schema_id],
        dropped_snapshot=dropped_at,
    )
    _revive_tables(ctx, ns, found)
    # views dropped with the schema come back too
    for t in _dropped_views(ctx, sc.schema_id, dropped_at):
        if t.table_id not in ns.tables:
            ns.tables[t.table_id] = t
            txn.revived.add(t.table_id)


def _dropped_views(ctx: Ctx, schema_id: int, dropped_at: int) -> list[TableInfo]:
    session = ctx.session
    snap = session.catalog.snapshot(session.tenant, dropped_at - 1)
    if snap is None:
        return []
    before = session.catalog.namespace(session.tenant, snap)
    return [
        t for t in before.tables.values() if t.schema_id == schema_id and t.view_sql is not None
    ]


def _undrop_schema(ctx: Ctx, target: exp.Table) -> pa.Table:
    txn, session = ctx.txn, ctx.session
    name = target.db or target.name
    db_name = (target.catalog or None) if target.db else None
    ns = txn.ns.copy()
    try:
        db = resolve_database(ns, ctx, db_name)
    except NotFound as e:
        raise NotFound(
            f"Schema {name} cannot be undropped: {e} Undrop its database first."
        ) from None
    if ns.schema_by_name(db.database_id, name) is not None:
        raise _exists(name)
    mine = [
        sc
        for sc in txn.base_ns.schemas.values()
        if sc.schema_id not in ns.schemas and sc.database_id == db.database_id and sc.name == name
    ]
    if mine:
        _restore_schema(ctx, ns, mine[0], None)
    else:
        found = [
            d
            for d in dropped(
                session.catalog,
                session.tenant,
                "SCHEMA",
                _drop_snap(ctx),
                name=name,
                parent_ids=[db.database_id],
            )
            if d.object_id not in ns.schemas
        ]
        found = _kept(ctx, "SCHEMA", found)
        if not found:
            raise _purged("Schema", name)
        d = found[0]
        _restore_schema(
            ctx,
            ns,
            SchemaInfo(d.object_id, db.database_id, d.name, d.retention_days),
            d.dropped_snapshot,
        )
    txn.set_namespace(ns, "UNDROP_SCHEMA")
    return status(f"Schema {name} successfully restored.")


def _undrop_database(ctx: Ctx, target: exp.Table) -> pa.Table:
    txn, session = ctx.txn, ctx.session
    name = target.db or target.name
    ns = txn.ns.copy()
    if ns.database_by_name(name) is not None:
        raise _exists(name)
    mine = [
        db
        for db in txn.base_ns.databases.values()
        if db.database_id not in ns.databases and db.name == name
    ]
    if mine:
        db = mine[0]
        ns.databases[db.database_id] = db
        for sc in txn.base_ns.schemas.values():
            if sc.database_id == db.database_id and sc.schema_id not in ns.schemas:
                _restore_schema(ctx, ns, sc, None)
    else:
        found = [
            d
            for d in dropped(
                session.catalog, session.tenant, "DATABASE", _drop_snap(ctx), name=name
            )
            if d.object_id not in ns.databases
        ]
        found = _kept(ctx, "DATABASE", found)
        if not found:
            raise _purged("Database", name)
        d = found[0]
        ns.databases[d.object_id] = DatabaseInfo(d.object_id, d.name, d.retention_days)
        for sd in dropped(
            session.catalog,
            session.tenant,
            "SCHEMA",
            _drop_snap(ctx),
            parent_ids=[d.object_id],
            dropped_snapshot=d.dropped_snapshot,
        ):
            if sd.object_id not in ns.schemas:
                sc = SchemaInfo(sd.object_id, d.object_id, sd.name, sd.retention_days)
                _restore_schema(ctx, ns, sc, d.dropped_snapshot)
    txn.set_namespace(ns, "UNDROP_DATABASE")
    return status(f"Database {name} successfully restored.")
