"""SHOW TABLES | SCHEMAS | DATABASES [HISTORY] | VIEWS [LIKE '...'] [STARTS WITH '...'] [IN ...].

Results are Arrow tables with Snowflake's column names (the subset chronolake has values
for). HISTORY adds one row per dropped version, with ``dropped_on``; objects dropped by the
running transaction show the statement's start as their drop time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from sqlglot import exp

from chronolake.catalog.history import (
    commit_times,
    dropped,
    first_snapshots,
    last_names,
)
from chronolake.catalog.model import DataFile, Namespace, TableInfo, stored_bytes
from chronolake.catalog.retention import (
    Parents,
    database_days,
    effective,
    load_parents,
    object_days,
    oldest_reachable_us,
    schema_days,
    table_days,
)
from chronolake.errors import NotFound, NotSupportedError, SqlError
from chronolake.sql.binding.names import resolve_database, resolve_schema
from chronolake.sql.binding.temp_tables import rows_and_names as temporary_rows
from chronolake.sql.session import Ctx, from_us
from chronolake.sql.statements.show_views import show_views

_TS = pa.timestamp("us", tz="UTC")


def like_pattern(pattern: str) -> re.Pattern[str]:
    """Snowflake LIKE (``%``, ``_``, backslash escapes) as a case-insensitive regex."""
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return re.compile("".join(out), re.I | re.S)


@dataclass
class _Filter:
    like: re.Pattern[str] | None
    starts: str | None

    def ok(self, name: str) -> bool:
        if self.like is not None and not self.like.fullmatch(name):
            return False
        return self.starts is None or name.startswith(self.starts)


def _string(node: Any) -> str | None:
    if isinstance(node, exp.Literal) and node.is_string:
        return str(node.this)
    if node in (None, False):
        return None
    raise SqlError("SHOW: LIKE and STARTS WITH take a string literal.")


def show(ctx: Ctx, node: exp.Show) -> pa.Table:
    what = str(node.this or "").upper()
    flt = _Filter(
        None if node.args.get("like") is None else like_pattern(_string(node.args["like"]) or ""),
        _string(node.args.get("starts_with")),
    )
    history = bool(node.args.get("history"))
    if what == "TABLES":
        return _tables(ctx, node, flt, history)
    if what == "SCHEMAS":
        return _schemas(ctx, node, flt, history)
    if what == "DATABASES":
        return _databases(ctx, flt, history)
    if what == "VIEWS":
        return _views(ctx, node, flt, history)
    raise NotSupportedError(
        f"SHOW {what} is not supported: use TABLES, SCHEMAS, DATABASES or VIEWS."
    )


def _views(ctx: Ctx, node: exp.Show, flt: _Filter, history: bool) -> pa.Table:
    if history:
        raise NotSupportedError("SHOW VIEWS HISTORY is not supported: views have no history.")
    ns = ctx.txn.ns
    scope, sid = _table_scope(ctx, node, ns)

    def in_scope(schema_id: int) -> bool:
        if scope == "SCHEMA":
            return schema_id == sid
        if scope == "DATABASE":
            return ns.schemas[schema_id].database_id == sid
        return True

    return show_views(ctx, in_scope, flt.ok)


def _parents(ctx: Ctx, history: bool) -> Parents:
    """Retention values of dropped schemas and databases (only HISTORY shows their children)."""
    if not history:
        return Parents()
    return load_parents(ctx.session.catalog, ctx.session.tenant, ctx.txn.read.snapshot_id)


def _purged(ctx: Ctx, gone: int | None, times: dict[int, int], days: int) -> bool:
    """A version dropped before its retention window (``days``: its own or inherited value)
    is gone for SHOW ... HISTORY, as for UNDROP."""
    if gone is None or gone == -1:
        return False
    kept = effective(ctx.txn.ns, days)
    if kept == 0:
        return True  # purged at the drop itself, even when the clock has not moved since
    return times.get(gone, 0) < oldest_reachable_us(ctx.start_us, kept)


def _time(us: int | None) -> Any:
    return None if us is None else from_us(us)


def _sizes(files: tuple[DataFile, ...]) -> tuple[int, int]:
    rows = sum(f.live_rows for f in files)
    return rows, stored_bytes(files)


def _table_scope(ctx: Ctx, node: exp.Show, ns: Namespace) -> tuple[str, int | None]:
    """('ACCOUNT', None) | ('DATABASE', id) | ('SCHEMA', id)."""
    kind = str(node.args.get("scope_kind") or "").upper()
    scope = node.args.get("scope")
    if kind == "ACCOUNT":
        return "ACCOUNT", None
    if scope is None:
        if ctx.database is None:
            return "ACCOUNT", None
        return "DATABASE", resolve_database(ns, ctx, None).database_id
    if not isinstance(scope, exp.Table):
        raise SqlError("SHOW ... IN expects a database or schema name.")
    if kind == "DATABASE":
        return "DATABASE", resolve_database(ns, ctx, scope.name).database_id
    if scope.db:
        return "SCHEMA", resolve_schema(ns, ctx, scope.db, scope.name).schema_id
    # IN name (or IN SCHEMA name): a schema of the current database, else a database
    try:
        return "SCHEMA", resolve_schema(ns, ctx, None, scope.name).schema_id
    except (NotFound, SqlError):
        if ns.database_by_name(scope.name) is None:
            raise
        return "DATABASE", resolve_database(ns, ctx, scope.name).database_id


_TABLE_SCHEMA = pa.schema(
    [
        ("created_on", _TS),
        ("name", pa.string()),
        ("database_name", pa.string()),
        ("schema_name", pa.string()),
        ("kind", pa.string()),
        ("rows", pa.int64()),
        ("bytes", pa.int64()),
        ("retention_time", pa.string()),
        ("dropped_on", _TS),
        ("change_tracking", pa.string()),
    ]
)


def _tables(ctx: Ctx, node: exp.Show, flt: _Filter, history: bool) -> pa.Table:
    txn, session = ctx.txn, ctx.session
    catalog, tenant = session.catalog, session.tenant
    ns = txn.ns
    scope, sid = _table_scope(ctx, node, ns)
    read = txn.read.snapshot_id
    schema_names = last_names(catalog, tenant, "SCHEMA", read)
    db_names = last_names(catalog, tenant, "DATABASE", read)
    for sc in ns.schemas.values():
        schema_names[sc.schema_id] = (sc.name, sc.database_id)
    for db in ns.databases.values():
        db_names[db.database_id] = (db.name, 0)

    def in_scope(schema_id: int) -> bool:
        if scope == "SCHEMA":
            return schema_id == sid
        if scope == "DATABASE":
            return schema_names.get(schema_id, ("", 0))[1] == sid
        return True

    parents = _parents(ctx, history)
    # (created snapshot, name, schema id, rows, bytes, dropped snapshot or -1 for "now",
    # retention days: own or inherited, kind)
    items: list[tuple[int | None, str, int, int, int, int | None, int, str]] = []
    for t in ns.tables.values():
        if t.view_sql is None and in_scope(t.schema_id) and flt.ok(t.name):
            rows, size = _sizes(txn.table_files(t.table_id))
            days = table_days(ns, t)
            items.append(
                (t.created_snapshot, t.name, t.schema_id, rows, size, None, days, _kind(t))
            )
    if history:
        for t in txn.base_ns.tables.values():
            if (
                t.table_id not in ns.tables
                and t.view_sql is None
                and in_scope(t.schema_id)
                and flt.ok(t.name)
            ):
                rows, size = _sizes(txn.committed_files(t.table_id))
                days = table_days(ns, t, parents)
                items.append(
                    (t.created_snapshot, t.name, t.schema_id, rows, size, -1, days, _kind(t))
                )
        for d in dropped(catalog, tenant, "TABLE", read):
            if d.object_id in ns.tables or d.parent_id is None:
                continue
            if not in_scope(d.parent_id) or not flt.ok(d.name):
                continue
            files = catalog.table_files(tenant, d.object_id, d.dropped_snapshot - 1)
            rows, size = _sizes(files)
            days = object_days(ns, "TABLE", d.retention_days, d.parent_id, parents, d.transient)
            kind = "TRANSIENT" if d.transient else "TABLE"
            at = d.dropped_snapshot
            items.append((d.created_snapshot, d.name, d.parent_id, rows, size, at, days, kind))
    times = commit_times(
        catalog,
        tenant,
        [x[0] for x in items if x[0] is not None] + [x[5] for x in items if x[5] not in (None, -1)],
    )
    out = []
    for created, name, schema_id, rows, size, gone, days, kind in items:
        if _purged(ctx, gone, times, days):
            continue
        sc_name, db_id = schema_names.get(schema_id, ("", 0))
        out.append(
            {
                "created_on": _time(times.get(created)) if created is not None else None,
                "name": name,
                "database_name": db_names.get(db_id, ("", 0))[0],
                "schema_name": sc_name,
                "kind": kind,
                "rows": rows,
                "bytes": size,
                "retention_time": str(days),
                "dropped_on": None
                if gone is None
                else ctx.start
                if gone == -1
                else _time(times.get(gone)),
                "change_tracking": "ON",  # always on: CHANGES needs no opt-in
            }
        )
    out += _temporary_tables(ctx, in_scope, flt)
    out.sort(key=_order)
    return pa.Table.from_pylist(out, schema=_TABLE_SCHEMA)


def _temporary_tables(
    ctx: Ctx, in_scope: Callable[[int], bool], flt: _Filter
) -> list[dict[str, Any]]:
    """The session's own temporary tables (kind TEMPORARY; no time travel, no CHANGES)."""
    ns, out = ctx.txn.ns, []
    for temp, rows in temporary_rows(ctx.session):
        db = ns.database_by_name(temp.database)
        sc = None if db is None else ns.schema_by_name(db.database_id, temp.schema)
        if sc is None or not in_scope(sc.schema_id) or not flt.ok(temp.name):
            continue
        out.append(
            {
                "created_on": temp.created,
                "name": temp.name,
                "database_name": temp.database,
                "schema_name": temp.schema,
                "kind": "TEMPORARY",
                "rows": rows,
                "bytes": None,  # held by the session's engine, not in files
                "retention_time": "0",
                "dropped_on": None,
                "change_tracking": "OFF",
            }
        )
    return out


def _kind(t: TableInfo) -> str:
    return "TRANSIENT" if t.transient else "TABLE"


def _order(r: dict[str, Any]) -> tuple[Any, ...]:
    gone = r["dropped_on"]
    return (
        r["name"],
        r.get("database_name") or "",
        r.get("schema_name") or "",
        gone is not None,
        -(gone.timestamp() if gone is not None else 0),
    )


_SCHEMA_SCHEMA = pa.schema(
    [
        ("created_on", _TS),
        ("name", pa.string()),
        ("is_default", pa.string()),
        ("is_current", pa.string()),
        ("database_name", pa.string()),
        ("retention_time", pa.string()),
        ("dropped_on", _TS),
    ]
)


def _schemas(ctx: Ctx, node: exp.Show, flt: _Filter, history: bool) -> pa.Table:
    txn, session = ctx.txn, ctx.session
    catalog, tenant = session.catalog, session.tenant
    ns = txn.ns
    read = txn.read.snapshot_id
    kind = str(node.args.get("scope_kind") or "").upper()
    scope = node.args.get("scope")
    db_id: int | None
    if kind == "ACCOUNT" or (scope is None and ctx.database is None):
        db_id = None
    elif isinstance(scope, exp.Table):
        if scope.db:
            raise SqlError("SHOW SCHEMAS IN expects a database name.")
        db_id = resolve_database(ns, ctx, scope.name).database_id
    else:
        db_id = resolve_database(ns, ctx, None).database_id
    db_names = last_names(catalog, tenant, "DATABASE", read)
    for db in ns.databases.values():
        db_names[db.database_id] = (db.name, 0)
    firsts = first_snapshots(catalog, tenant, "SCHEMA")
    parents = _parents(ctx, history)
    # (created snapshot, name, database id, dropped snapshot or -1, own or inherited days)
    items: list[tuple[int | None, str, int, int | None, int]] = []
    for sc in ns.schemas.values():
        if (db_id is None or sc.database_id == db_id) and flt.ok(sc.name):
            days = schema_days(ns, sc.schema_id)
            items.append((firsts.get(sc.schema_id), sc.name, sc.database_id, None, days))
    if history:
        for sc in txn.base_ns.schemas.values():
            dropped_now = sc.schema_id not in ns.schemas
            if dropped_now and (db_id is None or sc.database_id == db_id) and flt.ok(sc.name):
                days = object_days(ns, "SCHEMA", sc.retention_days, sc.database_id, parents)
                items.append((firsts.get(sc.schema_id), sc.name, sc.database_id, -1, days))
        for d in dropped(catalog, tenant, "SCHEMA", read):
            if d.object_id in ns.schemas or d.parent_id is None:
                continue
            if (db_id is None or d.parent_id == db_id) and flt.ok(d.name):
                days = object_days(ns, "SCHEMA", d.retention_days, d.parent_id, parents)
                items.append((d.created_snapshot, d.name, d.parent_id, d.dropped_snapshot, days))
    times = commit_times(
        catalog,
        tenant,
        [x[0] for x in items if x[0] is not None] + [x[3] for x in items if x[3] not in (None, -1)],
    )
    out = []
    for created, name, parent, gone, days in items:
        if _purged(ctx, gone, times, days):
            continue
        db_name = db_names.get(parent, ("", 0))[0]
        out.append(
            {
                "created_on": _time(times.get(created)) if created is not None else None,
                "name": name,
                "is_default": "N",
                "is_current": "Y"
                if gone is None and name == ctx.schema and db_name == ctx.database
                else "N",
                "database_name": db_name,
                "retention_time": str(days),
                "dropped_on": None
                if gone is None
                else ctx.start
                if gone == -1
                else _time(times.get(gone)),
            }
        )
    out.sort(key=_order)
    return pa.Table.from_pylist(out, schema=_SCHEMA_SCHEMA)


_DATABASE_SCHEMA = pa.schema(
    [
        ("created_on", _TS),
        ("name", pa.string()),
        ("is_default", pa.string()),
        ("is_current", pa.string()),
        ("kind", pa.string()),
        ("retention_time", pa.string()),
        ("dropped_on", _TS),
    ]
)


def _databases(ctx: Ctx, flt: _Filter, history: bool) -> pa.Table:
    txn, session = ctx.txn, ctx.session
    catalog, tenant = session.catalog, session.tenant
    ns = txn.ns
    firsts = first_snapshots(catalog, tenant, "DATABASE")
    # (created snapshot, name, dropped snapshot or -1, own or inherited days)
    items: list[tuple[int | None, str, int | None, int]] = []
    for db in ns.databases.values():
        if flt.ok(db.name):
            days = database_days(ns, db.database_id)
            items.append((firsts.get(db.database_id), db.name, None, days))
    if history:
        for db in txn.base_ns.databases.values():
            if db.database_id not in ns.databases and flt.ok(db.name):
                days = object_days(ns, "DATABASE", db.retention_days, None, None)
                items.append((firsts.get(db.database_id), db.name, -1, days))
        for d in dropped(catalog, tenant, "DATABASE", txn.read.snapshot_id):
            if d.object_id not in ns.databases and flt.ok(d.name):
                days = object_days(ns, "DATABASE", d.retention_days, None, None)
                items.append((d.created_snapshot, d.name, d.dropped_snapshot, days))
    times = commit_times(
        catalog,
        tenant,
        [x[0] for x in items if x[0] is not None] + [x[2] for x in items if x[2] not in (None, -1)],
    )
    out = [
        {
            "created_on": _time(times.get(created)) if created is not None else None,
            "name": name,
            "is_default": "N",
            "is_current": "Y" if gone is None and name == ctx.database else "N",
            "kind": "STANDARD",
            "retention_time": str(days),
            "dropped_on": None
            if gone is None
            else ctx.start
            if gone == -1
            else _time(times.get(gone)),
        }
        for created, name, gone, days in items
        if not _purged(ctx, gone, times, days)
    ]
    out.sort(key=_order)
    return pa.Table.from_pylist(out, schema=_DATABASE_SCHEMA)
