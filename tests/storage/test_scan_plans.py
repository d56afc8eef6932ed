"""The engine plans over chronolake's scans as over plain Parquet: it knows how many rows each
scan returns (no field-id ``schema=`` map that makes it guess one row), and files of several
column layouts (a column renamed, added with a default) read correctly side by side."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import chronolake
from chronolake.engine import scan

ROWS = 50_000  # one file, well past the small-file cache's limit


def _estimates(con: chronolake.Connection, table: str) -> list[int]:
    """The engine's row estimates of each Parquet scan in the plan of ``SELECT * FROM table``,
    then its estimate of the whole result."""
    session = con._session  # white box: the plan of the engine view the binder picks
    con.execute(f"SELECT count(*) FROM {table}").fetchall()  # creates the view
    view = next(reversed(session.views._views.values()))[0]
    plan = session.duck.execute(f"EXPLAIN (FORMAT json) SELECT * FROM {view}").fetchall()[0][1]
    found: list[int] = []

    def walk(node: dict[str, Any]) -> None:
        if node["name"] == "READ_PARQUET":
            found.append(int(node["extra_info"]["Estimated Cardinality"]))
        for child in node["children"]:
            walk(child)

    roots = json.loads(plan)
    for root in roots:
        walk(root)
    top = roots[0]
    while "Estimated Cardinality" not in top["extra_info"]:
        top = top["children"][0]
    return [*found, int(top["extra_info"]["Estimated Cardinality"])]


def test_a_scan_is_estimated_at_its_row_count(tmp_path: Path) -> None:
    con = chronolake.connect(tmp_path)
    con.execute("CREATE TABLE t AS SELECT range AS id, range % 7 AS k FROM range(?)", [ROWS])
    assert _estimates(con, "t") == [ROWS, ROWS]


def test_a_scan_with_deletes_keeps_a_real_estimate(tmp_path: Path) -> None:
    con = chronolake.connect(tmp_path)
    con.execute("CREATE TABLE t AS SELECT range AS id FROM range(?)", [ROWS])
    con.execute("DELETE FROM t WHERE id % 1000 = 0")
    # the scan, and the rows left: deletes are not taken for a filter keeping a fifth
    assert _estimates(con, "t") == [ROWS, ROWS]
    assert con.execute("SELECT count(*) FROM t").fetchone() == (ROWS - ROWS // 1000,)


def test_files_of_different_layouts_read_by_name(tmp_path: Path) -> None:
    con = chronolake.connect(tmp_path)
    con.execute("CREATE TABLE t AS SELECT range AS id, 'a' AS v FROM range(?)", [ROWS])
    con.execute("ALTER TABLE t RENAME COLUMN v TO w")
    con.execute("ALTER TABLE t ADD COLUMN n INT DEFAULT 5")
    con.execute("INSERT INTO t SELECT range + ?, 'b', 6 FROM range(?)", [ROWS, ROWS])
    con.execute("DELETE FROM t WHERE id % 10 = 0")
    rows = con.execute("SELECT w, n, count(*) FROM t GROUP BY ALL ORDER BY w").fetchall()
    assert rows == [("a", 5, ROWS - ROWS // 10), ("b", 6, ROWS - ROWS // 10)]
    assert _estimates(con, "t")[:2] == [ROWS, ROWS]  # one scan per layout
    old = con.execute("SELECT count(*) FROM t AT(VERSION => 1)").fetchone()
    assert old == (ROWS,)


def _two_files_with_deletes(con: chronolake.Connection) -> None:
    """Two files of ROWS rows sharing one scan, each missing its first, last and every 37th
    row: positions at both ends of each file's share of the bitmap."""
    con.execute("CREATE TABLE t AS SELECT range AS id FROM range(?)", [ROWS])
    con.execute("INSERT INTO t SELECT range + ? FROM range(?)", [ROWS, ROWS])
    con.execute("DELETE FROM t WHERE id % ? IN (0, ?) OR id % 37 = 5", [ROWS, ROWS - 1])


def _expected_ids() -> list[int]:
    return [i for i in range(2 * ROWS) if i % ROWS not in (0, ROWS - 1) and i % 37 != 5]


def _filtered_by_bitmap(con: chronolake.Connection) -> bool:
    views = con._session.duck.execute("SELECT sql FROM duckdb_views()").fetchall()
    return any("get_bit" in sql for (sql,) in views)


def test_deletes_across_files_of_one_scan(tmp_path: Path) -> None:
    con = chronolake.connect(tmp_path)
    _two_files_with_deletes(con)
    got = [r[0] for r in con.execute("SELECT id FROM t ORDER BY id").fetchall()]
    assert got == _expected_ids()
    assert _filtered_by_bitmap(con)  # 2.7% deleted: more than one row in _BITMAP_SHARE
    assert _estimates(con, "t") == [2 * ROWS, 2 * ROWS]  # one scan, estimated at its rows


def test_few_deletes_join_their_positions(tmp_path: Path) -> None:
    con = chronolake.connect(tmp_path)
    con.execute("CREATE TABLE t AS SELECT range AS id FROM range(?)", [ROWS])
    con.execute("DELETE FROM t WHERE id % 100 = 0")  # 1%: the bitmap would outweigh them
    assert con.execute("SELECT count(*) FROM t").fetchone() == (ROWS - ROWS // 100,)
    assert not _filtered_by_bitmap(con)


def test_a_scan_too_large_for_a_bitmap_joins_its_deleted_positions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scan, "_BITMAP_ROWS", ROWS)  # the two files' scan is past it
    con = chronolake.connect(tmp_path)
    _two_files_with_deletes(con)
    got = [r[0] for r in con.execute("SELECT id FROM t ORDER BY id").fetchall()]
    assert got == _expected_ids()
    assert not _filtered_by_bitmap(con)
    assert _estimates(con, "t") == [2 * ROWS, 2 * ROWS]
