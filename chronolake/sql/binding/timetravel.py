"""AT / BEFORE points -> one snapshot id (SEMANTICS.md sections 2 and 3)."""

from __future__ import annotations

import datetime as dt
import decimal
import math
from zoneinfo import ZoneInfo

import duckdb
from sqlglot import exp

from chronolake.catalog.model import TableInfo
from chronolake.catalog.retention import (
    database_days,
    effective,
    load_parents,
    oldest_reachable_us,
    schema_days,
    table_days,
)
from chronolake.engine.errors import clean_message
from chronolake.engine.session import first_row
from chronolake.errors import DataError, SqlError, TimeTravelError
from chronolake.sql.binding.timestamp_text import from_epoch, parse_timestamp_text
from chronolake.sql.session import Ctx, to_us


def _not_available(table: TableInfo, object_kind: str = "table") -> TimeTravelError:
    return TimeTravelError(
        f"Time travel data is not available for {object_kind} {table.name}. The requested time is "
        "either beyond the allowed time travel period or before the object creation time."
    )


_NOT_PLAIN = object()


def _plain_literal(expr: exp.Expr) -> object:
    """The value of a string or integer literal (optionally negated) as DuckDB would give it,
    without asking DuckDB; ``_NOT_PLAIN`` otherwise."""
    negate = isinstance(expr, exp.Neg)
    node = expr.this if negate else expr
    if isinstance(node, exp.Literal):
        if node.is_string and not negate:
            return node.this
        if node.is_int:
            return -int(node.this) if negate else int(node.this)
    return _NOT_PLAIN


def _constant(ctx: Ctx, expr: exp.Expr, cast: str | None) -> object:
    if cast is None:
        # most points are a query id or an offset: no DuckDB round trip for those
        value = _plain_literal(expr)
        if value is not _NOT_PLAIN:
            return value
    if any(isinstance(n, (exp.Table, exp.Select, exp.Subquery)) for n in expr.walk()):
        raise SqlError("The AT/BEFORE value must be a constant expression, not a query.")
    value = expr if cast is None else exp.cast(expr.copy(), exp.DataType.build(cast))
    try:
        row = first_row(ctx.session.duck, exp.select(value).sql("duckdb"))
    except duckdb.Error as e:
        raise DataError(
            f"Invalid AT/BEFORE value {expr.sql('snowflake')}: {clean_message(str(e))}"
        ) from None
    return None if row is None else row[0]


def resolve_point(
    ctx: Ctx, table: TableInfo, hist: exp.HistoricalData, object_kind: str = "table"
) -> int:
    """The snapshot a clause on ``table`` reads, or the SEMANTICS.md error. For a schema or
    database (CLONE), ``table`` carries its name and creation snapshot and ``object_kind``
    names it in the messages."""
    catalog, tenant = ctx.session.catalog, ctx.session.tenant
    before = hist.this.upper() == "BEFORE"
    kind = str(hist.args["kind"]).upper()
    expr: exp.Expr = hist.expression
    if kind in ("TIMESTAMP", "OFFSET"):
        if kind == "OFFSET":
            raw = _constant(ctx, expr, None)
            value = float(raw) if isinstance(raw, (int, float, decimal.Decimal)) else None
            if raw is None or value is None or math.isnan(value) or value > 0:
                shown = "NULL" if raw is None else _show(raw)
                raise TimeTravelError(
                    f"Invalid data type [{shown}] in {hist.this.upper()}(OFFSET => "
                    f"{expr.sql('snowflake')})"
                )
            point_us = ctx.start_us + round(value * 1_000_000)
        else:
            point_us = to_us(_timestamp(ctx, expr, _clause(hist)))
            if point_us > ctx.start_us:
                raise TimeTravelError(
                    f"Future data is not yet available for {object_kind} {table.name}."
                )
        snap = catalog.snapshot_at_time(tenant, point_us, inclusive=not before)
    elif kind == "STATEMENT":
        qid = _constant(ctx, expr, None)
        if qid is None:
            raise _null_point(hist, "a STATEMENT point must be a query id (a string)")
        points = catalog.statement_points(tenant, qid) if isinstance(qid, str) else None
        if points is None:
            raise TimeTravelError(f"Statement {qid} not found")
        produced, visible, point_us = points
        snap = visible if produced is None else produced - 1 if before else produced
    elif kind == "VERSION":
        raw = _constant(ctx, expr, None)
        if raw is None:
            raise _null_point(hist, "a VERSION point must be a snapshot number")
        version = raw if isinstance(raw, int) and not isinstance(raw, bool) else 0
        found = catalog.snapshot(tenant, version) if version >= 1 else None
        if found is None:
            raise TimeTravelError(f"No snapshot found at version {raw}")
        point_us = found.commit_time_us
        snap = version - 1 if before else version
    else:
        raise SqlError(
            f"Unknown AT/BEFORE kind {kind}: use TIMESTAMP, OFFSET, STATEMENT or VERSION."
        )
    if table.created_snapshot is None or snap < table.created_snapshot or snap < 1:
        raise _not_available(table, object_kind)
    days = retention_days(ctx, table, object_kind)
    if point_us < oldest_reachable_us(ctx.start_us, days):
        raise _not_available(table, object_kind)
    return snap


def _null_point(hist: exp.HistoricalData, must_be: str) -> TimeTravelError:
    return TimeTravelError(f"Invalid data type [NULL] in {_clause(hist)}: {must_be}.")


def retention_days(ctx: Ctx, table: TableInfo, object_kind: str = "table") -> int:
    """The effective DATA_RETENTION_TIME_IN_DAYS of a table (or, with ``object_kind``
    'schema' or 'database', of the object whose id ``table.table_id`` carries), by the
    current values the statement sees: own or inherited, raised to the tenant's minimum."""
    ns = ctx.txn.ns
    if object_kind == "schema":
        days = schema_days(ns, table.table_id)
    elif object_kind == "database":
        days = database_days(ns, table.table_id)
    else:
        current = ns.tables.get(table.table_id, table)
        parents = None
        if current.schema_id not in ns.schemas:
            session = ctx.session
            parents = load_parents(session.catalog, session.tenant, ctx.txn.read.snapshot_id)
        days = table_days(ns, current, parents)
    return effective(ns, days)


_LOCAL = {exp.DType.TIMESTAMPLTZ, exp.DType.TIMESTAMPTZ}
_TIMESTAMP_TYPES = {
    exp.DType.TIMESTAMP,
    exp.DType.TIMESTAMPNTZ,
    exp.DType.DATETIME,
    exp.DType.DATE,
    *_LOCAL,
}


def _timestamp(ctx: Ctx, expr: exp.Expr, clause: str) -> dt.datetime:
    """A TIMESTAMP point: un-cast strings and TIMESTAMP_NTZ are UTC, LTZ and TZ the session
    zone (unless the text carries an offset); numbers are epochs (``timestamp_text``)."""
    kind = None
    if (
        isinstance(expr, exp.Cast)
        and isinstance(expr.this, (exp.Literal, exp.Neg))
        and expr.to.this in _TIMESTAMP_TYPES
    ):
        kind, expr = expr.to.this, expr.this  # Snowflake's text forms, not DuckDB's
    value = _constant(ctx, expr, None)
    if value is None:
        raise TimeTravelError(
            f"Invalid data type [NULL] in {clause}: a TIMESTAMP point must be a timestamp."
        )
    if isinstance(value, str):
        parsed = parse_timestamp_text(value)
        if parsed is None:
            raise DataError(
                f"Timestamp '{value}' is not recognized: use 'YYYY-MM-DD HH:MI:SS[.FF][+TZH:TZM]', "
                "'Wed, 26 Jun 2024 09:20:00 -0700' or a number of seconds since the epoch."
            )
        value = parsed
    elif isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool):
        value = from_epoch(value)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    if not isinstance(value, dt.datetime):
        raise DataError(f"Invalid timestamp in AT/BEFORE: {expr.sql('snowflake')}")
    if kind in (exp.DType.TIMESTAMP, exp.DType.TIMESTAMPNTZ, exp.DType.DATETIME, exp.DType.DATE):
        value = value.replace(tzinfo=None)  # NTZ keeps the wall time, drops any offset
    if value.tzinfo is None:
        zone = ZoneInfo(ctx.session.timezone) if kind in _LOCAL else dt.UTC
        value = value.replace(tzinfo=zone)
    return value


def _clause(hist: exp.HistoricalData) -> str:
    """The clause as written, for messages: AT(TIMESTAMP => NULL)."""
    kind = str(hist.args["kind"]).upper()
    return f"{hist.this.upper()}({kind} => {hist.expression.sql('snowflake')})"


def _show(v: object) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)
