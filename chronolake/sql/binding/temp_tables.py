"""The session's temporary tables, by name: what the binder consults before the catalog.

A temporary table belongs to the one session that made it and lives in that session's own
DuckDB engine (see ``sql/statements/temporary.py``); it is never written to the catalog or
the lake's storage, so no other session or tenant can name, list or read it. Within its
session it shadows a permanent table of the same name in the same schema, as in Snowflake.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlglot import exp

from chronolake.sql.session import Session

Key = tuple[str, str, str]  # (database, schema, table) names as the namespace spells them


@dataclass(frozen=True)
class TempTable:
    internal: str  # the DuckDB table holding the rows
    database: str
    schema: str
    name: str
    created: dt.datetime


def temp_key(session: Session, t: exp.Table) -> Key | None:
    """The (database, schema, name) a table reference means, by the rules of
    ``binding/names.resolve_schema``; None without a current database or schema."""
    db = t.catalog or session.database
    if t.db:
        schema: str | None = t.db
    elif not t.catalog or t.catalog == session.database:
        schema = session.schema
    else:
        schema = "PUBLIC"
    if db is None or schema is None:
        return None
    return (db, schema, t.name)


def find_temp(session: Session, t: exp.Table) -> TempTable | None:
    """The session's temporary table ``t`` names, if any."""
    tables: dict[Key, TempTable] = session.temp_tables
    if not tables or not isinstance(t.this, exp.Identifier):
        return None
    key = temp_key(session, t)
    return None if key is None else tables.get(key)
