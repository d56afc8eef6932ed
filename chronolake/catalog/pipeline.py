"""Several catalog statements in one round trip to PostgreSQL (psycopg's pipeline mode).

The SQL is SQLAlchemy's, compiled once per statement for the engine's dialect with its bind
processors applied; the statements run in order on the connection's own session, and any
error is raised when the pipeline ends (the statements after a failed one are skipped).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, LiteralString, cast

import psycopg
from sqlalchemy import Connection, Executable
from sqlalchemy.sql.compiler import Compiled

# a statement as the driver takes it: SQL, then one parameter set (execute) or a list of
# them (executemany); None: no parameters
Op = tuple[str, Mapping[str, Any] | Sequence[Any] | None]


@dataclass(frozen=True)
class _Compiled:
    statement: Executable  # kept so that the id used as key is never reused
    compiled: Compiled
    processors: Mapping[str, Callable[[Any], Any]]


_compiled: dict[int, _Compiled] = {}
_lock = threading.Lock()


def _compile(conn: Connection, statement: Executable) -> _Compiled:
    key = id(statement)
    with _lock:
        found = _compiled.get(key)
    if found is not None and found.statement is statement:
        return found
    dialect = conn.dialect
    compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
    processors = {}
    for name, bind in compiled.binds.items():  # what SQLAlchemy applies before the driver
        proc = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if proc is not None:
            processors[name] = proc
    found = _Compiled(statement, compiled, processors)
    with _lock:
        _compiled[key] = found
    return found


def op(conn: Connection, statement: Executable, params: Mapping[str, Any] | None = None) -> Op:
    """``statement`` (built once, at module level) with ``params``, as the driver runs it."""
    c = _compile(conn, statement)
    values = dict(c.compiled.construct_params(dict(params or {})) or {})
    for name, proc in c.processors.items():
        if name in values:
            values[name] = proc(values[name])
    return c.compiled.string, values


def run(conn: Connection, ops: Sequence[Op]) -> list[list[tuple[Any, ...]]]:
    """Run ``ops`` in order in one round trip on ``conn``'s psycopg connection; the rows of
    each (empty for statements that return none)."""
    driver = cast(psycopg.Connection[Any], conn.connection.driver_connection)
    cursors: list[psycopg.Cursor[Any]] = []
    try:
        with driver.pipeline():
            for sql, params in ops:
                cur = driver.cursor()
                cursors.append(cur)
                query = cast(LiteralString, sql)  # SQLAlchemy's compiled SQL, bound parameters
                if isinstance(params, list):
                    cur.executemany(query, params)
                else:
                    cur.execute(query, params)
        return [cur.fetchall() if cur.description is not None else [] for cur in cursors]
    finally:
        for cur in cursors:
            cur.close()
