"""The session's temporary tables, by name: what the binder consults before the catalog.

A temporary table belongs to the one session that made it and lives in that session's own
DuckDB engine (see ``sql/statements/temporary.py``); it is never written to the catalog or
the lake's storage, so no other session or tenant can name, list or read it. Within its
session it shadows a permanent table of the same name in the same schema, as in Snowflake.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import duckdb
from sqlglot import exp

if TYPE_CHECKING:
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


def move_temp_tables(
    internals: Iterable[str], old: duckdb.DuckDBPyConnection, new: duckdb.DuckDBPyConnection
) -> None:
    """Copy DuckDB tables (definition and rows) into a new engine of the same session: the
    temporary tables, and what a transaction keeps to undo their changes."""
    for internal in dict.fromkeys(internals):
        found = old.execute(
            "SELECT sql FROM duckdb_tables() WHERE table_name = ?", [internal]
        ).fetchall()
        rows = old.sql(exp.select("*").from_(internal).sql("duckdb")).to_arrow_table()
        new.execute(found[0][0])
        new.register("__cl_move", rows)
        new.execute(exp.insert(exp.select("*").from_("__cl_move"), internal).sql("duckdb"))
        new.unregister("__cl_move")


def columns(session: Session) -> list[dict[str, object]]:
    """INFORMATION_SCHEMA.COLUMNS rows of the session's temporary tables (as DuckDB has them)."""
    out: list[dict[str, object]] = []
    for t in session.temp_tables.values():
        described = session.duck.execute(exp.Describe(this=exp.to_table(t.internal)).sql("duckdb"))
        for i, (name, type_, null, _key, default, *_rest) in enumerate(described.fetchall()):
            out.append(
                {
                    "table_catalog": t.database,
                    "table_schema": t.schema,
                    "table_name": t.name,
                    "column_name": str(name),
                    "ordinal_position": i + 1,
                    "column_default": None if default is None else str(default),
                    "is_nullable": "YES" if null == "YES" else "NO",
                    "data_type": str(type_),
                    "column_id": None,
                }
            )
    return out


def rows_and_names(session: Session) -> list[tuple[TempTable, int]]:
    """Each temporary table of the session with its row count (for SHOW and the views)."""
    out = []
    for table in session.temp_tables.values():
        count = exp.select(exp.func("count", exp.Star())).from_(table.internal)
        rows = session.duck.execute(count.sql("duckdb")).fetchall()
        out.append((table, int(rows[0][0])))
    return out
