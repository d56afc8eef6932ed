"""SHOW VIEWS [LIKE '...'] [STARTS WITH '...'] [IN ...]: the views in scope, with their text."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa

from chronolake.catalog.history import commit_times
from chronolake.sql.binding.view_columns import view_definition
from chronolake.sql.session import Ctx, from_us

_SCHEMA = pa.schema(
    [
        ("created_on", pa.timestamp("us", tz="UTC")),
        ("name", pa.string()),
        ("database_name", pa.string()),
        ("schema_name", pa.string()),
        ("text", pa.string()),
    ]
)


def show_views(
    ctx: Ctx, in_scope: Callable[[int], bool], name_ok: Callable[[str], bool]
) -> pa.Table:
    """One row per view of the transaction's namespace whose schema is in scope and whose name
    passes the filters, ordered by name, then database and schema."""
    ns = ctx.txn.ns
    views = [
        t
        for t in ns.tables.values()
        if t.view_sql is not None and in_scope(t.schema_id) and name_ok(t.name)
    ]
    created = [t.created_snapshot for t in views if t.created_snapshot is not None]
    times = commit_times(ctx.session.catalog, ctx.session.tenant, created)
    rows: list[dict[str, Any]] = []
    for t in views:
        sc = ns.schemas[t.schema_id]
        at = times.get(t.created_snapshot) if t.created_snapshot is not None else None
        rows.append(
            {
                "created_on": None if at is None else from_us(at),
                "name": t.name,
                "database_name": ns.databases[sc.database_id].name,
                "schema_name": sc.name,
                "text": view_definition(t.name, t.view_sql or "", t.columns),
            }
        )
    rows.sort(key=lambda r: (r["name"], r["database_name"], r["schema_name"]))
    return pa.Table.from_pylist(rows, schema=_SCHEMA)
