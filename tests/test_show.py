"""SHOW through the Python API: a result set with Snowflake's column names and a row count."""

from __future__ import annotations

from pathlib import Path

import chronolake


def test_show_tables_result_set(tmp_path: Path) -> None:
    con = chronolake.connect(tmp_path)
    con.execute("CREATE TABLE a (x INT)")
    con.execute("INSERT INTO a VALUES (1), (2)")
    con.execute("CREATE TABLE b (x INT)")
    con.execute("DROP TABLE b")
    cur = con.cursor()
    cur.execute("SHOW TABLES HISTORY")
    assert cur.rowcount == 2
    assert [d[0] for d in cur.description] == [
        "created_on",
        "name",
        "database_name",
        "schema_name",
        "kind",
        "rows",
        "bytes",
        "retention_time",
        "dropped_on",
        "change_tracking",
    ]
    rows = cur.fetchall()
    assert [(r[1], r[5], r[7], r[8] is None) for r in rows] == [
        ("A", 2, "1", True),
        ("B", 0, "1", False),
    ]
    assert rows[0][6] > 0 and rows[1][0] < rows[1][8]  # bytes; created before dropped
    produced = con.execute(
        "SELECT rows_produced FROM information_schema.query_history WHERE query_type = 'SHOW'"
    ).fetchall()
    assert produced == [(2,)]
    con.close()
