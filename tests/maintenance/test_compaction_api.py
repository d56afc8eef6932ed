"""compact_table: what it picks, what history shows, and how it meets restore and revert."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lake_forms import LakeSpec

import chronolake
from chronolake.catalog.model import DataFile, DeleteFile
from chronolake.maintenance import CompactionReport, compact_table
from chronolake.maintenance.compaction import plan_files, size_tier


def _lake(tmp_path: Path) -> chronolake.Connection:
    return _fill(chronolake.connect(tmp_path / "lake"))


def _fill(con: chronolake.Connection) -> chronolake.Connection:
    con.execute("CREATE TABLE t (k INT, v VARCHAR)")
    for k in range(6):
        con.execute("INSERT INTO t VALUES (?, 'a'), (? + 100, 'b')", [k, k])
    return con


def test_report_history_and_query_log(lake_spec: LakeSpec) -> None:
    con = _fill(lake_spec.connect())
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
    con.close()


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


def _file(file_id: int, byte_size: int, rows: int = 100, deleted: int = 0) -> DataFile:
    dl = None if not deleted else DeleteFile(file_id + 1000, f"d{file_id}", deleted, 10)
    return DataFile(file_id, f"f{file_id}", rows, byte_size, 0, False, dl)


def test_small_files_merge_by_size_tier() -> None:
    mib = 1024 * 1024
    assert [size_tier(b) for b in (0, mib - 1, mib, 8 * mib - 1, 8 * mib, 64 * mib)] == [
        0,
        0,
        1,
        1,
        2,
        3,
    ]
    tiny = tuple(_file(i, 10_000) for i in range(3))
    big = _file(10, 20 * mib)
    mid = (_file(20, 2 * mib), _file(21, 3 * mib))

    def plan(files: tuple[DataFile, ...], **kw: object) -> set[int]:
        args: dict[str, Any] = {"min_files": 2, "small_bytes": 128 * mib, "max_deleted_ratio": 0.2}
        args.update(kw)
        return {f.file_id for f in plan_files(files, **args)}

    # the big file stays: only the tier with enough files is merged
    assert plan((big, *tiny)) == {0, 1, 2}
    assert plan((big, *tiny, *mid)) == {0, 1, 2, 20, 21}
    assert plan((big, *tiny, *mid), min_files=3) == {0, 1, 2}
    assert plan((big, tiny[0], mid[0])) == set()
    # a delete-heavy file is always rewritten, taking the tiny files along, never the others
    heavy = _file(11, 20 * mib, rows=100, deleted=30)
    assert plan((heavy, tiny[0], *mid), min_files=3) == {11, 0}
    # files over the small bound never merge
    assert plan((big, _file(12, 20 * mib)), small_bytes=16 * mib) == set()
    assert plan((big, _file(12, 20 * mib))) == {10, 12}


def test_compaction_leaves_a_big_file_alone(tmp_path: Path) -> None:
    con = chronolake.connect(tmp_path / "lake")
    con.execute("CREATE TABLE t (k BIGINT, x DOUBLE)")
    con.execute("INSERT INTO t SELECT range, random() FROM range(300000)")
    for k in range(3):
        con.execute("INSERT INTO t VALUES (?, 0.5)", [-1 - k])
    s = con.session
    ns = s.catalog.namespace(s.tenant, s.catalog.latest_snapshot(s.tenant))
    (tid,) = [t.table_id for t in ns.tables.values()]

    def files() -> dict[int, int]:
        snap = s.catalog.latest_snapshot(s.tenant).snapshot_id
        return {f.file_id: f.row_count for f in s.catalog.table_files(s.tenant, tid, snap)}

    before = files()
    (big,) = [fid for fid, rows in before.items() if rows == 300000]
    report = compact_table(con, "t", min_age_s=0)
    assert (report.files_in, report.files_out, report.rows) == (3, 1, 3)
    assert big in files() and len(files()) == 2
    assert con.execute("SELECT count(*), min(k) FROM t").fetchone() == (300003, -3)
    # once a third of it is deleted it is rewritten, live rows only
    con.execute("DELETE FROM t WHERE k % 3 = 0")
    report = compact_table(con, "t", min_age_s=0)
    assert report.files_in == 2 and report.rows == 200002
    assert big not in files()
    assert con.execute("SELECT count(*) FROM t").fetchone() == (200002,)
