"""History views narrowed by the query's simple filters (sql/views/pushdown.py).

Two properties: the answer never changes (a pushed filter only narrows the rows the view is
built from; DuckDB applies the whole WHERE), and a point lookup reads what it needs, not the
history: the rows the view materialises do not grow with the number of statements, and every
catalog query it runs is served by an index (SQLite's EXPLAIN QUERY PLAN).
"""

from __future__ import annotations

import datetime as dt
import itertools
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlglot import exp

import chronolake
from chronolake.catalog.schema import CATALOG_SCHEMA_VERSION
from chronolake.sql.session import Ctx
from chronolake.sql.views.information_schema import build_view
from chronolake.storage.layout import LakeLayout

NEW_INDEXES = ("cl_snapshots_query", "cl_table_changes_snapshot", "cl_statements_snapshot")
HISTORY_TABLES = ("cl_statements", "cl_snapshots", "cl_table_changes", "cl_access")
START = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.UTC)


def _clock() -> Callable[[], dt.datetime]:
    ticks = itertools.count()
    return lambda: START + dt.timedelta(seconds=next(ticks))


def _lake(path: Path, inserts: int) -> Any:
    con = chronolake.connect(path, clock=_clock())
    con.execute("CREATE TABLE t (x INT)")
    for i in range(inserts):
        con.execute("INSERT INTO t VALUES (?)", [i])
    con.execute("SELECT COUNT(*) FROM t").fetchall()
    return con


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    con = _lake(tmp_path_factory.mktemp("lake"), 30)
    with pytest.raises(chronolake.Error):
        con.execute("SELECT * FROM nope")
    yield con
    con.close()


def _both(con: Any, view: str, key: str, where: str, select: str = "*") -> tuple[Any, Any]:
    """The rows of ``view`` matching ``where`` with pushdown (the view alone in a SELECT with
    that WHERE) and without (the WHERE applied over an unfiltered copy), in one statement so
    both see the same history."""
    sql = (
        f"SELECT a.k, b.k FROM "
        f"(SELECT ARRAY_AGG({key}) WITHIN GROUP (ORDER BY {key}) k "
        f"FROM (SELECT {select} FROM information_schema.{view} h WHERE {where})) a, "
        f"(SELECT ARRAY_AGG({key}) WITHIN GROUP (ORDER BY {key}) k "
        f"FROM (SELECT {select} FROM (SELECT * FROM information_schema.{view}) h "
        f"WHERE {where})) b"
    )
    row = con.execute(sql).fetchone()
    return row[0], row[1]


QUERY_HISTORY_WHERES = [
    "query_id = $qid",
    "$qid = query_id",
    "h.query_id = $qid",
    "query_id IN ($qid, $other, 'nope')",
    "query_id = $qid AND start_time > '2000-01-01'",
    "query_id = $qid OR query_type = 'SELECT'",
    "query_id = LAST_QUERY_ID()",
    "NOT query_id = $qid",
    "query_id = 'nope'",
    "query_id = NULL",
    "start_time >= '2024-06-01 12:00:20'",
    "start_time >= '2024-06-01 12:00:20+00:00' AND start_time < '2024-06-01 12:00:40'",
    "start_time BETWEEN '2024-06-01 12:00:10'::timestamp_ltz "
    "AND '2024-06-01 12:00:30'::timestamp_ntz",
    "start_time < '2024-06-01 12:00:20'::timestamp",
    "start_time <= '2024-06-01 14:00:20+02:00'",
    "start_time > '2024-06-01'::date",
    "'2024-06-01 12:00:25' > start_time",
    "start_time = '2024-06-01 12:00:05'",
    "start_time = '2024-06-01 12:00:05'::timestamp_ntz",
    "start_time IN ('2024-06-01 12:00:05', '2024-06-01 12:00:07'::timestamp_ntz)",
    "start_time <= CURRENT_TIMESTAMP()",
    "start_time > DATEADD(second, -20, CURRENT_TIMESTAMP())",
    "snapshot_id = 3",
    "snapshot_id >= 2 AND snapshot_id < 5",
    "-1 < snapshot_id",
    "snapshot_id = 3.0",
    "snapshot_id = 99999999999999999999",
    "snapshot_id > -99999999999999999999",
    "query_id > 'a' AND query_id <= $qid",
    "query_id BETWEEN '0' AND 'z'",
    "start_time < '9999-12-31 23:59:59'",
    "snapshot_id IN (1, 2, 40)",
    "transaction_id = 'nope'",
    "execution_status = 'FAILED'",
    "query_type IN ('INSERT', 'SELECT') AND snapshot_id > 10",
    "session_id IN (SELECT session_id FROM information_schema.query_history)",
]


@pytest.mark.parametrize("where", QUERY_HISTORY_WHERES)
def test_query_history_same_answer(lake: Any, where: str) -> None:
    _set_ids(lake)
    pushed, full = _both(lake, "query_history", "query_id || start_time::varchar", where)
    assert pushed == full


def test_select_alias_named_like_a_column_is_not_pushed(lake: Any) -> None:
    _set_ids(lake)
    pushed, full = _both(
        lake,
        "query_history",
        "query_id",
        "query_id = $qid",
        select="query_type AS query_id, start_time",
    )
    assert pushed == full == ["INSERT"]


def test_time_filters_follow_the_session_time_zone(tmp_path: Path) -> None:
    con = _lake(tmp_path, 5)
    con.execute("ALTER SESSION SET TIMEZONE = 'America/Los_Angeles'")
    for where in (
        "start_time >= '2024-06-01 05:00:03'",
        "start_time >= '2024-06-01 05:00:03'::timestamp_ltz",
        "start_time >= '2024-06-01 05:00:03'::timestamp_ntz",
        "start_time < '2024-06-01 05:00:03'::timestamp_ntz",
    ):
        pushed, full = _both(con, "query_history", "query_id", where)
        assert pushed == full and pushed, where
    con.close()


@pytest.mark.parametrize(
    "where",
    [
        "snapshot_id = 3",
        "snapshot_id BETWEEN 2 AND 6",
        "query_id = $qid",
        "commit_time > '2024-06-01 12:00:20'",
        "commit_time <= '2024-06-01 12:00:20'::timestamp_ntz",
        "operation = 'INSERT' AND snapshot_id < 4",
        "transaction_id IN ('nope')",
    ],
)
def test_snapshots_same_answer(lake: Any, where: str) -> None:
    _set_ids(lake)
    pushed, full = _both(lake, "snapshots", "snapshot_id || tables_changed", where)
    assert pushed == full


@pytest.mark.parametrize(
    "where",
    [
        "query_id = $qid",
        "query_id IN ($qid, $other)",
        "query_start_time >= '2024-06-01 12:00:20'",
        "query_start_time < '2024-06-01 12:00:20'::timestamp AND query_id = $qid",
        "query_start_time > '2024-06-01 12:00:20' AND query_id <> $qid",
    ],
)
def test_access_history_same_answer(lake: Any, where: str) -> None:
    _set_ids(lake)
    pushed, full = _both(
        lake, "access_history", "query_id || direct_objects_accessed || objects_modified", where
    )
    assert pushed == full


def _set_ids(con: Any) -> None:
    ids = con.execute(
        "SELECT query_id FROM information_schema.query_history "
        "WHERE query_type = 'INSERT' ORDER BY start_time LIMIT 2"
    ).fetchall()
    con.execute("SET (qid, other) = (?, ?)", [ids[0][0], ids[1][0]])


def _point_lookup(con: Any, view: str, column: str, value: Any) -> tuple[int, list[str]]:
    """(rows the view materialises, SQLite plan lines of the catalog queries it runs) for
    ``SELECT * FROM view WHERE column = value``."""
    session = con._session
    ctx = Ctx(session, session.begin(explicit=False), session.now(), "lookup")
    literal = exp.Literal.string(value) if isinstance(value, str) else exp.Literal.number(value)
    tree = (
        exp.select("*")
        .from_(exp.to_table(f"information_schema.{view}"))
        .where(exp.column(column).eq(literal))
    )
    node = tree.find(exp.Table)
    assert node is not None
    ran: list[tuple[str, Any]] = []

    def record(_conn: Any, _cur: Any, statement: str, params: Any, *_: Any) -> None:
        ran.append((statement, params))

    engine = session.catalog.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        rows = build_view(ctx, view.upper(), node).num_rows
    finally:
        event.remove(engine, "before_cursor_execute", record)
    raw = sqlite3.connect(session.layout.catalog_path)
    plans = [
        detail
        for statement, params in ran
        if statement.lstrip().upper().startswith("SELECT")
        for *_, detail in raw.execute("EXPLAIN QUERY PLAN " + statement, params).fetchall()
    ]
    raw.close()
    return rows, plans


def _lookups(con: Any) -> dict[str, tuple[int, list[str]]]:
    qid = con.execute(
        "SELECT query_id FROM information_schema.query_history WHERE query_type = 'INSERT' "
        "ORDER BY start_time LIMIT 1"
    ).fetchone()[0]
    return {
        "QUERY_HISTORY": _point_lookup(con, "query_history", "query_id", qid),
        "SNAPSHOTS": _point_lookup(con, "snapshots", "snapshot_id", 3),
        "SNAPSHOTS by query": _point_lookup(con, "snapshots", "query_id", qid),
        "ACCESS_HISTORY": _point_lookup(con, "access_history", "query_id", qid),
    }


def test_point_lookup_does_not_grow_with_history(tmp_path: Path) -> None:
    small = _lake(tmp_path / "small", 10)
    large = _lake(tmp_path / "large", 1000)
    few, many = _lookups(small), _lookups(large)
    for view in few:
        assert few[view][0] == many[view][0] == 1, view
        for detail in many[view][1]:
            assert not detail.startswith("SCAN"), (view, detail)
            # a table that grows with history is searched on more than the tenant
            if any(f" {t} " in detail for t in HISTORY_TABLES):
                assert " AND " in detail, (view, detail)
    small.close()
    large.close()


def test_older_catalog_gets_the_lookup_indexes(tmp_path: Path) -> None:
    _lake(tmp_path, 1).close()
    raw = sqlite3.connect(LakeLayout(tmp_path).catalog_path)
    for name in NEW_INDEXES:
        raw.execute(f"DROP INDEX {name}")
    raw.execute("UPDATE cl_meta SET value = '3' WHERE key = 'schema_version'")
    raw.commit()
    chronolake.connect(tmp_path).close()
    found = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    version = raw.execute("SELECT value FROM cl_meta WHERE key = 'schema_version'").fetchone()
    raw.close()
    assert set(NEW_INDEXES) <= found
    assert version == (str(CATALOG_SCHEMA_VERSION),)
