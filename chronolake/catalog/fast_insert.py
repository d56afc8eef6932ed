"""INSERTs of catalog rows (and the hot path's reads) through the DBAPI cursor, compiled once
per (dialect, table, keys).

SQLAlchemy's per-execution work (cache key, execution context, result set-up) costs more
than SQLite's own insert of a few rows, and every commit and statement log write runs
several. The SQL is still SQLAlchemy's, compiled for the engine's dialect with its bind
processors applied, and runs on the connection's own transaction, so the catalog stays
portable; anything this does not handle (a column default to compute, rows with different
keys) goes through ``Connection.execute`` as before.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, insert


@dataclass(frozen=True)
class _Plan:
    sql: str
    order: tuple[str, ...] | None  # parameter order of a positional paramstyle
    processors: Mapping[str, Callable[[Any], Any]]


# by (dialect class, paramstyle, table, keys): what the compiled INSERT depends on
_plans: dict[tuple[type, str, str, tuple[str, ...]], _Plan | None] = {}
_lock = threading.Lock()


def _plan(conn: Connection, table: Table, keys: tuple[str, ...]) -> _Plan | None:
    dialect = conn.dialect
    key = (type(dialect), dialect.paramstyle, table.name, keys)
    with _lock:
        if key in _plans:
            return _plans[key]
    compiled = insert(table).compile(dialect=dialect, column_keys=list(keys))
    names = tuple(compiled.positiontup or ()) if dialect.positional else tuple(compiled.params)
    plan: _Plan | None = None
    if set(names) == set(keys):  # nothing for SQLAlchemy to fill in (defaults)
        processors = {}
        for k in keys:  # what SQLAlchemy applies to each value before the driver sees it
            proc = table.c[k].type.dialect_impl(dialect).bind_processor(dialect)
            if proc is not None:
                processors[k] = proc
        plan = _Plan(compiled.string, names if dialect.positional else None, processors)
    with _lock:
        _plans[key] = plan
    return plan


@dataclass(frozen=True)
class _Query:
    statement: Any  # kept so that the id used as key is never reused
    sql: str
    order: tuple[str, ...] | None  # parameter order of a positional paramstyle
    defaults: Mapping[str, Any]  # values bound in the statement itself (a LIMIT)
    processors: Mapping[str, Callable[[Any], Any]]  # what SQLAlchemy applies to each value


_queries: dict[tuple[type, str, int], _Query] = {}


def _query(conn: Connection, statement: Any) -> _Query:
    dialect = conn.dialect
    key = (type(dialect), dialect.paramstyle, id(statement))
    with _lock:
        found = _queries.get(key)
    if found is not None and found.statement is statement:
        return found
    compiled = statement.compile(dialect=dialect)
    order = tuple(compiled.positiontup or ()) if dialect.positional else None
    defaults = {name: b.value for name, b in compiled.binds.items() if not b.required}
    processors = {}
    for name, bind in compiled.binds.items():
        proc = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if proc is not None:
            processors[name] = proc
    found = _Query(statement, compiled.string, order, defaults, processors)
    with _lock:
        _queries[key] = found
    return found


def driver_query(
    conn: Connection, statement: Any, params: Mapping[str, Any] | None = None
) -> tuple[str, Any]:
    """``statement`` (built once, at module level) as the driver runs it with ``params``:
    its SQL and its parameters, bind processors applied, in the dialect's paramstyle."""
    q = _query(conn, statement)
    values = {**q.defaults, **(params or {})}
    for name, proc in q.processors.items():
        if name in values:
            values[name] = proc(values[name])
    return q.sql, values if q.order is None else tuple(values[k] for k in q.order)


def first_row(conn: Connection, statement: Any, params: Mapping[str, Any]) -> Any:
    """The first row of a SELECT built once, at module level, run on the DBAPI cursor: a read
    of every statement's hot path, where SQLAlchemy's own execution costs several times the
    query."""
    sql, values = driver_query(conn, statement, params)
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql, values)
        return cursor.fetchone()
    finally:
        cursor.close()


def driver_rows(
    conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]
) -> tuple[str, list[Any]] | None:
    """The driver's INSERT of ``rows`` into ``table`` and its parameters, one per row; None
    when SQLAlchemy must run it (a default to compute, rows with different keys)."""
    keys = tuple(rows[0])
    plan = _plan(conn, table, keys)
    if plan is None or any(tuple(r) != keys for r in rows):
        return None
    procs = plan.processors
    params: list[Any] = []
    for row in rows:
        values = {k: (procs[k](v) if k in procs else v) for k, v in row.items()}
        params.append(values if plan.order is None else tuple(values[k] for k in plan.order))
    return plan.sql, params


def insert_rows(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT ``rows`` (dicts with the same keys) into ``table`` on ``conn``'s transaction."""
    if not rows:
        return
    prepared = driver_rows(conn, table, rows)
    if prepared is None:
        conn.execute(insert(table), list(rows))
        return
    sql, params = prepared
    cursor = conn.connection.cursor()
    try:
        if len(params) == 1:
            cursor.execute(sql, params[0])
        else:
            cursor.executemany(sql, params)
    finally:
        cursor.close()
