"""Several catalog statements in one round trip to PostgreSQL (psycopg's pipeline mode).

The SQL is SQLAlchemy's, compiled once per statement for the engine's dialect with its bind
processors applied (``fast_insert.driver_query``); the statements run in order on the
connection's own session, and any error is raised when the pipeline ends (the statements
after a failed one are skipped).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, LiteralString, cast

import psycopg
from sqlalchemy import Connection, Executable

from chronolake.catalog.fast_insert import driver_query

# a statement as the driver takes it: SQL, then one parameter set (execute) or a list of
# them (executemany); None: no parameters
Op = tuple[str, Mapping[str, Any] | Sequence[Any] | None]


def op(conn: Connection, statement: Executable, params: Mapping[str, Any] | None = None) -> Op:
    """``statement`` (built once, at module level) with ``params``, as the driver runs it."""
    return driver_query(conn, statement, params)


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
