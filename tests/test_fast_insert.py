"""Catalog INSERTs through the DBAPI cursor: same rows as SQLAlchemy's, in its transaction."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import insert, select

from chronolake.catalog import schema as s
from chronolake.catalog.base import Catalog
from chronolake.catalog.fast_insert import insert_rows
from chronolake.catalog.sqlite import create_sqlite_engine


def _catalog(tmp_path: Path) -> Catalog:
    tmp_path.mkdir(parents=True, exist_ok=True)
    catalog = Catalog(create_sqlite_engine(tmp_path / "catalog.sqlite", 5.0))
    catalog.create_all()
    return catalog


def _change(table_id: int, ddl: bool, **extra: object) -> dict[str, object]:
    return {
        "tenant_id": "t",
        "table_id": table_id,
        "snapshot_id": 1,
        "ddl": ddl,
        "operation": "INSERT",
        "rows_added": 1,
        "rows_removed": 0,
        **extra,
    }


def _rows(catalog: Catalog) -> list[tuple[object, ...]]:
    tc = s.table_changes
    with catalog.engine.connect() as conn:
        q = select(tc.c.table_id, tc.c.ddl, tc.c.operation).order_by(tc.c.table_id)
        return [tuple(r) for r in conn.execute(q)]


def test_rows_are_the_ones_sqlalchemy_would_insert(tmp_path: Path) -> None:
    fast, slow = _catalog(tmp_path / "a"), _catalog(tmp_path / "b")
    rows = [_change(1, True), _change(2, False)]
    with fast.engine.connect() as conn, conn.begin():
        insert_rows(conn, s.table_changes, rows)
        insert_rows(conn, s.table_changes, [_change(3, False)])
        insert_rows(conn, s.table_changes, [])
    with slow.engine.connect() as conn, conn.begin():
        conn.execute(insert(s.table_changes), [*rows, _change(3, False)])
    assert (
        _rows(fast)
        == _rows(slow)
        == [(1, True, "INSERT"), (2, False, "INSERT"), (3, False, "INSERT")]
    )


def test_rows_with_different_keys_and_defaults_still_go_in(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path)
    snap = {
        "tenant_id": "t",
        "snapshot_id": 1,
        "commit_time": 5,
        "schema_snapshot": 0,
        "txn_id": "x",
        "operation": "INSERT",
    }  # rows_* and bytes_added come from column defaults
    with catalog.engine.connect() as conn, conn.begin():
        insert_rows(conn, s.snapshots, [snap])
        insert_rows(conn, s.table_changes, [_change(1, True), {**_change(2, False), "ddl": True}])
    assert catalog.latest_snapshot("t").snapshot_id == 1
    assert [r[1] for r in _rows(catalog)] == [True, True]


def test_a_rolled_back_transaction_keeps_none_of_its_rows(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path)
    with (
        pytest.raises(RuntimeError),
        catalog.engine.connect().execution_options(write=True) as conn,
        conn.begin(),
    ):
        insert_rows(conn, s.table_changes, [_change(1, True)])
        raise RuntimeError("fail before commit")
    assert _rows(catalog) == []
