"""CREATE TEMPORARY TABLE and the statements on temporary tables.

A temporary table is a plain table of the session's own in-memory DuckDB engine (it spills to
the tenant's temporary directory when large), registered in ``Session.temp_tables``. Nothing of
it reaches the catalog or the lake's storage: another session or tenant has another engine and
cannot name, list or read it, and it is gone when the session ends, also when the process
dies. Reads bind to it before the catalog (it shadows a permanent table of the same name);
INSERT, UPDATE, DELETE and TRUNCATE run on it directly. It has no time travel.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pyarrow as pa
from sqlglot import exp

from chronolake.catalog.retention import check_transient_days
from chronolake.errors import AlreadyExists, NotSupportedError, SqlError
from chronolake.sql.binding.binder import BOUND, bind
from chronolake.sql.binding.names import resolve_schema
from chronolake.sql.binding.temp_tables import TempTable, find_temp
from chronolake.sql.session import Ctx, Session
from chronolake.sql.statements import temp_undo
from chronolake.sql.statements.ddl import check_column_names, column_from_def
from chronolake.sql.statements.namespace_ops import status
from chronolake.sql.statements.parameters import retention_property

Handler = Callable[[Ctx, exp.Expr], pa.Table]


def is_temporary(node: exp.Create) -> bool:
    props = node.args.get("properties")
    return props is not None and any(
        isinstance(p, exp.TemporaryProperty) for p in props.expressions
    )


def _target(tree: exp.Expr) -> exp.Table | None:
    target = tree.this
    if isinstance(target, exp.Schema):
        target = target.this
    return target if isinstance(target, exp.Table) else None


def handler(session: Session, tree: exp.Expr) -> Handler | None:
    """The handler of a statement that makes or uses a temporary table, else None."""
    kind = str(tree.args.get("kind") or "").upper()
    if isinstance(tree, exp.Create) and kind != "TABLE" and is_temporary(tree):
        raise NotSupportedError(f"CREATE TEMPORARY {kind} is not supported: only tables.")
    if isinstance(tree, exp.Create) and kind == "TABLE":
        if is_temporary(tree):
            return create
        source = tree.args.get("clone")
        if source is not None and find_temp(session, source.this) is not None:
            raise NotSupportedError(f"Cannot clone temporary table {source.this.name}.")
        return None
    if not session.temp_tables:
        return None
    if isinstance(tree, exp.TruncateTable):
        if any(find_temp(session, t) is not None for t in tree.expressions):
            return truncate
        return None
    if isinstance(tree, exp.Drop):
        targets = tree.args.get("tables") or [tree.this]
        if kind == "TABLE" and len(targets) == 1 and find_temp(session, targets[0]):
            return drop
        return None
    target = _target(tree)
    if target is None or find_temp(session, target) is None:
        return None
    if isinstance(tree, (exp.Insert, exp.Update, exp.Delete)):
        return change
    if isinstance(tree, exp.Describe):
        return describe
    if isinstance(tree, (exp.Merge, exp.Alter)):
        verb = "MERGE into" if isinstance(tree, exp.Merge) else "ALTER TABLE on"
        raise NotSupportedError(
            f"{verb} a temporary table is not supported: recreate {target.name} with "
            "CREATE OR REPLACE TEMPORARY TABLE ... AS SELECT."
        )
    return None


def create(ctx: Ctx, node: exp.Expr) -> pa.Table:
    """CREATE [OR REPLACE] TEMPORARY TABLE [IF NOT EXISTS] t (columns) | AS query."""
    assert isinstance(node, exp.Create)
    session = ctx.session
    target = _target(node)
    if target is None:
        raise SqlError("CREATE TEMPORARY TABLE needs a table name.")
    if node.args.get("clone") is not None:
        raise NotSupportedError("CREATE TEMPORARY TABLE ... CLONE is not supported.")
    check_transient_days(retention_property(node))
    sc = resolve_schema(ctx.txn.ns, ctx, target.catalog or None, target.db or None)
    db = ctx.txn.ns.databases[sc.database_id]
    key = (db.name, sc.name, target.name)
    existing = session.temp_tables.get(key)
    if existing is not None:
        if node.args.get("exists"):
            return status(f"{target.name} already exists, statement succeeded.")
        if not node.args.get("replace"):
            raise AlreadyExists(f"Object '{target.name}' already exists.")
    internal = f"__cl_temp_{uuid.uuid4().hex[:16]}"
    keep_old = temp_undo.before_replace(session, key)
    session.duck.execute(_create_sql(ctx, node, internal))
    if existing is not None and not keep_old:
        _drop_internal(session, existing)
    session.temp_tables[key] = TempTable(internal, db.name, sc.name, target.name, ctx.start)
    return status(f"Table {target.name} successfully created.")


def _create_sql(ctx: Ctx, node: exp.Create, internal: str) -> str:
    name = exp.to_table(internal)
    query = node.expression
    if query is not None:
        if isinstance(node.this, exp.Schema):
            raise NotSupportedError(
                "A column list on CREATE TEMPORARY TABLE ... AS SELECT is not supported: "
                "alias the columns in the query."
            )
        bound = bind(ctx, query.copy())
        return exp.Create(this=name, kind="TABLE", expression=bound).sql("duckdb")
    defs = [c for c in node.this.expressions if isinstance(c, exp.ColumnDef)]
    if not defs:
        raise SqlError(f"CREATE TABLE {node.this.this.name} needs a column list or AS SELECT.")
    cols = [column_from_def(ctx, cd, i + 1, i) for i, cd in enumerate(defs)]
    check_column_names(node.this.this.name, [c.name for c in cols])
    out = []
    for c in cols:
        constraints = []
        if c.default_sql is not None:
            value = exp.cast(exp.Literal.string(c.default_sql), c.type, dialect="duckdb")
            constraints.append(exp.ColumnConstraint(kind=exp.DefaultColumnConstraint(this=value)))
        if not c.nullable:
            constraints.append(exp.ColumnConstraint(kind=exp.NotNullColumnConstraint()))
        out.append(
            exp.ColumnDef(
                this=exp.to_identifier(c.name, quoted=True),
                kind=exp.DataType.build(c.type, dialect="duckdb"),
                constraints=constraints,
            )
        )
    return exp.Create(this=exp.Schema(this=name, expressions=out), kind="TABLE").sql("duckdb")


def _drop_internal(session: Session, table: TempTable) -> None:
    session.duck.execute(
        exp.Drop(tables=[exp.to_table(table.internal)], kind="TABLE").sql("duckdb")
    )


def drop(ctx: Ctx, node: exp.Expr) -> pa.Table:
    targets = node.args.get("tables") or [node.this]
    table = find_temp(ctx.session, targets[0])
    assert table is not None
    key = (table.database, table.schema, table.name)
    if not temp_undo.before_replace(ctx.session, key):
        _drop_internal(ctx.session, table)
    del ctx.session.temp_tables[key]
    return status(f"{table.name} successfully dropped.")


def _count(duck_rows: list[tuple[int, ...]]) -> int:
    return int(duck_rows[0][0]) if duck_rows and duck_rows[0] else 0


def _on_internal(target: exp.Table, table: TempTable) -> None:
    """Point the statement's target at the DuckDB table (the binder leaves it be)."""
    target.set("this", exp.to_identifier(table.internal))
    target.set("db", None)
    target.set("catalog", None)
    target.meta[BOUND] = True


def change(ctx: Ctx, node: exp.Expr) -> pa.Table:
    """INSERT, UPDATE or DELETE on a temporary table, run by DuckDB on it."""
    target = _target(node)
    assert target is not None
    table = find_temp(ctx.session, target)
    assert table is not None
    temp_undo.before_rows_change(ctx.session, (table.database, table.schema, table.name))
    if isinstance(node, exp.Insert) and node.args.get("overwrite"):
        node.set("overwrite", None)
        ctx.session.duck.execute(exp.delete(table.internal).sql("duckdb"))
    _on_internal(target, table)
    bound = bind(ctx, node)
    n = _count(ctx.session.duck.execute(bound.sql("duckdb")).fetchall())
    if isinstance(node, exp.Insert):
        ctx.rows_inserted += n
        return pa.table({"number of rows inserted": pa.array([n], pa.int64())})
    if isinstance(node, exp.Update):
        ctx.rows_updated += n
        return pa.table(
            {
                "number of rows updated": pa.array([n], pa.int64()),
                "number of multi-joined rows updated": pa.array([0], pa.int64()),
            }
        )
    ctx.rows_deleted += n
    return pa.table({"number of rows deleted": pa.array([n], pa.int64())})


def truncate(ctx: Ctx, node: exp.Expr) -> pa.Table:
    """TRUNCATE of temporary tables (mixed with permanent ones is not supported)."""
    for t in node.expressions:
        table = find_temp(ctx.session, t)
        if table is None:
            raise NotSupportedError(
                "TRUNCATE of temporary and permanent tables in one statement is not supported."
            )
        temp_undo.before_rows_change(ctx.session, (table.database, table.schema, table.name))
        rows = ctx.session.duck.execute(exp.delete(table.internal).sql("duckdb")).fetchall()
        ctx.rows_deleted += _count(rows)
    return status("Statement executed successfully.")


def describe(ctx: Ctx, node: exp.Expr) -> pa.Table:
    table = find_temp(ctx.session, node.this)
    assert table is not None
    cols = ctx.session.duck.execute(
        exp.Describe(this=exp.to_table(table.internal)).sql("duckdb")
    ).fetchall()
    return pa.table(
        {
            "name": [str(c[0]) for c in cols],
            "type": [str(c[1]) for c in cols],
            "kind": ["COLUMN"] * len(cols),
            "null?": ["Y" if c[2] == "YES" else "N" for c in cols],
            "default": [None if c[4] is None else str(c[4]) for c in cols],
        }
    )
