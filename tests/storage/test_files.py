"""Storage invariants: immutable snappy Parquet with field ids, positional deletes, row ids kept."""

from __future__ import annotations

import pytest
from lake_forms import LakeSpec

import chronolake


def _catalog(lake: LakeSpec, sql: str) -> list[tuple]:
    return lake.catalog_rows(sql)


def _files(lake: LakeSpec) -> set[str]:
    """The tenant's Parquet files (relative paths), local or on S3."""
    return {p for p in lake.list_files() if p.endswith(".parquet")}


def test_data_files_are_snappy_parquet_with_column_ids_as_field_ids(lake_spec: LakeSpec) -> None:
    con = lake_spec.connect()
    con.execute("CREATE TABLE t (id INT, name VARCHAR, amount NUMBER(10,2))")
    con.execute("INSERT INTO t VALUES (1, 'a', 1.5), (2, 'b', 2.5)")
    (path,) = [r[0] for r in _catalog(lake_spec, "SELECT path FROM cl_data_files")]
    meta = lake_spec.parquet_metadata(path)
    field_ids = [int(f.metadata[b"PARQUET:field_id"]) for f in meta.schema.to_arrow_schema()]
    assert field_ids == [1, 2, 3]
    assert meta.row_group(0).column(0).compression == "SNAPPY"
    assert meta.num_rows == 2


def test_update_writes_only_the_changed_rows_and_keeps_row_ids(lake_spec: LakeSpec) -> None:
    con = lake_spec.connect()
    con.execute("CREATE TABLE t (id INT, v VARCHAR)")
    con.execute("INSERT INTO t SELECT range, 'x' FROM range(1000)")
    before = _files(lake_spec)
    con.execute("UPDATE t SET v = 'y' WHERE id IN (3, 500)")
    added = _files(lake_spec) - before
    sizes = lake_spec.list_files()
    assert all(sizes[p] < 4096 for p in added)  # the images and one delete file
    assert len(added) == 2
    rows = _catalog(
        lake_spec, "SELECT row_count, end_snapshot FROM cl_data_files ORDER BY begin_snapshot"
    )
    assert rows == [(1000, None), (2, None)]  # the original file is still the live one
    dels = _catalog(lake_spec, "SELECT delete_count FROM cl_delete_files")
    assert dels == [(2,)]
    assert con.execute("SELECT count(*), count_if(v = 'y') FROM t").fetchone() == (1000, 2)


def test_large_insert_select_streams_into_several_files_in_bounded_memory(
    lake_spec: LakeSpec,
) -> None:
    settings = chronolake.Settings(
        target_file_size=8 * 1024 * 1024, duckdb_memory_limit="256MB", duckdb_threads=2
    )
    con = lake_spec.connect(settings=settings)
    con.execute("CREATE TABLE big (id BIGINT, payload VARCHAR)")
    cur = con.execute("INSERT INTO big SELECT range, md5(range::VARCHAR) FROM range(3000000)")
    assert cur.rowcount == 3_000_000
    counts = [r[0] for r in _catalog(lake_spec, "SELECT row_count FROM cl_data_files")]
    assert sum(counts) == 3_000_000
    assert len(counts) > 3  # rolled over at the target file size
    assert con.execute("SELECT count(DISTINCT id), max(id) FROM big").fetchone() == (
        3_000_000,
        2_999_999,
    )


def test_a_failed_statement_leaves_no_commit_and_no_new_files(lake_spec: LakeSpec) -> None:
    con = lake_spec.connect()
    con.execute("CREATE TABLE t (id INT NOT NULL, v VARCHAR(3))")
    con.execute("INSERT INTO t VALUES (1, 'abc')")
    files, snaps = _files(lake_spec), _catalog(lake_spec, "SELECT count(*) FROM cl_snapshots")
    for bad, message in (
        ("INSERT INTO t VALUES (2, 'abcd')", "String 'abcd' is too long"),
        ("INSERT INTO t VALUES (NULL, 'a')", "NULL result in a non-nullable column ID"),
        ("UPDATE t SET v = 'toolong' WHERE id = 1", "is too long"),
        ("INSERT INTO t SELECT NULL, 'x'", "non-nullable"),
    ):
        with pytest.raises(chronolake.DataError, match=message):
            con.execute(bad)
    assert _files(lake_spec) == files
    assert _catalog(lake_spec, "SELECT count(*) FROM cl_snapshots") == snaps
    assert con.execute("SELECT * FROM t").fetchall() == [(1, "abc")]


def test_statement_failing_inside_a_transaction_keeps_the_earlier_work(lake_spec: LakeSpec) -> None:
    con = lake_spec.connect()
    con.execute("CREATE TABLE t (id INT, v VARCHAR(2))")
    con.execute("BEGIN")
    con.execute("INSERT INTO t VALUES (1, 'ok')")
    files = _files(lake_spec)
    with pytest.raises(chronolake.DataError, match="too long"):
        con.execute("INSERT INTO t VALUES (2, 'too long')")
    assert _files(lake_spec) == files  # the failed statement's file is gone
    con.execute("COMMIT")
    assert con.execute("SELECT * FROM t").fetchall() == [(1, "ok")]


def test_a_rolled_back_transaction_removes_its_files(lake_spec: LakeSpec) -> None:
    con = lake_spec.connect()
    con.execute("CREATE TABLE t (id INT)")
    files = _files(lake_spec)
    con.execute("BEGIN")
    con.execute("INSERT INTO t VALUES (1), (2)")
    con.execute("DELETE FROM t WHERE id = 1")
    assert len(_files(lake_spec)) == len(files) + 2
    con.execute("ROLLBACK")
    assert _files(lake_spec) == files
    assert con.execute("SELECT count(*) FROM t").fetchone() == (0,)


@pytest.mark.parametrize("by_name", [True, False])
def test_both_ways_of_reading_files_give_the_same_rows(
    lake_spec: LakeSpec, monkeypatch: pytest.MonkeyPatch, by_name: bool
) -> None:
    """Files read by their physical column names (the default) and through the field-id
    map (files chronolake did not name) give the same rows, deletes and row ids."""
    from chronolake.engine import scan

    if not by_name:
        monkeypatch.setattr(scan, "written_by_name", lambda _columns: False)
    con = lake_spec.connect()
    con.execute("CREATE TABLE t (id INT, v VARCHAR)")
    for i in range(3):
        con.execute("INSERT INTO t SELECT range + ?, 'x' FROM range(100)", [i * 1000])
    con.execute("DELETE FROM t WHERE id % 7 = 0")
    con.execute("UPDATE t SET v = 'y' WHERE id % 5 = 0")
    expected = [
        (i * 1000 + r, "y" if (i * 1000 + r) % 5 == 0 else "x")
        for i in range(3)
        for r in range(100)
        if (i * 1000 + r) % 7 != 0
    ]
    assert con.execute("SELECT id, v FROM t ORDER BY id").fetchall() == expected
    ids = [i * 1000 + r for i in range(3) for r in range(100)]
    deleted = sum(1 for x in ids if x % 7 == 0)
    updated = sum(1 for x in ids if x % 7 != 0 and x % 5 == 0)
    feed = "SELECT count(*) FROM t CHANGES(INFORMATION => DEFAULT) AT(VERSION => 4)"
    assert con.execute(feed).fetchone() == (deleted + 2 * updated,)
