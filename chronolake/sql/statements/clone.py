"""Zero-copy CLONE of tables, schemas and databases (SEMANTICS.md section 7).

A clone is catalog rows only: new table ids with the source's columns (at the clone's point,
if it has one), and new data
file rows (new file ids, ``cloned_from`` set) pointing at the same Parquet files, with the
same first row ids and copies of their delete file rows. No file is read or written. The
clone's row id counter starts at the source's, so row ids never collide, and its history
starts at its creation. Afterwards source and clone are independent: a write to either
only adds files and delete files of its own.

The source and its point are resolved before the target is replaced, so the Snowflake
restore idiom ``CREATE OR REPLACE TABLE t CLONE t AT(...)`` reads the old ``t``.
"""

from __future__ import annotations

from dataclasses import replace

import pyarrow as pa
from sqlglot import exp

from chronolake.catalog.base import DEFAULT_SCHEMA, new_id
from chronolake.catalog.history import first_snapshots, seed_row_ids
from chronolake.catalog.model import (
    DatabaseInfo,
    DataFile,
    Namespace,
    SchemaInfo,
    TableInfo,
)
from chronolake.errors import SqlError
from chronolake.sql.binding.names import resolve_database, resolve_schema, resolve_table
from chronolake.sql.binding.timetravel import resolve_point
from chronolake.sql.session import Ctx
from chronolake.sql.statements.namespace_ops import (
    drop_database,
    drop_schema,
    make_room,
    status,
)

OPERATION = "CLONE"

# a source table as cloned: its definition (columns at the point) and its files at the point
_Source = tuple[TableInfo, tuple[DataFile, ...]]


def _source_ref(node: exp.Create) -> exp.Table:
    clone = node.args["clone"]
    src = clone.this
    if not isinstance(src, exp.Table) or not isinstance(src.this, exp.Identifier):
        raise SqlError("CLONE expects the name of the object to clone.")
    return src


def _current_files(ctx: Ctx, table: TableInfo) -> tuple[DataFile, ...]:
    txn = ctx.txn
    if table.view_sql is not None:
        return ()
    if table.table_id in txn.deltas:
        txn.ensure_row_ids(table.table_id)  # the clone must keep the rows' ids
    ctx.extra.setdefault("reads", []).append((table.table_id, txn.read.snapshot_id))
    return txn.table_files(table.table_id)


def _files_at(ctx: Ctx, table: TableInfo, snap: int) -> tuple[DataFile, ...]:
    if table.view_sql is not None:
        return ()
    session = ctx.session
    ctx.extra.setdefault("reads", []).append((table.table_id, snap))
    return session.catalog.table_files(session.tenant, table.table_id, snap)


def _clone_into(ctx: Ctx, ns: Namespace, src: _Source, schema_id: int, name: str) -> TableInfo:
    """Add a clone of ``src`` to ``ns`` (and its file rows to the transaction)."""
    table, files = src
    clone = TableInfo(
        new_id(),
        schema_id,
        name,
        table.columns,
        None,
        table.next_column_id,
        table.view_sql,
        table.retention_days,  # a clone keeps the parameters set on its source
    )
    ns.tables[clone.table_id] = clone
    txn = ctx.txn
    txn.ops[clone.table_id] = OPERATION
    if table.view_sql is not None:
        return clone
    seed_row_ids(ctx.session.catalog, ctx.session.tenant, table.table_id, clone.table_id)
    copies = []
    for f in files:
        if f.first_row_id is None:  # pragma: no cover - committed files always have theirs
            raise SqlError(f"CLONE of {table.name}: a file has no row ids yet.")
        copies.append(
            replace(
                f,
                file_id=new_id(),
                delete=None if f.delete is None else replace(f.delete, delete_file_id=new_id()),
                stats=(),
                cloned_from=f.file_id,
            )
        )
    if copies:
        txn.add_files(clone.table_id, tuple(copies), OPERATION)
    return clone


def _point(
    ctx: Ctx, kind: str, object_id: int, name: str, hist: exp.HistoricalData
) -> tuple[int, Namespace]:
    """The snapshot of a schema or database clause, and the namespace at it."""
    session = ctx.session
    created = first_snapshots(session.catalog, session.tenant, kind).get(object_id)
    if object_id not in ctx.txn.base_ns.schemas and object_id not in ctx.txn.base_ns.databases:
        created = None  # created by this transaction: it has no past
    probe = TableInfo(object_id, 0, name, (), created, 1)
    snap = resolve_point(ctx, probe, hist, kind.lower())
    found = session.catalog.snapshot(session.tenant, snap)
    if found is None:  # pragma: no cover - resolve_point returns committed snapshots
        raise SqlError(f"No snapshot found at version {snap}")
    return snap, session.catalog.namespace(session.tenant, found)


def _schema_sources(
    ctx: Ctx, schema_ids: set[int], snap: int | None, at_ns: Namespace | None
) -> list[_Source]:
    """The tables of some schemas now, or those that existed at ``snap`` (columns then)."""
    ns = ctx.txn.ns
    if snap is None or at_ns is None:
        tables = [t for t in ns.tables.values() if t.schema_id in schema_ids]
        return [(t, _current_files(ctx, t)) for t in sorted(tables, key=lambda t: t.name)]
    out: list[_Source] = []
    for t in sorted(at_ns.tables.values(), key=lambda t: t.name):
        if t.schema_id not in schema_ids:
            continue
        out.append((_with_point_columns(t, ns.tables.get(t.table_id)), _files_at(ctx, t, snap)))
    return out


def _with_point_columns(at_point: TableInfo, now: TableInfo | None) -> TableInfo:
    """A table as cloned from a point: its columns then, column ids never reused since."""
    if now is None:
        return at_point
    return replace(
        at_point,
        next_column_id=max(at_point.next_column_id, now.next_column_id),
        retention_days=now.retention_days,
    )


def _definition_at(ctx: Ctx, table: TableInfo, snap: int) -> TableInfo:
    """``table`` as it was at snapshot ``snap`` (its columns then), for a clone at a point."""
    session = ctx.session
    found = session.catalog.snapshot(session.tenant, snap)
    if found is None:  # pragma: no cover - resolve_point returns committed snapshots
        raise SqlError(f"No snapshot found at version {snap}")
    then = session.catalog.namespace(session.tenant, found).tables.get(table.table_id)
    return table if then is None else replace(_with_point_columns(then, table), name=table.name)


def clone_table(ctx: Ctx, node: exp.Create) -> pa.Table:
    target = node.this
    if isinstance(target, exp.Schema):
        raise SqlError("CREATE TABLE ... CLONE takes no column list.")
    if node.expression is not None:
        raise SqlError("CREATE TABLE ... CLONE takes no AS query.")
    ref = _source_ref(node)
    ns = ctx.txn.ns.copy()
    source = resolve_table(ns, ctx, ref)
    if source.view_sql is not None:
        raise SqlError(f"CLONE can only be used on a base table: '{source.name}' is a view.")
    hist = ref.args.get("when")
    if hist is None:
        files = _current_files(ctx, source)
    else:
        snap = resolve_point(ctx, source, hist)
        files = _files_at(ctx, source, snap)
        source = _definition_at(ctx, source, snap)
    sc = resolve_schema(ns, ctx, target.catalog or None, target.db or None)
    name = target.name
    existing = ns.table_by_name(sc.schema_id, name)
    taken = make_room(node, name, existing, lambda old: ns.tables.pop(old.table_id))
    if taken is not None:
        return taken
    _clone_into(ctx, ns, (source, files), sc.schema_id, name)
    ctx.txn.set_namespace(ns, OPERATION)
    return status(f"Table {name} successfully created.")


def clone_schema(ctx: Ctx, node: exp.Create) -> pa.Table:
    target = node.this
    name = target.db or target.name
    db_name = (target.catalog or None) if target.db else None
    ref = _source_ref(node)
    ns = ctx.txn.ns.copy()
    source = resolve_schema(ns, ctx, ref.db or None, ref.name)
    hist = ref.args.get("when")
    snap, at_ns = (None, None)
    if hist is not None:
        snap, at_ns = _point(ctx, "SCHEMA", source.schema_id, source.name, hist)
    sources = _schema_sources(ctx, {source.schema_id}, snap, at_ns)
    db = resolve_database(ns, ctx, db_name)
    existing = ns.schema_by_name(db.database_id, name)
    taken = make_room(node, name, existing, lambda old: drop_schema(ns, old.schema_id))
    if taken is not None:
        return taken
    sc = SchemaInfo(new_id(), db.database_id, name, source.retention_days)
    ns.schemas[sc.schema_id] = sc
    for src in sources:
        _clone_into(ctx, ns, src, sc.schema_id, src[0].name)
    ctx.txn.set_namespace(ns, OPERATION)
    ctx.session.database, ctx.session.schema = db.name, name
    return status(f"Schema {name} successfully created.")


def clone_database(ctx: Ctx, node: exp.Create) -> pa.Table:
    name = node.this.name
    ref = _source_ref(node)
    ns = ctx.txn.ns.copy()
    source = resolve_database(ns, ctx, ref.name)
    hist = ref.args.get("when")
    if hist is None:
        schemas = [sc for sc in ns.schemas.values() if sc.database_id == source.database_id]
        snap, at_ns = (None, None)
    else:
        snap, at_ns = _point(ctx, "DATABASE", source.database_id, source.name, hist)
        schemas = [sc for sc in at_ns.schemas.values() if sc.database_id == source.database_id]
    per_schema = [
        (sc, _schema_sources(ctx, {sc.schema_id}, snap, at_ns))
        for sc in sorted(schemas, key=lambda x: x.name)
    ]
    existing = ns.database_by_name(name)
    taken = make_room(node, name, existing, lambda old: drop_database(ns, old.database_id))
    if taken is not None:
        return taken
    db = DatabaseInfo(new_id(), name, source.retention_days)
    ns.databases[db.database_id] = db
    for sc, sources in per_schema:
        new_sc = SchemaInfo(new_id(), db.database_id, sc.name, sc.retention_days)
        ns.schemas[new_sc.schema_id] = new_sc
        for src in sources:
            _clone_into(ctx, ns, src, new_sc.schema_id, src[0].name)
    ctx.txn.set_namespace(ns, OPERATION)
    current = DEFAULT_SCHEMA if ns.schema_by_name(db.database_id, DEFAULT_SCHEMA) else None
    ctx.session.database, ctx.session.schema = name, current
    return status(f"Database {name} successfully created.")
