"""CLONE is zero-copy: only catalog rows are written, and every path a clone's rows name
exists; the clone's file rows record the file row they re-use (``cloned_from``)."""

from __future__ import annotations

from typing import Any

from lake_forms import LakeSpec


def _catalog(lake: LakeSpec, sql: str, **params: Any) -> list[tuple]:
    return lake.catalog_rows(sql, **params)


def _files(lake: LakeSpec) -> set[str]:
    return {p for p in lake.list_files() if p.endswith(".parquet")}


def _table_id(lake: LakeSpec, name: str) -> int:
    (row,) = _catalog(
        lake, "SELECT table_id FROM cl_tables WHERE name = :n AND end_snapshot IS NULL", n=name
    )
    return int(row[0])


def test_clone_copies_no_file_and_every_referenced_path_exists(lake_spec: LakeSpec) -> None:
    con = lake_spec.connect()
    con.execute("CREATE TABLE t (id INT, v VARCHAR)")
    con.execute("INSERT INTO t SELECT range, 'x' FROM range(100)")
    con.execute("INSERT INTO t SELECT range, 'y' FROM range(100, 150)")
    con.execute("DELETE FROM t WHERE id < 10")
    con.execute("CREATE SCHEMA s")
    con.execute("CREATE TABLE s.other (id INT)")
    con.execute("INSERT INTO s.other VALUES (1)")
    con.execute("USE SCHEMA public")

    before = _files(lake_spec)
    con.execute("CREATE TABLE c CLONE t")
    src, clone = _table_id(lake_spec, "T"), _table_id(lake_spec, "C")
    con.execute("CREATE SCHEMA s2 CLONE s")
    con.execute("CREATE DATABASE d2 CLONE main")
    con.execute("USE DATABASE main")
    assert _files(lake_spec) == before  # nothing copied, nothing written
    src_rows = _catalog(
        lake_spec,
        "SELECT file_id, path, first_row_id, has_row_ids FROM cl_data_files "
        "WHERE table_id = :t ORDER BY first_row_id",
        t=src,
    )
    clone_rows = _catalog(
        lake_spec,
        "SELECT cloned_from, path, first_row_id, has_row_ids FROM cl_data_files "
        "WHERE table_id = :t ORDER BY first_row_id",
        t=clone,
    )
    assert clone_rows == src_rows  # same paths, row ids; cloned_from = the source's file id
    # delete files: new rows, same paths
    deletes = "SELECT path FROM cl_delete_files WHERE table_id = :t"
    src_dels = _catalog(lake_spec, deletes, t=src)
    clone_dels = _catalog(lake_spec, deletes, t=clone)
    assert src_dels == clone_dels and len(src_dels) == 1
    # the clone's row id counter starts at its source's
    counters = dict(_catalog(lake_spec, "SELECT table_id, next_row_id FROM cl_table_row_ids"))
    assert counters[clone] == counters[src] == 150

    # writes on both sides only add their own files
    con.execute("INSERT INTO c VALUES (1000, 'c')")
    con.execute("UPDATE c SET v = 'z' WHERE id = 20")
    con.execute("DELETE FROM t WHERE id = 30")
    con.execute("INSERT INTO d2.s.other VALUES (2)")
    assert con.execute("SELECT count(*) FROM c").fetchone() == (141,)
    assert con.execute("SELECT count(*) FROM t").fetchone() == (139,)
    assert con.execute("SELECT count(*) FROM s2.other").fetchone() == (1,)
    assert con.execute("SELECT count(*) FROM d2.s.other").fetchone() == (2,)
    assert con.execute("SELECT count(*) FROM s.other").fetchone() == (1,)

    existing = lake_spec.list_files()
    cloned = _catalog(
        lake_spec,
        "SELECT path FROM cl_data_files WHERE cloned_from IS NOT NULL "
        "UNION ALL SELECT d.path FROM cl_delete_files d JOIN cl_data_files f "
        "ON f.file_id = d.data_file_id WHERE f.cloned_from IS NOT NULL",
    )
    assert cloned
    assert all(p in existing for (p,) in cloned)
    # a clone row names the file row whose file it re-uses (d2's copy of c: a clone of a clone)
    sources = _catalog(
        lake_spec,
        "SELECT f.path = o.path FROM cl_data_files f "
        "JOIN cl_data_files o ON o.file_id = f.cloned_from",
    )
    n_clones = _catalog(
        lake_spec, "SELECT count(*) FROM cl_data_files WHERE cloned_from IS NOT NULL"
    )
    assert len(sources) == n_clones[0][0] and all(same for (same,) in sources)
    con.close()


def test_clone_shares_column_statistics(lake_spec: LakeSpec) -> None:
    con = lake_spec.connect()
    con.execute("CREATE TABLE t (id INT)")
    con.execute("INSERT INTO t VALUES (1), (5)")
    con.execute("CREATE TABLE c CLONE t")
    per_table = _catalog(
        lake_spec,
        "SELECT f.table_id, s.column_id, s.min_value, s.max_value FROM cl_file_column_stats s "
        "JOIN cl_data_files f ON f.file_id = s.file_id",
    )
    src, clone = _table_id(lake_spec, "T"), _table_id(lake_spec, "C")
    mine = sorted(r[1:] for r in per_table if r[0] == src)
    theirs = sorted(r[1:] for r in per_table if r[0] == clone)
    assert mine == theirs  # whatever the writer records, the clone's file rows have it too
    con.close()
