"""Binding a statement tree: every table reference becomes a view over its files.

A reference without AT/BEFORE reads the transaction's state (its read snapshot plus its own
writes); one with a clause reads the committed files of the snapshot the clause resolves to,
with the table's current columns (Snowflake's rule). Anything that is not a CTE, a registered
Python object or a table of the tenant is an error, so no raw name ever reaches DuckDB.
"""

from __future__ import annotations

from sqlglot import exp

from chronolake.catalog.model import TableInfo
from chronolake.errors import NotFound, SqlError
from chronolake.sql.binding.changes import changes_query
from chronolake.sql.binding.flatten import rewrite_flatten
from chronolake.sql.binding.names import resolve_table
from chronolake.sql.binding.output_names import result_names
from chronolake.sql.binding.sandbox import check, check_not_a_name, refuse_engine_object
from chronolake.sql.binding.scope import cte_in_scope
from chronolake.sql.binding.substitute import per_query
from chronolake.sql.binding.temp_tables import TempTable, find_temp
from chronolake.sql.binding.timetravel import resolve_point
from chronolake.sql.binding.view_columns import view_alias, width_mismatch
from chronolake.sql.grammar.parse import parse_statement
from chronolake.sql.session import Ctx
from chronolake.sql.views.information_schema import SCHEMA_NAME, query_history, register_view

BOUND = "cl_bound"


def view_table(name: str, alias: str, quoted_alias: bool = True) -> exp.Table:
    """A reference to an internal view, marked so the binder leaves it alone."""
    t = exp.Table(this=exp.to_identifier(name))
    t.set("alias", exp.TableAlias(this=exp.to_identifier(alias, quoted=quoted_alias)))
    t.meta[BOUND] = True
    return t


def _view_ref(internal: str, node: exp.Expr, name: str) -> exp.Table:
    """A reference to ``internal`` to put in place of ``node``: under ``node``'s alias when it
    has one, else under ``name``."""
    ref = view_table(internal, name)
    alias = node.args.get("alias")
    if alias is not None:
        ref.set("alias", alias)
    return ref


def table_views(ctx: Ctx, table: TableInfo, hist: exp.HistoricalData | None) -> tuple[str, str]:
    """(read view, row view) of a table, now (transaction state) or at a point."""
    txn = ctx.txn
    if hist is None:
        # every bound table is recorded with the snapshot it is read at (lineage, audit)
        ctx.extra.setdefault("reads", []).append((table.table_id, txn.read.snapshot_id))
        if table.table_id in txn.deltas:
            txn.ensure_row_ids(table.table_id)
        return ctx.session.views.views(
            txn.view_key(table), table.columns, txn.table_files(table.table_id), _solo(ctx)
        )
    snap = resolve_point(ctx, table, hist)
    catalog = ctx.session.catalog
    version, files = catalog.table_state(ctx.session.tenant, table.table_id, snap)
    key = ("c", table.table_id, version, table.columns)
    ctx.extra.setdefault("reads", []).append((table.table_id, snap))
    return ctx.session.views.views(key, table.columns, files, _solo(ctx))


def _solo(ctx: Ctx) -> bool:
    """Whether the running statement reads only this one table (set by the executor)."""
    return bool(ctx.extra.get("solo"))


def _table_function(ctx: Ctx, node: exp.TableFromRows) -> None:
    """TABLE(INFORMATION_SCHEMA.QUERY_HISTORY(...)): the only table functions of the catalog."""
    inner = node.this
    if not isinstance(inner, exp.Dot):
        return
    fn = inner.expression
    name = fn.name.upper()
    if name != "QUERY_HISTORY":
        raise NotFound(f"Table function INFORMATION_SCHEMA.{name} does not exist.")
    limit = None
    for arg in fn.expressions:
        if isinstance(arg, exp.Kwarg) and arg.this.name.upper() == "RESULT_LIMIT":
            limit = int(arg.expression.name)
    node.replace(_view_ref(register_view(ctx, name, query_history(ctx, limit)), node, name))


def temp_table_ref(node: exp.Table, temp: TempTable, past: bool) -> exp.Table:
    """A read of a temporary table: the session's DuckDB table itself (no time travel)."""
    if past:
        raise SqlError(f"Time travel and CHANGES are not available on temporary table {temp.name}.")
    return _view_ref(temp.internal, node, node.name)


def _view(ctx: Ctx, node: exp.Table, table: TableInfo, depth: int) -> None:
    if node.args.get("when") is not None:
        raise SqlError(f"AT/BEFORE can only be used on a base table: '{table.name}' is a view.")
    if depth > 16:
        raise SqlError(f"View {table.name} nests views more than 16 deep (or refers to itself).")
    text = table.view_sql or ""
    query = parse_statement(text)
    check(query, text)  # a view stored before the allow-list changed runs only what it allows now
    query = rewrite_flatten(per_query(ctx.session, query, ctx.start))
    ctx.extra["solo"] = False  # the view's query may join tables
    bound = bind(ctx, query, depth + 1)
    alias = node.args.get("alias") or exp.TableAlias(this=exp.to_identifier(table.name))
    if table.columns:  # views created before their columns were recorded have none
        _check_width(ctx, table, bound)
        alias = view_alias(alias, table.columns)
    node.replace(exp.Subquery(this=bound, alias=alias))


def _check_width(ctx: Ctx, view: TableInfo, bound: exp.Expr) -> None:
    """The view's query must still produce the columns the view recorded (a base table may
    have gained or lost one since); DuckDB counts them when the query text cannot tell."""
    names = result_names(bound)
    if names is not None and len(names) == len(view.columns):
        return
    width = len(ctx.session.duck.execute(exp.Describe(this=bound).sql("duckdb")).fetchall())
    if width != len(view.columns):
        ns = ctx.txn.ns
        sc = ns.schemas[view.schema_id]
        full = f"{ns.databases[sc.database_id].name}.{sc.name}.{view.name}"
        raise width_mismatch(full, len(view.columns), width)


def bind(ctx: Ctx, tree: exp.Expr, depth: int = 0) -> exp.Expr:
    """Replace the table references of ``tree`` (in place) and return it."""
    for fn in list(tree.find_all(exp.TableFromRows)):
        _table_function(ctx, fn)
    for node in list(tree.find_all(exp.Table)):
        if node.meta.get(BOUND):
            continue
        if not isinstance(node.this, exp.Identifier):
            check_not_a_name(node)  # an allowed table function, else refused
            continue
        db, name = node.db, node.name
        hist = node.args.get("when")
        changes = node.args.get("changes")
        is_cte = not db and cte_in_scope(node, name)
        if changes is not None and (is_cte or (not db and name in ctx.session.registered)):
            raise SqlError(f"CHANGES can only be used on a base table: '{name}' is not one.")
        if is_cte:
            if hist is not None:
                raise SqlError(f"AT/BEFORE can only be used on a base table: '{name}' is a CTE.")
            continue
        if not db and name in ctx.session.registered:
            if hist is not None:
                raise SqlError(
                    f"AT/BEFORE can only be used on a base table: '{name}' is a registered "
                    "Python object."
                )
            alias = node.alias or name
            node.replace(view_table(ctx.session.registered[name], alias))
            continue
        if db.upper() == SCHEMA_NAME:
            if hist is not None:
                raise SqlError(
                    f"AT/BEFORE can only be used on a base table: 'INFORMATION_SCHEMA.{name}' "
                    "is a view."
                )
            node.replace(_view_ref(register_view(ctx, name.upper(), node=node), node, name))
            continue
        temp = find_temp(ctx.session, node)
        if temp is not None:  # the session's temporary table shadows the catalog's
            node.replace(temp_table_ref(node, temp, hist is not None or changes is not None))
            continue
        try:
            table = resolve_table(ctx.txn.ns, ctx, node)
        except NotFound:
            refuse_engine_object(node)  # a name of the engine's rather than "not found"
            raise
        if table.view_sql is not None:
            if changes is not None:
                raise SqlError(f"CHANGES can only be used on a base table: '{name}' is a view.")
            _view(ctx, node, table, depth)
            continue
        if changes is not None:
            feed = changes_query(ctx, table, changes)
            feed_alias = node.args.get("alias") or exp.TableAlias(this=exp.to_identifier(name))
            node.replace(exp.Subquery(this=feed, alias=feed_alias))
            continue
        read_view, _ = table_views(ctx, table, hist)
        node.replace(_view_ref(read_view, node, name))
    return tree
