"""INFORMATION_SCHEMA: the tenant's catalog as read-only tables, built per statement.

Each view is an Arrow table computed from the transaction's namespace (or, for
QUERY_HISTORY, the statement log) and handed to DuckDB under an internal name, so it obeys
the same isolation as everything else: only the tenant's own rows ever exist in it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pyarrow as pa
from sqlglot import exp

from chronolake.catalog import activity
from chronolake.catalog.model import stored_bytes
from chronolake.catalog.retention import database_days, schema_days, table_days
from chronolake.errors import NotFound
from chronolake.sql.binding.temp_tables import columns as temporary_columns
from chronolake.sql.binding.temp_tables import rows_and_names as temporary_rows
from chronolake.sql.binding.view_columns import view_definition
from chronolake.sql.session import Ctx, from_us
from chronolake.sql.views import history_views, storage_views
from chronolake.sql.views.pushdown import NOTHING, Kind, Pushed, pushed_filters

SCHEMA_NAME = "INFORMATION_SCHEMA"


def _time(us: int | None) -> Any:
    return None if us is None else from_us(int(us))


def _tables(ctx: Ctx) -> pa.Table:
    ns = ctx.txn.ns
    rows: list[dict[str, Any]] = []
    catalog, tenant = ctx.session.catalog, ctx.session.tenant
    for t in ns.tables.values():
        sc = ns.schemas[t.schema_id]
        db = ns.databases[sc.database_id]
        files = () if t.view_sql is not None else ctx.txn.table_files(t.table_id)
        created = catalog.snapshot(tenant, t.created_snapshot) if t.created_snapshot else None
        rows.append(
            {
                "table_catalog": db.name,
                "table_schema": sc.name,
                "table_name": t.name,
                "table_type": "VIEW" if t.view_sql is not None else "BASE TABLE",
                "row_count": None if t.view_sql is not None else sum(f.live_rows for f in files),
                "bytes": None if t.view_sql is not None else stored_bytes(files),
                "created": _time(created.commit_time_us) if created else None,
                "retention_time": None if t.view_sql is not None else table_days(ns, t),
                "is_transient": "YES" if t.transient else "NO",
                "table_id": t.table_id,
            }
        )
    for temp, count in temporary_rows(ctx.session):
        rows.append(
            {
                "table_catalog": temp.database,
                "table_schema": temp.schema,
                "table_name": temp.name,
                "table_type": "TEMPORARY TABLE",
                "row_count": count,
                "bytes": None,
                "created": temp.created,
                "retention_time": 0,
                "is_transient": "NO",
                "table_id": None,
            }
        )
    return pa.Table.from_pylist(
        rows,
        schema=pa.schema(
            [
                ("table_catalog", pa.string()),
                ("table_schema", pa.string()),
                ("table_name", pa.string()),
                ("table_type", pa.string()),
                ("row_count", pa.int64()),
                ("bytes", pa.int64()),
                ("created", pa.timestamp("us", tz="UTC")),
                ("retention_time", pa.int64()),
                ("is_transient", pa.string()),
                ("table_id", pa.int64()),
            ]
        ),
    )


def _columns(ctx: Ctx) -> pa.Table:
    ns = ctx.txn.ns
    rows = []
    for t in ns.tables.values():
        sc = ns.schemas[t.schema_id]
        db = ns.databases[sc.database_id]
        for c in t.columns:
            rows.append(
                {
                    "table_catalog": db.name,
                    "table_schema": sc.name,
                    "table_name": t.name,
                    "column_name": c.name,
                    "ordinal_position": c.position + 1,
                    "column_default": c.default_sql,
                    "is_nullable": "YES" if c.nullable else "NO",
                    "data_type": c.type,
                    "column_id": c.column_id,
                }
            )
    rows += temporary_columns(ctx.session)
    return pa.Table.from_pylist(
        rows,
        schema=pa.schema(
            [
                ("table_catalog", pa.string()),
                ("table_schema", pa.string()),
                ("table_name", pa.string()),
                ("column_name", pa.string()),
                ("ordinal_position", pa.int64()),
                ("column_default", pa.string()),
                ("is_nullable", pa.string()),
                ("data_type", pa.string()),
                ("column_id", pa.int64()),
            ]
        ),
    )


def _schemata(ctx: Ctx) -> pa.Table:
    ns = ctx.txn.ns
    return pa.table(
        {
            "catalog_name": [ns.databases[x.database_id].name for x in ns.schemas.values()],
            "schema_name": [x.name for x in ns.schemas.values()],
            "retention_time": pa.array(
                [schema_days(ns, x.schema_id) for x in ns.schemas.values()], pa.int64()
            ),
        }
    )


def _databases(ctx: Ctx) -> pa.Table:
    ns = ctx.txn.ns
    return pa.table(
        {
            "database_name": [d.name for d in ns.databases.values()],
            "retention_time": pa.array(
                [database_days(ns, d.database_id) for d in ns.databases.values()], pa.int64()
            ),
        }
    )


QUERY_HISTORY_FILTERS = {
    "query_id": Kind.TEXT,
    "session_id": Kind.TEXT,
    "transaction_id": Kind.TEXT,
    "snapshot_id": Kind.INTEGER,
    "start_time": Kind.TIME,
    "query_type": Kind.TEXT,
    "execution_status": Kind.TEXT,
}


def query_history(ctx: Ctx, limit: int | None = None, pushed: Pushed = NOTHING) -> pa.Table:
    """The tenant's statement log, newest first (Snowflake's QUERY_HISTORY columns): the
    ``limit`` newest, or those ``pushed`` allows."""
    rows = activity.statements(ctx.session.catalog, ctx.session.tenant, pushed.conditions, limit)
    # sorted here: an ORDER BY could lead SQLite to the time index instead of the filter's
    rows.sort(key=lambda r: r["query_id"])
    rows.sort(key=lambda r: int(r["start_time"]), reverse=True)
    out = []
    for r in rows:
        out.append(
            {
                "query_id": r["query_id"],
                "query_text": r["query_text"],
                "database_name": r["database_name"],
                "schema_name": r["schema_name"],
                "query_type": r["query_type"],
                "session_id": r["session_id"],
                "user_name": r["user_name"],
                "execution_status": r["execution_status"],
                "error_message": r["error_message"],
                "start_time": _time(r["start_time"]),
                "end_time": _time(r["end_time"]),
                "total_elapsed_time": (int(r["end_time"]) - int(r["start_time"])) // 1000,
                "rows_produced": r["rows_produced"],
                "rows_inserted": r["rows_inserted"],
                "rows_updated": r["rows_updated"],
                "rows_deleted": r["rows_deleted"],
                "transaction_id": r["txn_id"],
                "snapshot_id": r["produced_snapshot"],
            }
        )
    return pa.Table.from_pylist(
        out,
        schema=pa.schema(
            [
                ("query_id", pa.string()),
                ("query_text", pa.string()),
                ("database_name", pa.string()),
                ("schema_name", pa.string()),
                ("query_type", pa.string()),
                ("session_id", pa.string()),
                ("user_name", pa.string()),
                ("execution_status", pa.string()),
                ("error_message", pa.string()),
                ("start_time", pa.timestamp("us", tz="UTC")),
                ("end_time", pa.timestamp("us", tz="UTC")),
                ("total_elapsed_time", pa.int64()),
                ("rows_produced", pa.int64()),
                ("rows_inserted", pa.int64()),
                ("rows_updated", pa.int64()),
                ("rows_deleted", pa.int64()),
                ("transaction_id", pa.string()),
                ("snapshot_id", pa.int64()),
            ]
        ),
    )


def _views(ctx: Ctx) -> pa.Table:
    ns = ctx.txn.ns
    catalog, tenant = ctx.session.catalog, ctx.session.tenant
    rows = []
    for t in ns.tables.values():
        if t.view_sql is None:
            continue
        sc = ns.schemas[t.schema_id]
        created = catalog.snapshot(tenant, t.created_snapshot) if t.created_snapshot else None
        rows.append(
            {
                "table_catalog": ns.databases[sc.database_id].name,
                "table_schema": sc.name,
                "table_name": t.name,
                "view_definition": view_definition(t.name, t.view_sql, t.columns),
                "created": _time(created.commit_time_us) if created else None,
            }
        )
    return pa.Table.from_pylist(
        rows,
        schema=pa.schema(
            [
                ("table_catalog", pa.string()),
                ("table_schema", pa.string()),
                ("table_name", pa.string()),
                ("view_definition", pa.string()),
                ("created", pa.timestamp("us", tz="UTC")),
            ]
        ),
    )


VIEWS: dict[str, Callable[[Ctx], pa.Table]] = {
    "TABLES": _tables,
    "COLUMNS": _columns,
    "VIEWS": _views,
    "SCHEMATA": _schemata,
    "DATABASES": _databases,
    "TABLE_STORAGE_METRICS": storage_views.table_storage_metrics,
}
# views built from the history, with the columns whose simple filters narrow the catalog query
HISTORY_VIEWS: dict[str, tuple[Callable[[Ctx, Pushed], pa.Table], Mapping[str, Kind]]] = {
    "QUERY_HISTORY": (
        lambda ctx, pushed: query_history(ctx, pushed=pushed),
        QUERY_HISTORY_FILTERS,
    ),
    "SNAPSHOTS": (history_views.snapshots, history_views.SNAPSHOT_FILTERS),
    "ACCESS_HISTORY": (history_views.access_history, history_views.ACCESS_FILTERS),
}


def build_view(ctx: Ctx, name: str, node: exp.Table | None = None) -> pa.Table:
    """An INFORMATION_SCHEMA view's rows; with the ``node`` that reads it, a history view
    holds only the rows its query's simple filters can match (see pushdown)."""
    if name in HISTORY_VIEWS:
        builder, kinds = HISTORY_VIEWS[name]
        pushed = NOTHING if node is None else pushed_filters(ctx, node, kinds)
        return builder(ctx, pushed)
    found = VIEWS.get(name)
    if found is None:
        raise NotFound(f"Object 'INFORMATION_SCHEMA.{name}' does not exist or not authorized.")
    return found(ctx)


def register_view(
    ctx: Ctx, name: str, table: pa.Table | None = None, node: exp.Table | None = None
) -> str:
    """Compute an INFORMATION_SCHEMA view (read by ``node``) and register it; return its
    internal name."""
    if table is None:
        table = build_view(ctx, name, node)
    internal = f"__cl_is_{name.lower()}_{id(table)}"
    ctx.session.duck.register(internal, table)
    ctx.session.statement_objects.append(internal)
    return internal
