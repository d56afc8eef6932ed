"""Binding names (db.schema.table) to the tenant's namespace, with Snowflake's messages."""

from __future__ import annotations

from typing import Protocol

from sqlglot import exp

from chronolake.catalog.model import ColumnInfo, DatabaseInfo, Namespace, SchemaInfo, TableInfo
from chronolake.errors import NotFound, SqlError


class NameContext(Protocol):
    @property
    def database(self) -> str | None: ...

    @property
    def schema(self) -> str | None: ...


def table_parts(t: exp.Table) -> tuple[str | None, str | None, str]:
    return (t.catalog or None), (t.db or None), t.name


def resolve_database(ns: Namespace, ctx: NameContext, name: str | None) -> DatabaseInfo:
    name = name or ctx.database
    if name is None:
        raise SqlError(
            "Cannot perform this operation: this session does not have a current database. "
            "Call 'USE DATABASE', or use a qualified name."
        )
    db = ns.database_by_name(name)
    if db is None:
        raise NotFound(f"Database '{name}' does not exist or not authorized.")
    return db


def resolve_schema(
    ns: Namespace, ctx: NameContext, db_name: str | None, schema_name: str | None
) -> SchemaInfo:
    db = resolve_database(ns, ctx, db_name)
    name = schema_name or (ctx.schema if db_name is None or db_name == ctx.database else "PUBLIC")
    if name is None:
        raise SqlError(
            "Cannot perform this operation: this session does not have a current schema. "
            "Call 'USE SCHEMA', or use a qualified name."
        )
    sc = ns.schema_by_name(db.database_id, name)
    if sc is None:
        label = name if db_name is None else f"{db.name}.{name}"
        raise NotFound(f"Schema '{label}' does not exist or not authorized.")
    return sc


def find_table(ns: Namespace, ctx: NameContext, t: exp.Table) -> TableInfo | None:
    db, schema, name = table_parts(t)
    sc = resolve_schema(ns, ctx, db, schema)
    return ns.table_by_name(sc.schema_id, name)


def resolve_table(ns: Namespace, ctx: NameContext, t: exp.Table) -> TableInfo:
    found = find_table(ns, ctx, t)
    if found is None:
        raise NotFound(f"Object '{t.name}' does not exist or not authorized.")
    return found


def find_column(table: TableInfo, name: str) -> ColumnInfo | None:
    """The column ``name`` refers to, by the rule a SELECT uses: the exact name, else the one
    column equal to it ignoring case (column names never differ only in case)."""
    exact = table.column(name)
    if exact is not None:
        return exact
    folded = name.upper()
    for col in table.columns:
        if col.name.upper() == folded:
            return col
    return None


def resolve_column(table: TableInfo, name: str) -> ColumnInfo:
    """``find_column``, or Snowflake's error for an unknown column."""
    found = find_column(table, name)
    if found is None:
        raise SqlError(f"SQL compilation error: invalid identifier '{name}'")
    return found
