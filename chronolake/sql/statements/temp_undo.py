"""Transactions over temporary tables: what ROLLBACK puts back.

A temporary table lives in the session's DuckDB engine, outside the catalog's transactions.
Inside an explicit transaction (or with autocommit off), the first change of a temporary
table saves how it was: a copy of its rows, or that it did not exist. A dropped or replaced
table is only set aside until the transaction ends. ROLLBACK (also a failed COMMIT) restores
the saved state; COMMIT discards it. Outside a transaction nothing is saved.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlglot import exp

from chronolake.sql.binding.temp_tables import Key, TempTable
from chronolake.sql.session import Session


@dataclass(frozen=True)
class Saved:
    """A temporary table as the transaction found it: ``table`` None if it did not exist;
    ``rows`` the copy of its rows, if they changed (else its own DuckDB table still has them)."""

    table: TempTable | None
    rows: str | None = None


def _undo(session: Session) -> dict[Key, Saved] | None:
    if session.txn is None:
        return None
    log: dict[Key, Saved] = session.temp_undo
    return log


def _run(session: Session, tree: exp.Expr) -> None:
    session.duck.execute(tree.sql("duckdb"))


def _drop(session: Session, internal: str) -> None:
    _run(session, exp.Drop(tables=[exp.to_table(internal)], kind="TABLE", exists=True))


def before_rows_change(session: Session, key: Key) -> None:
    """Call before INSERT, UPDATE, DELETE or TRUNCATE of the temporary table ``key``."""
    log = _undo(session)
    current = session.temp_tables.get(key)
    if log is None or current is None:
        return
    saved = log.get(key)
    if saved is None or (saved.table == current and saved.rows is None):
        copy = f"__cl_undo_{uuid.uuid4().hex[:16]}"
        rows = exp.select("*").from_(current.internal)
        _run(session, exp.Create(this=exp.to_table(copy), kind="TABLE", expression=rows))
        log[key] = Saved(current, copy)


def before_replace(session: Session, key: Key) -> bool:
    """Call before CREATE or DROP of ``key``; True if the old DuckDB table must be kept (set
    aside for ROLLBACK) rather than dropped."""
    log = _undo(session)
    if log is None:
        return False
    current = session.temp_tables.get(key)
    if key not in log:
        log[key] = Saved(current)
    return current is not None and log[key].table == current


def end_transaction(session: Session, committed: bool) -> None:
    """COMMIT keeps the temporary tables as they are; ROLLBACK restores them."""
    log: dict[Key, Saved] = session.temp_undo
    for key, saved in log.items():
        current = session.temp_tables.get(key)
        if committed:
            if saved.rows is not None:
                _drop(session, saved.rows)
            if saved.table is not None and (current is None or current != saved.table):
                _drop(session, saved.table.internal)
            continue
        if current is not None and (saved.table is None or current != saved.table):
            _drop(session, current.internal)
        if saved.table is None:
            session.temp_tables.pop(key, None)
            continue
        if saved.rows is not None:
            target = exp.to_table(saved.table.internal)
            _run(session, exp.delete(target))
            _run(session, exp.insert(exp.select("*").from_(saved.rows), target))
            _drop(session, saved.rows)
        session.temp_tables[key] = saved.table
    log.clear()
