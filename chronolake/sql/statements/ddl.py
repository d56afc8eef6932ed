"""DDL: databases, schemas, tables and columns, all versioned and transactional."""

from __future__ import annotations

from dataclasses import replace

import pyarrow as pa
from sqlglot import exp

from chronolake.catalog.base import DEFAULT_SCHEMA, new_id
from chronolake.catalog.model import ColumnInfo, DatabaseInfo, SchemaInfo, TableInfo
from chronolake.catalog.retention import check_transient_days
from chronolake.engine.session import first_row
from chronolake.errors import AlreadyExists, NotFound, NotSupportedError, PermissionDenied, SqlError
from chronolake.sql.binding.binder import bind
from chronolake.sql.binding.flatten import rewrite_flatten
from chronolake.sql.binding.names import (
    find_column,
    find_table,
    resolve_database,
    resolve_schema,
    resolve_table,
)
from chronolake.sql.binding.output_names import result_names
from chronolake.sql.binding.substitute import per_query
from chronolake.sql.binding.view_columns import declared_names, renamed
from chronolake.sql.grammar.types import duck_type
from chronolake.sql.session import Ctx
from chronolake.sql.statements.clone import clone_database, clone_schema, clone_table
from chronolake.sql.statements.namespace_ops import (
    already_dropped,
    already_exists,
    drop_database,
    drop_schema,
    make_room,
    status,
)
from chronolake.sql.statements.parameters import alter_table_parameters, retention_property

RESERVED_PREFIX = "__CL_"


def _check_column_name(name: str) -> None:
    if name.upper().startswith(RESERVED_PREFIX):
        raise SqlError(f"Column name {name} is reserved: names starting with __CL_ are internal.")


def check_column_names(table: str, names: list[str], kind: str = "table") -> None:
    """Column names must differ in more than case: the engine matches them case-insensitively."""
    seen: dict[str, str] = {}
    for n in names:
        other = seen.get(n.upper())
        if other is not None:
            if other == n:
                raise SqlError(f"Duplicate column name '{n}' in {kind} {table}.")
            raise NotSupportedError(
                f"Columns '{other}' and '{n}' of {kind} {table} differ only in case, which "
                "chronolake does not support: rename one of them."
            )
        seen[n.upper()] = n


def default_text(ctx: Ctx, expr: exp.Expr, type_: str) -> str | None:
    """Evaluate a DEFAULT to a constant, kept as text and cast when read."""
    if any(isinstance(n, (exp.Column, exp.Table, exp.Select)) for n in expr.walk()):
        raise SqlError("A column DEFAULT must be a constant expression.")
    sql = exp.select(exp.cast(expr.copy(), exp.DataType.build(type_, dialect="duckdb"))).sql(
        "duckdb"
    )
    row = first_row(ctx.session.duck, f"SELECT CAST(({sql}) AS VARCHAR)")
    return None if row is None else row[0]


def column_from_def(ctx: Ctx, cd: exp.ColumnDef, column_id: int, position: int) -> ColumnInfo:
    name = cd.name
    _check_column_name(name)
    kind = cd.args.get("kind")
    if kind is None:
        raise SqlError(f"Column {name} needs a data type.")
    type_ = duck_type(kind)
    default = None
    nullable = True
    for c in cd.args.get("constraints") or []:
        kind_ = c.args.get("kind")
        if isinstance(kind_, exp.DefaultColumnConstraint):
            default = default_text(ctx, kind_.this, type_)
        elif isinstance(kind_, exp.NotNullColumnConstraint):
            nullable = bool(kind_.args.get("allow_null"))
    return ColumnInfo(column_id, name, type_, position, default, nullable)


def _refuse_transient_namespace(node: exp.Create, kind: str) -> None:
    if _is_transient(node):
        raise NotSupportedError(
            f"CREATE TRANSIENT {kind} is not supported: create a {kind.lower()} and "
            "CREATE TRANSIENT TABLE in it."
        )


def create_database(ctx: Ctx, node: exp.Create) -> pa.Table:
    _refuse_transient_namespace(node, "DATABASE")
    if node.args.get("clone") is not None:
        return clone_database(ctx, node)
    name = node.this.name
    days = retention_property(node)
    ns = ctx.txn.ns.copy()
    existing = ns.database_by_name(name)
    taken = make_room(node, name, existing, lambda old: drop_database(ns, old.database_id))
    if taken is not None:
        return taken
    db = DatabaseInfo(new_id(), name, days)
    ns.databases[db.database_id] = db
    sc = SchemaInfo(new_id(), db.database_id, DEFAULT_SCHEMA)
    ns.schemas[sc.schema_id] = sc
    ctx.txn.set_namespace(ns, "CREATE_DATABASE")
    ctx.session.database, ctx.session.schema = name, DEFAULT_SCHEMA
    return status(f"Database {name} successfully created.")


def create_schema(ctx: Ctx, node: exp.Create) -> pa.Table:
    _refuse_transient_namespace(node, "SCHEMA")
    if node.args.get("clone") is not None:
        return clone_schema(ctx, node)
    target = node.this
    db_name, name = (target.catalog or None), target.db or target.name
    days = retention_property(node)
    ns = ctx.txn.ns.copy()
    db = resolve_database(ns, ctx, db_name)
    existing = ns.schema_by_name(db.database_id, name)
    taken = make_room(node, name, existing, lambda old: drop_schema(ns, old.schema_id))
    if taken is not None:
        return taken
    sc = SchemaInfo(new_id(), db.database_id, name, days)
    ns.schemas[sc.schema_id] = sc
    ctx.txn.set_namespace(ns, "CREATE_SCHEMA")
    ctx.session.database, ctx.session.schema = db.name, name
    return status(f"Schema {name} successfully created.")


def create_table(ctx: Ctx, node: exp.Create) -> tuple[TableInfo | None, pa.Table]:
    """Create the table's definition; CTAS data is written by the caller (dml.insert_rows)."""
    target = node.this
    defs: list[exp.ColumnDef] = []
    if isinstance(target, exp.Schema):
        defs = [c for c in target.expressions if isinstance(c, exp.ColumnDef)]
        if node.expression is None:
            defs = [c for c in defs if c.args.get("kind") is not None] or defs
        target = target.this
    if node.args.get("clone") is not None:
        if _is_transient(node):
            raise NotSupportedError(
                "CREATE TRANSIENT TABLE ... CLONE is not supported: clone, then copy the rows "
                "with CREATE TRANSIENT TABLE ... AS SELECT."
            )
        return None, clone_table(ctx, node)
    props = node.args.get("properties")
    for prop in props.expressions if props is not None else []:
        if isinstance(prop, (exp.ExternalProperty, exp.LocationProperty)):
            raise PermissionDenied(
                "External tables are not allowed: a table's data lives in the lake."
            )
    days = retention_property(node)
    transient = _is_transient(node)
    if transient:
        check_transient_days(days)
    ns = ctx.txn.ns.copy()
    sc = resolve_schema(ns, ctx, target.catalog or None, target.db or None)
    name = target.name
    existing = ns.table_by_name(sc.schema_id, name)
    taken = make_room(node, name, existing, lambda old: ns.tables.pop(old.table_id))
    if taken is not None:
        return None, taken
    query = node.expression
    if query is not None:
        # bound before the new table exists: OR REPLACE may read the table it replaces
        bound = bind(ctx, query.copy())
        ctx.extra["ctas_query"] = bound
        cols = ctas_columns(ctx, bound)
        if defs or (isinstance(node.this, exp.Schema) and node.this.expressions):
            names = [e.name for e in node.this.expressions]
            if len(names) != len(cols):
                raise SqlError(
                    f"CREATE TABLE {name}: {len(names)} column names given for a query "
                    f"of {len(cols)} columns."
                )
            typed = {cd.name: cd for cd in defs}
            cols = [
                column_from_def(ctx, typed[n], c.column_id, c.position)
                if n in typed and typed[n].args.get("kind") is not None
                else replace(c, name=n)
                for n, c in zip(names, cols, strict=True)
            ]
    else:
        if not defs:
            raise SqlError(f"CREATE TABLE {name} needs a column list or AS SELECT.")
        cols = [column_from_def(ctx, cd, i + 1, i) for i, cd in enumerate(defs)]
    check_column_names(name, [c.name for c in cols])
    table = TableInfo(
        new_id(),
        sc.schema_id,
        name,
        tuple(cols),
        None,
        len(cols) + 1,
        retention_days=days,
        transient=transient,
    )
    ns.tables[table.table_id] = table
    ctx.txn.set_namespace(ns, "CREATE_TABLE")
    ctx.txn.ops[table.table_id] = "CREATE_TABLE"
    return table, status(f"Table {name} successfully created.")


def _is_transient(node: exp.Create) -> bool:
    """CREATE TRANSIENT TABLE (TEMPORARY ones never get here: sql/statements/temporary.py)."""
    props = node.args.get("properties")
    return props is not None and any(
        isinstance(p, exp.TransientProperty) for p in props.expressions
    )


def create_view(ctx: Ctx, node: exp.Create) -> pa.Table:
    target = node.this
    names = None
    if isinstance(target, exp.Schema):
        names = declared_names(target)
        target = target.this
    query = node.expression
    if query is None:
        raise SqlError("CREATE VIEW needs AS <query>.")
    ns = ctx.txn.ns.copy()
    sc = resolve_schema(ns, ctx, target.catalog or None, target.db or None)
    name = target.name
    existing = ns.table_by_name(sc.schema_id, name)
    replaceable = existing is None or existing.view_sql is not None  # OR REPLACE VIEW: views only
    taken = make_room(
        node, name, existing, lambda old: ns.tables.pop(old.table_id), replaceable=replaceable
    )
    if taken is not None:
        return taken
    probe = per_query(ctx.session, query.copy(), ctx.start)  # the body must bind now
    cols = ctas_columns(ctx, bind(ctx, rewrite_flatten(probe)))
    if names is not None:
        full = f"{ns.databases[sc.database_id].name}.{sc.name}.{name}"
        check_column_names(name, names, "view")
        cols = renamed(full, cols, names)
    view = TableInfo(new_id(), sc.schema_id, name, (), None, 1, query.sql("snowflake"))
    view = view.with_columns(tuple(cols))
    ns.tables[view.table_id] = view
    ctx.txn.set_namespace(ns, "CREATE_VIEW")
    return status(f"View {name} successfully created.")


def ctas_columns(ctx: Ctx, bound: exp.Expr) -> list[ColumnInfo]:
    """The columns a bound query produces."""
    names = result_names(bound)
    rel = ctx.session.duck.execute(f"DESCRIBE {bound.sql('duckdb')}").fetchall()
    if names is not None and len(names) == len(rel):
        rel = [(name, *row[1:]) for name, row in zip(names, rel, strict=True)]
    cols = []
    for i, (name, type_, *_rest) in enumerate(rel):
        _check_column_name(name)
        cols.append(ColumnInfo(i + 1, str(name), str(type_), i, None))
    return cols


def drop(ctx: Ctx, node: exp.Drop) -> pa.Table:
    out = status("Statement executed successfully.")
    for target in node.args.get("tables") or [node.this]:
        out = _drop_one(ctx, node, target)
    return out


def _drop_one(ctx: Ctx, node: exp.Drop, target: exp.Table) -> pa.Table:
    kind = str(node.args.get("kind") or "").upper()
    ns = ctx.txn.ns.copy()
    if_exists = bool(node.args.get("exists"))
    if kind in ("TABLE", "VIEW"):
        try:
            table = find_table(ns, ctx, target)
        except NotFound:
            if if_exists:
                return already_dropped(target.name)
            raise
        if table is None:
            if if_exists:
                return already_dropped(target.name)
            raise NotFound(f"Object '{target.name}' does not exist or not authorized.")
        if (table.view_sql is not None) != (kind == "VIEW"):
            raise SqlError(
                f"{table.name} is a {'view' if table.view_sql is not None else 'table'}: "
                f"use DROP {'VIEW' if table.view_sql is not None else 'TABLE'}."
            )
        del ns.tables[table.table_id]
        ctx.txn.set_namespace(ns, f"DROP_{kind}")
        ctx.txn.ops[table.table_id] = f"DROP_{kind}"
        return status(f"{table.name} successfully dropped.")
    if kind == "SCHEMA":
        try:
            sc = resolve_schema(ns, ctx, target.catalog or None, target.db or target.name)
        except NotFound:
            if if_exists:
                return already_dropped(target.db or target.name)
            raise
        drop_schema(ns, sc.schema_id)
        ctx.txn.set_namespace(ns, "DROP_SCHEMA")
        return status(f"{sc.name} successfully dropped.")
    if kind == "DATABASE":
        db = ns.database_by_name(target.name)
        if db is None:
            if if_exists:
                return already_dropped(target.name)
            raise NotFound(f"Database '{target.name}' does not exist or not authorized.")
        drop_database(ns, db.database_id)
        ctx.txn.set_namespace(ns, "DROP_DATABASE")
        return status(f"{db.name} successfully dropped.")
    raise NotSupportedError(f"DROP {kind} is not supported.")


def alter_table(ctx: Ctx, node: exp.Alter) -> pa.Table:
    try:
        table = resolve_table(ctx.txn.ns, ctx, node.this)
    except NotFound:
        if node.args.get("exists"):
            return status("Statement executed successfully.")
        raise
    for action in node.args.get("actions") or []:
        table = _alter_action(ctx, table, action)
    return status("Statement executed successfully.")


def _alter_action(ctx: Ctx, table: TableInfo, action: exp.Expr) -> TableInfo:
    if isinstance(action, exp.ColumnDef):
        if table.column(action.name) is not None:
            if action.args.get("exists"):
                return table
            raise AlreadyExists(f"column '{action.name}' already exists")
        col = column_from_def(ctx, action, table.next_column_id, len(table.columns))
        new = table.with_columns((*table.columns, col))
        check_column_names(table.name, [c.name for c in new.columns])
        ctx.txn.set_table(new, "ADD_COLUMN")
        return new
    if isinstance(action, exp.Drop) and str(action.args.get("kind")).upper() == "COLUMN":
        targets = action.args.get("tables") or action.expressions or [action.this]
        names = [c.name for c in targets if c is not None]
        cols = list(table.columns)
        for name in names:
            found = find_column(table, name)
            if found is None:
                if action.args.get("exists"):
                    continue
                raise SqlError(f"SQL compilation error: invalid identifier '{name}'")
            cols = [c for c in cols if c.column_id != found.column_id]
        if not cols:
            raise SqlError(f"Cannot drop the last column of table {table.name}.")
        new = table.with_columns(tuple(cols))
        ctx.txn.set_table(new, "DROP_COLUMN")
        return new
    if isinstance(action, exp.RenameColumn):
        old, to = action.this.name, action.args["to"].name
        renamed = find_column(table, old)
        if renamed is None:
            raise SqlError(f"SQL compilation error: invalid identifier '{old}'")
        taken_by = find_column(table, to)
        if taken_by is not None and taken_by.column_id != renamed.column_id:
            raise AlreadyExists(f"column '{to}' already exists")
        _check_column_name(to)
        new = table.with_columns(
            tuple(
                replace(c, name=to) if c.column_id == renamed.column_id else c
                for c in table.columns
            )
        )
        check_column_names(table.name, [c.name for c in new.columns])
        ctx.txn.set_table(new, "RENAME_COLUMN")
        return new
    if isinstance(action, exp.AlterRename):
        target = action.this
        ns = ctx.txn.ns
        sc = (
            resolve_schema(ns, ctx, target.catalog or None, target.db or None)
            if target.db
            else ns.schemas[table.schema_id]
        )
        if ns.table_by_name(sc.schema_id, target.name) is not None:
            raise already_exists(target.name)
        new = replace(table, name=target.name, schema_id=sc.schema_id)
        ctx.txn.set_table(new, "RENAME_TABLE")
        return new
    if isinstance(action, exp.AlterSet):
        return alter_table_parameters(ctx, table, action, unset=False)
    if isinstance(action, exp.Set) and action.args.get("unset"):
        return alter_table_parameters(ctx, table, action, unset=True)
    raise NotSupportedError(f"ALTER TABLE {action.sql('snowflake')} is not supported.")


def use(ctx: Ctx, node: exp.Use) -> pa.Table:
    kind = str(node.args.get("kind") or "").upper()
    target = node.this
    ns = ctx.txn.ns
    if kind == "DATABASE":
        db = resolve_database(ns, ctx, target.name)
        ctx.session.database, ctx.session.schema = db.name, DEFAULT_SCHEMA
        return status("Statement executed successfully.")
    if kind == "SCHEMA" or target.db:
        db_name = target.db or None if kind == "SCHEMA" else target.db
        if kind == "SCHEMA":
            db_name, sc_name = (target.db or None), target.name
        else:
            db_name, sc_name = target.db, target.name
        sc = resolve_schema(ns, ctx, db_name, sc_name)
        ctx.session.database = ns.databases[sc.database_id].name
        ctx.session.schema = sc.name
        return status("Statement executed successfully.")
    # USE name: a database (Snowflake resolves a bare name as a database)
    db = resolve_database(ns, ctx, target.name)
    ctx.session.database, ctx.session.schema = db.name, DEFAULT_SCHEMA
    return status("Statement executed successfully.")


def describe(ctx: Ctx, node: exp.Describe) -> pa.Table:
    if not isinstance(node.this, exp.Table):
        raise NotSupportedError(
            "DESCRIBE takes a table or view name (DESCRIBE TABLE t): describing a query is "
            "not supported; run it with LIMIT 0 and read the cursor's description instead."
        )
    table = resolve_table(ctx.txn.ns, ctx, node.this)
    return pa.table(
        {
            "name": [c.name for c in table.columns],
            "type": [c.type for c in table.columns],
            "kind": ["COLUMN"] * len(table.columns),
            "null?": ["Y"] * len(table.columns),
            "default": [c.default_sql for c in table.columns],
        }
    )
