"""INFORMATION_SCHEMA.TABLE_STORAGE_METRICS: Snowflake's view of how table storage splits.

Built from ``catalog/storage_metrics.py`` at the statement's start time (the session clock),
one row per table of the tenant, dropped tables included (views are not tables and have no
row). It shows committed state: a transaction's own uncommitted files are not in it.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from chronolake.catalog.storage_metrics import storage_report
from chronolake.sql.session import Ctx, from_us

TIME = pa.timestamp("us", tz="UTC")

COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("table_catalog", pa.string()),
    ("table_schema", pa.string()),
    ("table_name", pa.string()),
    ("id", pa.int64()),
    ("clone_group_id", pa.int64()),
    ("is_transient", pa.string()),
    ("active_bytes", pa.int64()),
    ("time_travel_bytes", pa.int64()),
    ("failsafe_bytes", pa.int64()),
    ("retained_for_clone_bytes", pa.int64()),
    ("deleted", pa.bool_()),
    ("table_created", TIME),
    ("table_dropped", TIME),
    ("table_entered_failsafe", TIME),
    ("catalog_created", TIME),
    ("catalog_dropped", TIME),
    ("schema_created", TIME),
    ("schema_dropped", TIME),
    ("comment", pa.string()),
)


def _time(us: int | None) -> Any:
    return None if us is None else from_us(us)


def table_storage_metrics(ctx: Ctx) -> pa.Table:
    """One row per table (dropped ones too) with its four byte columns."""
    report = storage_report(ctx.session.catalog, ctx.session.tenant, ctx.start_us)
    rows = [
        {
            "table_catalog": m.database_name,
            "table_schema": m.schema_name,
            "table_name": m.name,
            "id": m.table_id,
            "clone_group_id": m.clone_group_id,
            "is_transient": "YES" if m.transient else "NO",
            "active_bytes": m.active,
            "time_travel_bytes": m.time_travel,
            "failsafe_bytes": m.failsafe,
            "retained_for_clone_bytes": m.retained_for_clone,
            "deleted": m.deleted,
            "table_created": _time(m.created_us),
            "table_dropped": _time(m.dropped_us),
            "table_entered_failsafe": _time(m.entered_failsafe_us),
            "catalog_created": _time(m.database_created_us),
            "catalog_dropped": _time(m.database_dropped_us),
            "schema_created": _time(m.schema_created_us),
            "schema_dropped": _time(m.schema_dropped_us),
            "comment": None,
        }
        for m in report.tables
    ]
    return pa.Table.from_pylist(rows, schema=pa.schema(list(COLUMNS)))
