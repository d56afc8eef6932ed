"""Temporary tables leave nothing behind: not after a clean close, not after a crash.

They live in the session's own engine, so the catalog never hears of them and the lake's
storage never holds their rows; the SQL scripts in tests/sql/temporary/ cover what a session
sees. Here a child process makes a temporary table, reports it (an event, no delays) and is
SIGKILLed; the reopened lake has no trace of it.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import chronolake
from chronolake.storage.layout import LakeLayout

CHILD = """
import sys, chronolake
con = chronolake.connect(sys.argv[1])
con.execute("CREATE TEMPORARY TABLE scratch AS SELECT range AS id FROM range(50000)")
con.execute("CREATE TEMPORARY TABLE t (id INT)")
con.execute("INSERT INTO t SELECT id FROM scratch")
print(con.execute("SELECT COUNT(*) FROM t").fetchone()[0], flush=True)
sys.stdin.read()  # stay alive until killed
"""


def _trace(lake: Path) -> tuple[list[str], list[Path]]:
    """(names of catalog table rows, data files under the tenant's prefix)."""
    layout = LakeLayout(lake)
    db = sqlite3.connect(layout.catalog_path)
    names = [r[0] for r in db.execute("SELECT name FROM cl_tables")]
    db.close()
    files = [p for p in layout.tenant_root("default").rglob("*.parquet")]
    return names, files


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_killed_session_leaves_no_temporary_table(tmp_path: Path) -> None:
    chronolake.connect(tmp_path).close()  # the lake exists before the child opens it
    with subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "50000"  # it holds its temporary tables
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert _trace(tmp_path) == ([], [])
    con = chronolake.connect(tmp_path)
    with pytest.raises(chronolake.NotFound, match="Object 'T' does not exist"):
        con.execute("SELECT * FROM t")
    assert con.execute("SHOW TABLES").fetchall() == []
    con.close()


def test_closed_session_leaves_no_temporary_table(tmp_path: Path) -> None:
    con = chronolake.connect(tmp_path)
    con.execute("CREATE TEMPORARY TABLE t AS SELECT range AS id FROM range(1000)")
    con.execute("UPDATE t SET id = id + 1")
    con.close()
    assert _trace(tmp_path) == ([], [])
    # and its statements committed nothing: no snapshot was made for them
    db = sqlite3.connect(LakeLayout(tmp_path).catalog_path)
    assert db.execute("SELECT COUNT(*) FROM cl_snapshots").fetchone() == (0,)
    db.close()


def test_transactions_leave_no_saved_copies(tmp_path: Path) -> None:
    con = chronolake.connect(tmp_path)
    con.execute("CREATE TEMPORARY TABLE t (id INT)")
    for end in ("COMMIT", "ROLLBACK"):
        con.execute("BEGIN")
        con.execute("INSERT INTO t VALUES (1)")
        con.execute("CREATE OR REPLACE TEMPORARY TABLE t AS SELECT * FROM t")
        con.execute("CREATE TEMPORARY TABLE u (x INT)")
        con.execute("DROP TABLE u")
        con.execute(end)
    session = con._session
    engine_tables = {
        r[0] for r in session.duck.execute("SELECT table_name FROM duckdb_tables()").fetchall()
    }
    assert engine_tables == {t.internal for t in session.temp_tables.values()}
    assert con.execute("SELECT COUNT(*) FROM t").fetchone() == (1,)
    con.close()
