"""Retention: DATA_RETENTION_TIME_IN_DAYS (SEMANTICS.md sections 9 and 11).

Each database, schema and table may carry its own value (``retention_days``, versioned with
the namespace); the tenant (account) may carry ``DATA_RETENTION_TIME_IN_DAYS`` and
``MIN_DATA_RETENTION_TIME_IN_DAYS`` in ``Namespace.settings``. An object without its own
value inherits its parent's *current* value (table -> schema -> database -> tenant -> 1).
The effective retention is max(own or inherited value, the tenant's minimum); 0 turns time
travel off. A dropped object inherits from its parent as it is now, or, if the parent is
dropped too, from the parent's last catalog row.
"""

from __future__ import annotations

import decimal
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import func, select

from chronolake.catalog import schema as s
from chronolake.catalog.base import Catalog
from chronolake.catalog.history import last_retention
from chronolake.catalog.model import Namespace, TableInfo
from chronolake.errors import NotFound, SqlError

DEFAULT_RETENTION_DAYS = 1
MAX_RETENTION_DAYS = 90
MAX_TRANSIENT_DAYS = 1  # transient (and temporary) objects: time travel of at most a day
DATA_RETENTION = "DATA_RETENTION_TIME_IN_DAYS"
MIN_DATA_RETENTION = "MIN_DATA_RETENTION_TIME_IN_DAYS"
TENANT_PARAMETERS = (DATA_RETENTION, MIN_DATA_RETENTION)
DAY_US = 86_400 * 1_000_000


def check_days(name: str, value: object) -> int:
    """A parameter value as days, or Snowflake's error for it."""
    shown = "NULL" if value is None else str(value)
    days: int | None = None
    if isinstance(value, bool) or value is None:
        days = None
    elif isinstance(value, int):
        days = value
    elif isinstance(value, (float, decimal.Decimal)) and value == int(value):
        days = int(value)
        shown = str(days)
    elif isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        days = int(value.strip())
    if days is None or days < 0:
        raise SqlError(f"invalid value [{shown}] for parameter '{name}'")
    if days > MAX_RETENTION_DAYS:
        raise SqlError(f"Exceeds maximum allowable retention time ({MAX_RETENTION_DAYS} day(s)).")
    return days


def check_transient_days(days: int | None) -> None:
    """A transient or temporary table keeps at most a day of time travel."""
    if days is not None and days > MAX_TRANSIENT_DAYS:
        raise SqlError(f"invalid value [{days}] for parameter '{DATA_RETENTION}'")


@dataclass(frozen=True)
class Parents:
    """Own values of schemas and databases missing from a namespace (dropped ones), from
    their last catalog rows: id -> (own days or None, parent id or 0)."""

    schemas: Mapping[int, tuple[int | None, int]] = field(default_factory=dict)
    databases: Mapping[int, tuple[int | None, int]] = field(default_factory=dict)


def load_parents(catalog: Catalog, tenant: str, read: int) -> Parents:
    return Parents(
        last_retention(catalog, tenant, "SCHEMA", read),
        last_retention(catalog, tenant, "DATABASE", read),
    )


def tenant_days(ns: Namespace) -> int:
    value = ns.settings.get(DATA_RETENTION)
    return DEFAULT_RETENTION_DAYS if value is None else int(value)


def minimum_days(ns: Namespace) -> int:
    return int(ns.settings.get(MIN_DATA_RETENTION, "0"))


def database_days(ns: Namespace, database_id: int, parents: Parents | None = None) -> int:
    """A database's own or inherited value."""
    db = ns.databases.get(database_id)
    if db is not None:
        own = db.retention_days
    else:
        own = (parents or Parents()).databases.get(database_id, (None, 0))[0]
    return tenant_days(ns) if own is None else own


def schema_days(ns: Namespace, schema_id: int, parents: Parents | None = None) -> int:
    """A schema's own or inherited value."""
    sc = ns.schemas.get(schema_id)
    if sc is not None:
        own, db_id = sc.retention_days, sc.database_id
    else:
        found = (parents or Parents()).schemas.get(schema_id)
        if found is None:
            return tenant_days(ns)
        own, db_id = found
    return database_days(ns, db_id, parents) if own is None else own


def object_days(
    ns: Namespace,
    kind: str,
    own: int | None,
    parent_id: int | None,
    parents: Parents | None,
    transient: bool = False,
) -> int:
    """The own or inherited value of a TABLE, SCHEMA or DATABASE (dropped or not), given its
    own value and its parent: what SHOW's ``retention_time`` shows. A transient table's is at
    most 1 day, whatever it inherits."""
    days = _own_or_inherited(ns, kind, own, parent_id, parents)
    return min(days, MAX_TRANSIENT_DAYS) if transient else days


def _own_or_inherited(
    ns: Namespace, kind: str, own: int | None, parent_id: int | None, parents: Parents | None
) -> int:
    if own is not None:
        return own
    if kind == "TABLE" and parent_id is not None:
        return schema_days(ns, parent_id, parents)
    if kind == "SCHEMA" and parent_id is not None:
        return database_days(ns, parent_id, parents)
    return tenant_days(ns)


def table_days(ns: Namespace, table: TableInfo, parents: Parents | None = None) -> int:
    """A table's own or inherited value (not raised to the tenant's minimum); a transient
    table's is at most 1 day, whatever it inherits."""
    return object_days(ns, "TABLE", table.retention_days, table.schema_id, parents, table.transient)


def effective(ns: Namespace, days: int) -> int:
    """Own or inherited days raised to the tenant's MIN_DATA_RETENTION_TIME_IN_DAYS."""
    return max(days, minimum_days(ns))


def oldest_reachable_us(now_us: int, days: int) -> int:
    """The oldest point in time a retention of ``days`` keeps reachable at ``now_us``."""
    return now_us - days * DAY_US


def table_retention_days(
    catalog: Catalog, tenant: str, table_id: int, time_us: int | None = None
) -> int:
    """The effective retention (days) of a table, also a dropped one, as the catalog said at
    ``time_us`` (default: the latest snapshot). For expiry, cleanup and storage metrics:
    data of the table older than ``oldest_reachable_us(now, days)`` is out of retention."""
    if time_us is None:
        snap = catalog.latest_snapshot(tenant)
    else:
        found = catalog.snapshot(tenant, catalog.snapshot_at_time(tenant, time_us, True))
        if found is None:  # pragma: no cover - snapshot_at_time returns committed ids
            raise NotFound(f"No snapshot at {time_us}")
        snap = found
    ns = catalog.namespace(tenant, snap)
    table = ns.tables.get(table_id)
    if table is not None:
        return effective(ns, table_days(ns, table))
    t = s.tables
    with catalog.engine.connect() as c:
        last = (
            select(func.max(t.c.begin_snapshot))
            .where(
                t.c.tenant_id == tenant,
                t.c.table_id == table_id,
                t.c.begin_snapshot <= snap.snapshot_id,
            )
            .scalar_subquery()
        )
        row = c.execute(
            select(t.c.retention_days, t.c.schema_id, t.c.transient).where(
                t.c.tenant_id == tenant, t.c.table_id == table_id, t.c.begin_snapshot == last
            )
        ).first()
    if row is None:
        raise NotFound(f"Table {table_id} did not exist at that time.")
    own = None if row[0] is None else int(row[0])
    parents = load_parents(catalog, tenant, snap.snapshot_id)
    return effective(ns, object_days(ns, "TABLE", own, int(row[1]), parents, bool(row[2])))
