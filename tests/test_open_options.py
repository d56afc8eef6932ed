"""``connect(read_only=..., database=..., schema=...)`` and what closing does to an open
transaction."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import chronolake

# SQLite's WAL index files: a read-only reader may create them to see writers' commits
COORDINATION = {"catalog.sqlite-wal", "catalog.sqlite-shm"}


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    path = tmp_path / "lake"
    with chronolake.connect(path) as con:
        con.execute("CREATE TABLE t (id INT)")
        con.execute("INSERT INTO t VALUES (1)")
        con.execute("CREATE DATABASE analytics")
        con.execute("CREATE SCHEMA analytics.raw")
        con.execute("CREATE TABLE analytics.raw.events (x INT)")
    return path


def files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and p.name not in COORDINATION
    }


def history_count(path: Path) -> int:
    with chronolake.connect(path, read_only=True) as con:
        return int(
            con.execute("SELECT count(*) FROM INFORMATION_SCHEMA.QUERY_HISTORY").fetchone()[0]
        )


def test_read_only_reads_and_writes_nothing(lake: Path) -> None:
    before, recorded = files(lake), history_count(lake)
    with chronolake.connect(lake, read_only=True) as con:
        assert con.read_only
        assert con.execute("SELECT id FROM t").fetchall() == [(1,)]
        assert con.execute("SELECT count(*) FROM t AT(VERSION => 1)").fetchone() == (0,)
        assert len(con.table_history("t")) == 2
        assert {m.name for m in con.storage_metrics().tables} == {"T", "EVENTS"}
        con.execute("BEGIN")
        con.execute("SELECT 1")
        con.execute("COMMIT")
        with pytest.raises(chronolake.NotFound, match="Object 'NOPE' does not exist"):
            con.execute("SELECT * FROM nope")  # failed statements are not recorded either
    assert files(lake) == before
    assert history_count(lake) == recorded  # statements of a read-only connection: none


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("INSERT INTO t VALUES (2)", "INSERT"),
        ("CREATE TABLE u AS SELECT 1 AS a", "CREATE TABLE"),
        ("DROP TABLE t", "DROP TABLE"),
        ("RESTORE TABLE t TO AT(VERSION => 1)", "RESTORE TABLE"),
        ("ALTER TABLE t ADD COLUMN y INT", "ALTER TABLE"),
    ],
)
def test_read_only_refuses_writes(lake: Path, sql: str, kind: str) -> None:
    before = files(lake)
    with chronolake.connect(lake, read_only=True) as con:
        with pytest.raises(chronolake.ReadOnlyError) as info:
            con.execute(sql)
        assert str(info.value) == (
            f"This connection is read-only: {kind} is not allowed. "
            "Connect without read_only=True to change the lake."
        )
        assert info.value.http_status == 403
        with pytest.raises(chronolake.ReadOnlyError, match="compaction is not allowed"):
            con.compact_table("t")
    assert files(lake) == before


def test_read_only_needs_an_existing_lake(tmp_path: Path, lake: Path) -> None:
    missing = tmp_path / "lakke"
    with pytest.raises(chronolake.NotFound, match=r"No lake at .*lakke .no catalog.sqlite there"):
        chronolake.connect(missing, read_only=True)
    assert not missing.exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(chronolake.NotFound, match="No lake at"):
        chronolake.connect(empty, read_only=True)
    assert list(empty.iterdir()) == []
    with pytest.raises(chronolake.NotFound, match="Tenant 'acme' does not exist"):
        chronolake.connect(lake, read_only=True, tenant="acme")


def test_database_and_schema_pick_the_starting_namespace(lake: Path) -> None:
    with chronolake.connect(lake, database="analytics", schema="raw") as con:
        assert con.execute("SELECT current_database(), current_schema()").fetchone() == (
            "ANALYTICS",
            "RAW",
        )
        assert con.execute("SELECT count(*) FROM events").fetchone() == (0,)
    with chronolake.connect(lake, database="analytics", read_only=True) as con:
        assert con.execute("SELECT current_schema()").fetchone() == ("PUBLIC",)


def test_unknown_database_or_schema_is_not_found(lake: Path) -> None:
    with pytest.raises(chronolake.NotFound, match=r"^Database 'NOPE' does not exist"):
        chronolake.connect(lake, database="nope")
    with pytest.raises(chronolake.NotFound, match=r"^Schema 'MAIN.RAW' does not exist"):
        chronolake.connect(lake, schema="raw")
    with pytest.raises(chronolake.NotFound, match=r"^Schema 'ANALYTICS.raw' does not exist"):
        chronolake.connect(lake, database="analytics", schema='"raw"')


def rows(path: Path) -> list[Any]:
    with chronolake.connect(path, read_only=True) as con:
        return sorted(con.execute("SELECT id FROM t").fetchall())


def test_close_rolls_back_an_open_transaction(lake: Path) -> None:
    con = chronolake.connect(lake)
    con.execute("BEGIN")
    con.execute("INSERT INTO t VALUES (2)")
    assert con.in_transaction
    con.close()
    assert rows(lake) == [(1,)]
    off = chronolake.connect(lake, autocommit=False)
    off.execute("INSERT INTO t VALUES (3)")
    off.close()
    assert rows(lake) == [(1,)]


def test_with_block_commits_on_success_and_rolls_back_on_error(lake: Path) -> None:
    with chronolake.connect(lake) as con:
        con.execute("BEGIN")
        con.execute("INSERT INTO t VALUES (2)")
    assert rows(lake) == [(1,), (2,)]
    with pytest.raises(KeyError), chronolake.connect(lake) as con:
        con.execute("BEGIN")
        con.execute("INSERT INTO t VALUES (3)")
        raise KeyError("boom")
    assert rows(lake) == [(1,), (2,)]
