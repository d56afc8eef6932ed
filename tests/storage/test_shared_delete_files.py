"""One delete file per statement: a DELETE or UPDATE touching many data files writes one file
whose parts (one per data file) the catalog names, and everything that reads deletes (scans at
every version, CHANGES, REVERT, CLONE, storage sizes, expiry) reads the parts. Lakes written
before parts existed (a delete file per data file, catalog schema 2) still read and write."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
from lake_forms import LakeSpec

import chronolake

_ROOT = Path("data") / "default"


def _db(lake: Path | LakeSpec, sql: str) -> list[tuple[object, ...]]:
    if isinstance(lake, LakeSpec):
        return lake.catalog_rows(sql)
    with sqlite3.connect(lake / "catalog.sqlite") as db:
        return db.execute(sql).fetchall()


def _parquet(lake: LakeSpec) -> dict[str, int]:
    """The tenant's Parquet files (relative path -> size), local or on S3."""
    return {p: n for p, n in lake.list_files().items() if p.endswith(".parquet")}


def _three_files(lake: Path | LakeSpec) -> chronolake.Connection:
    con = lake.connect() if isinstance(lake, LakeSpec) else chronolake.connect(lake)
    con.execute("CREATE TABLE t (id INT, v VARCHAR)")
    for i in range(3):
        con.execute(f"INSERT INTO t SELECT range, 'v{i}' FROM range({i * 5000}, {i * 5000 + 5000})")
    return con


def _rows(con: chronolake.Connection, sql: str, params: list[object] | None = None) -> list:
    return sorted(con.execute(sql, params).fetchall())


def test_a_delete_touching_three_files_writes_one_file_with_three_parts(
    lake_spec: LakeSpec,
) -> None:
    con = _three_files(lake_spec)
    before = set(_parquet(lake_spec))
    con.execute("DELETE FROM t WHERE id % 1000 = 7")
    sizes = _parquet(lake_spec)
    added = set(sizes) - before
    assert len(added) == 1
    (path,) = added
    rows = _db(
        lake_spec,
        "SELECT d.path, d.part, d.data_file_id, d.delete_count, d.byte_size "
        "FROM cl_delete_files d ORDER BY d.part",
    )
    assert len(rows) == 3
    assert {r[0] for r in rows} == {path}
    assert all(r[1] == r[2] for r in rows)  # a part is its data file's id
    assert [r[3] for r in rows] == [5, 5, 5]
    assert {r[4] for r in rows} == {sizes[path]}
    stored = lake_spec.parquet_table(path, ["f"])
    for _, part, _, count, _ in rows:
        assert pc.sum(pc.equal(stored.column("f"), part)).as_py() == count
    assert con.execute("SELECT count(*) FROM t").fetchone() == (14_985,)
    assert con.execute("SELECT count(*) FROM t WHERE id % 1000 = 7").fetchone() == (0,)
    # sizes count the shared file once
    data = _db(lake_spec, "SELECT sum(byte_size) FROM cl_data_files")[0][0]
    expected = int(data) + sizes[path]  # type: ignore[call-overload]
    assert con.execute(
        "SELECT bytes FROM information_schema.tables WHERE table_name = 'T'"
    ).fetchone() == (expected,)
    added_bytes = con.execute(
        "SELECT bytes_added FROM information_schema.snapshots ORDER BY snapshot_id DESC LIMIT 1"
    ).fetchone()
    assert added_bytes == (sizes[path],)


def test_every_version_changes_revert_and_clone_read_the_parts(lake_spec: LakeSpec) -> None:
    con = _three_files(lake_spec)
    model = {i: f"v{i // 5000}" for i in range(15_000)}
    states = []
    statements = [
        ("DELETE FROM t WHERE id % 100 = 3", lambda i, v: i % 100 == 3, None),
        ("UPDATE t SET v = 'u' WHERE id % 7 = 0", lambda i, v: i % 7 == 0, "u"),
        ("DELETE FROM t WHERE id BETWEEN 4990 AND 5010", lambda i, v: 4990 <= i <= 5010, None),
        (
            "DELETE FROM t WHERE id % 100 = 4 AND id > 9000",
            lambda i, v: i % 100 == 4 and i > 9000,
            None,
        ),
    ]
    for sql, hit, value in statements:
        qid = con.execute(sql).query_id
        for i in [i for i, v in model.items() if hit(i, v)]:
            if value is None:
                del model[i]
            else:
                model[i] = value
        states.append((qid, sorted(model.items())))
    for qid, state in states:
        assert _rows(con, "SELECT id, v FROM t AT(STATEMENT => ?)", [qid]) == state
    # every delete file row names a part that holds exactly its count
    for path, part, count in _db(lake_spec, "SELECT path, part, delete_count FROM cl_delete_files"):
        f = lake_spec.parquet_table(str(path), ["f"]).column("f")
        assert pc.sum(pc.equal(f, part)).as_py() == count

    # the change feed between the first and third statement: the rows the later two changed
    first, third = states[0][0], states[2][0]
    changes = _rows(
        con,
        "SELECT id, v, METADATA$ACTION FROM t CHANGES(INFORMATION => DEFAULT) "
        "AT(STATEMENT => ?) END(STATEMENT => ?)",
        [first, third],
    )
    s1, s3 = dict(states[0][1]), dict(states[2][1])
    expected = sorted(
        [(i, s1[i], "DELETE") for i in s1 if s3.get(i) != s1[i]]
        + [(i, s3[i], "INSERT") for i in s3 if s1.get(i) != s3[i]]
    )
    assert changes == expected

    # REVERT the second DELETE (three files): one new file, the rows come back
    before = set(_parquet(lake_spec))
    con.execute(f"REVERT STATEMENT '{states[2][0]}'")
    assert len(set(_parquet(lake_spec)) - before) == 1
    back = dict(states[3][1])
    back.update({i: v for i, v in states[1][1] if 4990 <= i <= 5010})
    assert _rows(con, "SELECT id, v FROM t") == sorted(back.items())

    # a clone at a point shares the shared file's rows and reads the same
    con.execute(f"CREATE TABLE c CLONE t AT(STATEMENT => '{states[1][0]}')")
    assert _rows(con, "SELECT id, v FROM c") == states[1][1]
    con.execute("DELETE FROM c WHERE id < 100")
    assert _rows(con, "SELECT id, v FROM c") == [x for x in states[1][1] if x[0] >= 100]
    assert _rows(con, "SELECT id, v FROM t") == sorted(back.items())


def test_a_lake_with_one_delete_file_per_data_file_still_reads_and_writes(tmp_path: Path) -> None:
    con = _three_files(tmp_path)
    qid = con.execute("DELETE FROM t WHERE id % 10 = 1").query_id
    con.execute("UPDATE t SET v = 'u' WHERE id % 10 = 2")
    expected = _rows(con, "SELECT id, v FROM t")
    at_delete = _rows(con, "SELECT id, v FROM t AT(STATEMENT => ?)", [qid])
    con.close()
    # rewrite it as the previous version wrote it: a file per data file with (pos, q) only,
    # and a catalog of schema 2 without the part column
    db = sqlite3.connect(tmp_path / "catalog.sqlite")
    for did, path, part in db.execute(
        "SELECT delete_file_id, path, part FROM cl_delete_files"
    ).fetchall():
        rows = pq.read_table(tmp_path / _ROOT / path)
        mine = rows.filter(pc.equal(rows.column("f"), part)).select(["pos", "q"])
        old = f"{Path(path).parent.as_posix()}/del-{did}.parquet"
        pq.write_table(mine, tmp_path / _ROOT / old)
        size = (tmp_path / _ROOT / old).stat().st_size
        db.execute(
            "UPDATE cl_delete_files SET path = ?, byte_size = ? WHERE delete_file_id = ?",
            (old, size, did),
        )
    db.execute("ALTER TABLE cl_delete_files DROP COLUMN part")
    db.execute("UPDATE cl_meta SET value = '2' WHERE key = 'schema_version'")
    db.commit()
    db.close()

    con = chronolake.connect(tmp_path)
    assert _rows(con, "SELECT id, v FROM t") == expected
    assert _rows(con, "SELECT id, v FROM t AT(STATEMENT => ?)", [qid]) == at_delete
    assert _db(tmp_path, "SELECT DISTINCT part FROM cl_delete_files") == [(None,)]
    # new statements merge the old per-file positions into a shared file
    con.execute("DELETE FROM t WHERE id % 10 = 3")
    assert _rows(con, "SELECT id, v FROM t") == [r for r in expected if r[0] % 10 != 3]
    con.execute(f"REVERT STATEMENT '{qid}'")
    undeleted = [(i, f"v{i // 5000}") for i in range(1, 15_000, 10)]
    final = sorted([r for r in expected if r[0] % 10 != 3] + undeleted)
    assert _rows(con, "SELECT id, v FROM t") == final


def test_a_delete_file_lists_only_the_statements_its_positions_name(lake_spec: LakeSpec) -> None:
    con = _three_files(lake_spec)
    # statements touching different sets of files: a part copied from a shared file must not
    # carry the other parts' statements along
    for sql in (
        "DELETE FROM t WHERE id IN (1, 5001)",
        "DELETE FROM t WHERE id IN (2)",
        "DELETE FROM t WHERE id IN (3, 10003)",
        "DELETE FROM t WHERE id IN (10004)",
        "UPDATE t SET v = 'u' WHERE id IN (4, 10005)",
    ):
        con.execute(sql)
    for (path,) in _db(lake_spec, "SELECT DISTINCT path FROM cl_delete_files"):
        q = lake_spec.parquet_table(str(path), ["q"], read_dictionary=["q"]).column("q")
        listed = set(q.combine_chunks().dictionary.to_pylist())
        assert listed == set(q.to_pylist()), path
    assert con.execute("SELECT count(*) FROM t").fetchone() == (14_994,)
