"""Small edits of a transaction's namespace and the status results DDL returns, shared by
DDL, CLONE and UNDROP."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import pyarrow as pa
from sqlglot import exp

from chronolake.catalog.model import Namespace
from chronolake.errors import AlreadyExists


def status(message: str) -> pa.Table:
    """The one-row result of a statement that returns no rows (Snowflake's ``status``)."""
    return pa.table({"status": [message]})


def already_exists(name: str) -> AlreadyExists:
    return AlreadyExists(f"Object '{name}' already exists.")


def already_dropped(name: str) -> pa.Table:
    """DROP ... IF EXISTS of an object that is not there: Snowflake names it in its status."""
    return status(f"Drop statement executed successfully ({name} already dropped).")


def drop_schema(ns: Namespace, schema_id: int) -> None:
    """Remove a schema and its tables from ``ns`` (they stay undroppable in the catalog)."""
    for tid in [t.table_id for t in ns.tables.values() if t.schema_id == schema_id]:
        del ns.tables[tid]
    del ns.schemas[schema_id]


def drop_database(ns: Namespace, database_id: int) -> None:
    """Remove a database, its schemas and their tables from ``ns``."""
    for sc in [s for s in ns.schemas.values() if s.database_id == database_id]:
        drop_schema(ns, sc.schema_id)
    del ns.databases[database_id]


T = TypeVar("T")


def make_room(
    node: exp.Create,
    name: str,
    existing: T | None,
    drop: Callable[[T], object],
    replaceable: bool = True,
) -> pa.Table | None:
    """CREATE over a name: nothing to do when it is free; IF NOT EXISTS answers with its
    status (returned); OR REPLACE drops the old object; otherwise the name is taken."""
    if existing is None:
        return None
    if node.args.get("exists"):
        return status(f"{name} already exists, statement succeeded.")
    if not node.args.get("replace") or not replaceable:
        raise already_exists(name)
    drop(existing)
    return None
