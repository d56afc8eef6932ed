"""INSERT ... VALUES of constants of the columns' own types skips DuckDB: same rows, same
files, same statistics as the general path; anything else takes the general path."""

from __future__ import annotations

from typing import Any

import pytest
from lake_forms import LakeSpec
from table_files import arrow_schema, column_stats, parquet_files, paths

import chronolake
from chronolake.sql.statements import dml
from chronolake.storage import writer

DDL = (
    "CREATE TABLE {t} (id BIGINT, i INT, s SMALLINT, u TINYINT, ok BOOLEAN, name VARCHAR, "
    "note VARCHAR)"
)
INSERTS: list[tuple[str, list[Any] | None]] = [
    ("INSERT INTO {t} VALUES (?, ?, ?, ?, ?, ?, ?)", [1, -7, 3, 127, True, "é", None]),
    ("INSERT INTO {t} VALUES (-2, 2147483647, -32768, -128, false, '', 'x'), "
     "(3, NULL, NULL, NULL, NULL, NULL, 'it''s')", None),
    ("INSERT INTO {t} (note, id) VALUES ('only two', 9)", None),
]  # fmt: skip


def _fetches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the general path's fetches of a small result through DuckDB."""
    calls: list[int] = []
    real = writer.fetch_small

    def spy(*args: Any) -> Any:
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(writer, "fetch_small", spy)
    return calls


def test_constants_skip_duckdb_and_write_what_the_general_path_writes(
    lake_spec: LakeSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    fetches = _fetches(monkeypatch)
    con = lake_spec.connect()
    con.execute(DDL.format(t="fast"))
    con.execute(DDL.format(t="general"))
    for sql, params in INSERTS:
        con.execute(sql.format(t="fast"), params)
    assert fetches == []
    monkeypatch.setattr(dml, "constant_rows", lambda *args: None)
    for sql, params in INSERTS:
        con.execute(sql.format(t="general"), params)
    assert len(fetches) == len(INSERTS)
    rows = "SELECT * FROM {t} ORDER BY id"
    assert (
        con.execute(rows.format(t="fast")).fetchall()
        == con.execute(rows.format(t="general")).fetchall()
    )
    assert con.execute("SELECT * FROM fast WHERE id = 1").fetchone() == (
        1, -7, 3, 127, True, "é", None,
    )  # fmt: skip
    assert column_stats(lake_spec, "FAST") == column_stats(lake_spec, "GENERAL")
    for a, b in zip(paths(lake_spec, "FAST"), paths(lake_spec, "GENERAL"), strict=True):
        fast, general = arrow_schema(lake_spec, a), arrow_schema(lake_spec, b)
        assert fast == general
        assert [f.metadata for f in fast] == [f.metadata for f in general]


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("INSERT INTO t (id, v) VALUES ('5', 7)", (5, "7", 4, None)),  # casts
        ("INSERT INTO t (id) VALUES (1.0)", (1, None, 4, None)),
        ("INSERT INTO t (id, e) VALUES (2, 1 + 1)", (2, None, 4, 2)),  # an expression
        ("INSERT INTO t (id, v) VALUES (3, upper('a'))", (3, "A", 4, None)),
    ],
)
def test_values_that_need_duckdb_take_the_general_path(
    lake_spec: LakeSpec, monkeypatch: pytest.MonkeyPatch, sql: str, expected: tuple[object, ...]
) -> None:
    con = lake_spec.connect()
    con.execute("CREATE TABLE t (id BIGINT NOT NULL, v VARCHAR(3), d INT DEFAULT 4, e TINYINT)")
    fetches = _fetches(monkeypatch)
    con.execute(sql)
    assert fetches == [1]
    assert con.execute("SELECT * FROM t").fetchall() == [expected]


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("INSERT INTO t (id, e) VALUES (1, 9223372036854775808)", "out of range"),
        ("INSERT INTO t (id) VALUES (NULL)", "NULL result in a non-nullable column"),
        ("INSERT INTO t (id, v) VALUES (1, 'abcd')", "too long"),
        ("INSERT INTO t (id, v) VALUES (1)", "does not match column list"),
        ("INSERT INTO t (id, id) VALUES (1, 2)", "Duplicate column name"),
        ("INSERT INTO t (id, nope) VALUES (1, 2)", "invalid identifier"),
    ],
)
def test_bad_constants_fail_as_before_and_write_nothing(
    lake_spec: LakeSpec, sql: str, message: str
) -> None:
    con = lake_spec.connect()
    con.execute("CREATE TABLE t (id BIGINT NOT NULL, v VARCHAR(3), d INT DEFAULT 4, e TINYINT)")
    with pytest.raises(chronolake.Error, match=message):
        con.execute(sql)
    assert con.execute("SELECT count(*) FROM t").fetchone() == (0,)
    assert not parquet_files(lake_spec)
