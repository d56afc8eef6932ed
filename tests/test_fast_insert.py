"""Catalog INSERTs through the DBAPI cursor: same rows as SQLAlchemy's, in its transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from chronolake import Settings
from chronolake.catalog import schema as s
from chronolake.catalog.backends import open_catalog_engine
from chronolake.catalog.base import Catalog
from chronolake.catalog.fast_insert import insert_rows


@pytest.fixture(params=["sqlite", "postgresql"])
def new_catalog(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[[Path], Catalog]]:
    """Makes empty catalogs, in SQLite files or in PostgreSQL databases."""
    made: list[Catalog] = []

    def make(folder: Path) -> Catalog:
        if request.param == "postgresql":
            url = request.getfixturevalue("postgres_server").create_database().url
        else:
            folder.mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{folder / 'catalog.sqlite'}"
        catalog = Catalog(open_catalog_engine(url, Settings(), read_only=False))
        catalog.create_all()
        made.append(catalog)
        return catalog

    yield make
    for catalog in made:
        catalog.engine.dispose()


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


def test_rows_are_the_ones_sqlalchemy_would_insert(
    tmp_path: Path, new_catalog: Callable[[Path], Catalog]
) -> None:
    fast, slow = new_catalog(tmp_path / "a"), new_catalog(tmp_path / "b")
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


def test_rows_with_different_keys_and_defaults_still_go_in(
    tmp_path: Path, new_catalog: Callable[[Path], Catalog]
) -> None:
    catalog = new_catalog(tmp_path)
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


def test_a_rolled_back_transaction_keeps_none_of_its_rows(
    tmp_path: Path, new_catalog: Callable[[Path], Catalog]
) -> None:
    catalog = new_catalog(tmp_path)
    with (
        pytest.raises(RuntimeError),
        catalog.engine.connect().execution_options(write=True) as conn,
        conn.begin(),
    ):
        insert_rows(conn, s.table_changes, [_change(1, True)])
        raise RuntimeError("fail before commit")
    assert _rows(catalog) == []
