"""Small results are written by pyarrow: the same files and catalog statistics as a COPY."""

from __future__ import annotations

from typing import Any

import pytest
from lake_forms import LakeSpec
from table_files import arrow_schema, column_stats, parquet_files, paths

import chronolake
from chronolake.sql.grammar.parse import parse_statement
from chronolake.storage import small_writer, writer

DDL = "CREATE TABLE {t} (id BIGINT, n SMALLINT, u TINYINT, ok BOOLEAN, name VARCHAR, note VARCHAR)"
ROWS = (
    "INSERT INTO {t} VALUES (3, -2, 100, true, 'b', NULL), (-9, 7, 5, false, '', NULL), "
    "(12, NULL, 1, NULL, 'héllo', NULL)"
)


def _spy(monkeypatch: pytest.MonkeyPatch, name: str) -> list[int]:
    """Count the calls the writer makes to one function of ``small_writer``."""
    calls: list[int] = []
    real = getattr(small_writer, name)

    def spy(*args: Any) -> Any:
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(writer, name, spy)
    return calls


def _copy_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writer, "may_be_small", lambda types, sql: False)


def test_small_insert_matches_what_a_copy_writes(
    lake_spec: LakeSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = _spy(monkeypatch, "write_small_file")
    con = lake_spec.connect()
    for t in ("A", "B"):
        con.execute(DDL.format(t=t))
    con.execute(ROWS.format(t="A"))  # pyarrow
    assert written == [1]
    with monkeypatch.context() as m:
        _copy_only(m)
        con.execute(ROWS.format(t="B"))  # DuckDB COPY
    assert column_stats(lake_spec, "A") == column_stats(lake_spec, "B")
    assert len(column_stats(lake_spec, "A")) == 6
    (a,), (b,) = paths(lake_spec, "A"), paths(lake_spec, "B")
    sa, sb = arrow_schema(lake_spec, a), arrow_schema(lake_spec, b)
    assert sa.names == sb.names
    ids_a = [f.metadata[b"PARQUET:field_id"] for f in sa]
    ids_b = [f.metadata[b"PARQUET:field_id"] for f in sb]
    assert ids_a == ids_b
    assert lake_spec.parquet_metadata(a).row_group(0).column(0).compression == "SNAPPY"
    assert (
        con.execute("SELECT * FROM a ORDER BY id").fetchall()
        == con.execute("SELECT * FROM b ORDER BY id").fetchall()
    )


def test_small_writes_keep_row_ids_through_updates_and_deletes(lake_spec: LakeSpec) -> None:
    con = lake_spec.connect()
    con.execute("CREATE TABLE t (id BIGINT, v VARCHAR)")
    for i in range(5):
        con.execute("INSERT INTO t VALUES (?, ?)", [i, f"v{i}"])
    con.execute("UPDATE t SET v = 'x' WHERE id IN (1, 3)")
    con.execute("DELETE FROM t WHERE id = 4")
    assert con.execute("SELECT id, v FROM t ORDER BY id").fetchall() == [
        (0, "v0"),
        (1, "x"),
        (2, "v2"),
        (3, "x"),
    ]
    feed = "SELECT count(*) FROM t CHANGES(INFORMATION => DEFAULT) AT(VERSION => 6)"
    assert con.execute(feed).fetchone() == (2 * 2 + 1,)


def test_more_rows_than_the_small_limit_go_through_copy(
    lake_spec: LakeSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(small_writer, "SMALL_ROWS", 10)
    written = _spy(monkeypatch, "write_small_file")
    con = lake_spec.connect()
    con.execute("CREATE TABLE t (id BIGINT)")
    con.execute("INSERT INTO t SELECT range FROM range(11)")
    assert written == []
    con.execute("INSERT INTO t SELECT range FROM range(100, 110)")
    assert written == [1]
    assert con.execute("SELECT count(*), sum(id) FROM t").fetchone() == (21, 55 + 1045)
    assert con.execute("INSERT INTO t SELECT 1 WHERE false").rowcount == 0
    fetched = _spy(monkeypatch, "fetch_small")
    con.execute("INSERT INTO t SELECT id FROM t ORDER BY id")  # blocking: never run twice
    con.execute("INSERT INTO t SELECT count(*) FROM t GROUP BY id % 2")
    assert fetched == []
    assert con.execute("SELECT count(*) FROM t").fetchone() == (44,)


def test_other_types_and_long_strings_go_through_copy(
    lake_spec: LakeSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    con = lake_spec.connect()
    con.execute("CREATE TABLE d (x DOUBLE)")
    con.execute("CREATE TABLE s (x VARCHAR)")
    fetched = _spy(monkeypatch, "fetch_small")
    con.execute("INSERT INTO d VALUES (1.5)")
    assert fetched == []  # decided from the column types, before running anything
    long = "z" * 300
    con.execute("INSERT INTO s VALUES (?), ('a')", [long])
    assert fetched == [1]
    _copy_only(monkeypatch)
    con.execute("CREATE TABLE s2 (x VARCHAR)")
    con.execute("INSERT INTO s2 VALUES (?), ('a')", [long])
    assert column_stats(lake_spec, "S") == column_stats(lake_spec, "S2")
    assert con.execute("SELECT max(x) FROM s").fetchone() == (long,)


def test_a_failing_small_insert_writes_nothing(lake_spec: LakeSpec) -> None:
    con = lake_spec.connect()
    con.execute("CREATE TABLE t (id INT, v VARCHAR(2))")
    with pytest.raises(chronolake.Error):
        con.execute("INSERT INTO t VALUES (1, 'abc')")
    with pytest.raises(chronolake.Error):
        con.execute("INSERT INTO t VALUES ('x', 'a')")
    assert con.execute("SELECT count(*) FROM t").fetchone() == (0,)
    assert not parquet_files(lake_spec)
    con.execute("INSERT INTO t VALUES (1, 'ab')")
    assert con.execute("SELECT * FROM t").fetchall() == [(1, "ab")]


def test_parsed_trees_are_cached_but_never_shared() -> None:
    text = "SELECT a FROM t WHERE b = 1"
    first = parse_statement(text)
    first.set("where", None)
    second = parse_statement(text)
    assert second is not first
    assert second.args.get("where") is not None
    assert second.sql() == parse_statement(text).sql()
