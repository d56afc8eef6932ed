"""Result column names as Snowflake gives them, seen through cursor.description, and column
names resolved by one rule for a table made from a lower-case Arrow table."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

import chronolake


def _names(con: chronolake.Connection, sql: str) -> list[str]:
    cur = con.cursor()
    cur.execute(sql)
    return [d[0] for d in cur.description]


def test_result_names(tmp_path: Path) -> None:
    with chronolake.connect(tmp_path / "lake") as con:
        con.execute("CREATE TABLE t (a INT, b VARCHAR)")
        con.execute("INSERT INTO t VALUES (1, 'x')")
        assert _names(con, "SELECT COUNT(*) FROM t") == ["COUNT(*)"]
        assert _names(con, "SELECT a+1, a AS Alias, \"A\", t.b, 'lit' FROM t") == [
            "A+1",
            "ALIAS",
            "A",
            "B",
            "'LIT'",
        ]
        assert _names(con, "SELECT * FROM t") == ["A", "B"]
        assert _names(con, "SELECT sum(a)  FROM t GROUP BY b") == ["SUM(A)"]


def test_lower_case_arrow_table(tmp_path: Path) -> None:
    with chronolake.connect(tmp_path / "lake") as con:
        con.register("src", pa.table({"id": [1, 2], "status": ["a", "b"]}))
        con.execute("CREATE TABLE raw AS SELECT * FROM src")
        con.execute("UPDATE raw SET status = 'z' WHERE id = 2")
        con.execute("INSERT INTO raw (ID, Status) VALUES (3, 'c')")
        assert con.execute("SELECT status FROM raw ORDER BY id").fetchall() == [
            ("a",),
            ("z",),
            ("c",),
        ]
        con.execute("CREATE TABLE ctas AS SELECT id, status FROM src")
        assert _names(con, "SELECT * FROM ctas") == ["ID", "STATUS"]
