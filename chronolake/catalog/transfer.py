"""Moving a whole catalog between databases (SQLite <-> PostgreSQL): every row of every
catalog table, in primary-key order, and the check that both hold the same rows."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import zip_longest
from typing import Any

from sqlalchemy import Engine, Table, func, insert, select, tuple_

from chronolake.catalog import schema as s
from chronolake.errors import ProgrammingError

CHUNK = 5_000  # rows read and written per round trip

# cl_meta describes the catalog itself (its schema version): the destination writes its own
COPIED = tuple(t for t in s.metadata.sorted_tables if t is not s.catalog_meta)


def _rows(engine: Engine, table: Table) -> Iterator[list[dict[str, Any]]]:
    """The table's rows as dicts, in chunks, in primary-key order (keyset pages: no cursor is
    held open between chunks)."""
    key = list(table.primary_key.columns)
    last: tuple[Any, ...] | None = None
    while True:
        q = select(table).order_by(*key).limit(CHUNK)
        if last is not None:
            q = q.where(tuple_(*key) > tuple_(*last))
        with engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(q).mappings()]
        if rows:
            yield rows
        if len(rows) < CHUNK:
            return
        last = tuple(rows[-1][c.name] for c in key)


def check_empty(engine: Engine, where: str) -> None:
    """The destination of a copy must hold no tenant yet: a copy never merges two lakes."""
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(s.tenants)).scalar_one()
    if count:
        raise ProgrammingError(
            f"The destination {where} already holds a lake ({count} tenant(s)): copy into a "
            "new, empty catalog and storage."
        )


def copy_catalog(source: Engine, dest: Engine) -> dict[str, int]:
    """Copy every catalog row from ``source`` to ``dest`` in one destination transaction (all
    or nothing); returns rows copied per table."""
    counts: dict[str, int] = {}
    with dest.connect().execution_options(write=True) as conn, conn.begin():
        for table in COPIED:
            n = 0
            for rows in _rows(source, table):
                conn.execute(insert(table), rows)
                n += len(rows)
            counts[table.name] = n
    return counts


def differences(source: Engine, dest: Engine) -> list[str]:
    """Tables whose rows differ between the two catalogs (empty when they are the same)."""
    found = []
    for table in COPIED:
        pairs = zip_longest(_flat(_rows(source, table)), _flat(_rows(dest, table)))
        mismatch = next(((x, y) for x, y in pairs if x != y), None)
        if mismatch is not None:  # a row missing on one side pairs with None
            found.append(f"{table.name}: {mismatch[0]} != {mismatch[1]}")
    return found


def _flat(chunks: Iterator[list[dict[str, Any]]]) -> Iterator[dict[str, Any]]:
    for chunk in chunks:
        yield from chunk


def tenant_ids(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(s.tenants.c.tenant_id).order_by("tenant_id")).scalars())


def table_versions(engine: Engine, tenant: str) -> list[tuple[int, int]]:
    """(table id, snapshot id) of every change of every table of ``tenant``."""
    tc = s.table_changes
    with engine.connect() as conn:
        rows = conn.execute(
            select(tc.c.table_id, tc.c.snapshot_id)
            .where(tc.c.tenant_id == tenant)
            .order_by(tc.c.snapshot_id, tc.c.table_id)
        ).all()
    return [(int(r[0]), int(r[1])) for r in rows]
