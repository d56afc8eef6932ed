"""Small edits of a transaction's namespace and the status results DDL returns, shared by
DDL, CLONE and UNDROP."""

from __future__ import annotations

import pyarrow as pa

from chronolake.catalog.model import Namespace
from chronolake.errors import AlreadyExists


def status(message: str) -> pa.Table:
    """The one-row result of a statement that returns no rows (Snowflake's ``status``)."""
    return pa.table({"status": [message]})


def already_exists(name: str) -> AlreadyExists:
    return AlreadyExists(f"Object '{name}' already exists.")


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
