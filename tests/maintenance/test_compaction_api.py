"""compact_table: what it picks, what history shows, and how it meets restore and revert."""

from __future__ import annotations

from pathlib import Path

import pytest

import chronolake
from chronolake.maintenance import CompactionReport, compact_table


def _lake(tmp_path: Path) -> chronolake.Connection:
    con = chronolake.connect(tmp_path / "lake")
    con.execute("CREATE TABLE t (k INT, v VARCHAR)")
    for k in range(6):
        con.execute("INSERT INTO t VALUES (?, 'a'), (? + 100, 'b')", [k, k])
    return con


def test_report_history_and_query_log(tmp_path: Path) -> None:
    con = _lake(tmp_path)
    con.execute("DELETE FROM t WHERE k >= 100")
    report = compact_table(con, "t", min_age_s=0)
    assert isinstance(report, CompactionReport)
    assert (report.files_in, report.files_out, report.rows) == (6, 1, 6)
    assert report.deleted_rows_purged == 6 and report.bytes_out > 0
    last = con.table_history("t")[-1]
    assert last["operation"] == "COMPACT" and last["snapshot_id"] == report.snapshot_id
    assert (last["rows_added"], last["rows_removed"]) == (0, 0)
    assert con.execute(
        "SELECT query_type, execution_status FROM INFORMATION_SCHEMA.QUERY_HISTORY "
        "WHERE query_id = ?",
        [last["query_id"]],
    ).fetchall() == [("COMPACT", "SUCCESS")]
    # nothing left to do; a rewrite needs two small files or a delete-heavy one
    assert compact_table(con, "t", min_age_s=0).snapshot_id is None
    con.execute("DELETE FROM t WHERE k = 0")
    assert compact_table(con, "t", min_age_s=0, max_deleted_ratio=0.5).files_in == 0
    assert compact_table(con, "t", min_age_s=0, max_deleted_ratio=0.1).files_in == 1
    assert con.execute("SELECT count(*) FROM t").fetchone() == (5,)


def test_a_fully_deleted_file_disappears(tmp_path: Path) -> None:
    con = _lake(tmp_path)
    con.execute("DELETE FROM t")
    report = compact_table(con, "t", min_age_s=0)
    assert (report.files_in, report.files_out, report.rows) == (6, 0, 0)
    assert con.execute("SELECT count(*) FROM t").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM t AT(VERSION => 7)").fetchone() == (12,)


def test_restore_and_revert_around_a_compaction(tmp_path: Path) -> None:
    con = _lake(tmp_path)
    qid = con.execute("UPDATE t SET v = 'u' WHERE k = 1").sfqid
    report = compact_table(con, "t", min_age_s=0)
    compact_qid = con.table_history("t")[-1]["query_id"]
    # the compaction wrote no rows of its own: nothing to revert
    with pytest.raises(chronolake.NotSupportedError):
        con.revert_statement(compact_qid)
    # the statement's rows now live in a compacted file: refused, never half done
    with pytest.raises(chronolake.SqlError, match="later statements"):
        con.revert_statement(qid)
    con.restore_table("t", f"before-statement:{qid}")
    assert con.execute("SELECT count(*) FROM t WHERE v = 'u'").fetchone() == (0,)
    con.restore_table("t", f"version:{report.snapshot_id}")
    assert con.execute("SELECT k FROM t WHERE v = 'u'").fetchall() == [(1,)]


def test_views_and_missing_tables_are_refused(tmp_path: Path) -> None:
    con = _lake(tmp_path)
    con.execute("CREATE VIEW w AS SELECT * FROM t")
    with pytest.raises(chronolake.SqlError, match="view"):
        compact_table(con, "w")
    with pytest.raises(chronolake.Error):
        compact_table(con, "nope")
    con.execute("BEGIN")
    with pytest.raises(chronolake.ProgrammingError, match="transaction"):
        compact_table(con, "t")
    con.execute("ROLLBACK")
