"""States made of many small files read their rows from memory, with the same answers as
reading every file: time travel, deletes, schema changes, clones, row ids and change feeds."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from lake_forms import LakeSpec

import chronolake
from chronolake.engine import small_files


@pytest.fixture(params=["memory", "files"])
def mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run each test once with small files served from memory and once read from Parquet."""
    small_files.CACHE.clear()
    if request.param == "files":
        monkeypatch.setattr(small_files, "SMALL_FILE_ROWS", 0)
    else:
        monkeypatch.setattr(small_files, "MIN_SMALL_FILES", 2)
    yield request.param
    small_files.CACHE.clear()


def _small_inserts(con: chronolake.Connection, n: int) -> list[str]:
    con.execute("CREATE TABLE ev (id BIGINT, payload VARCHAR, doc VARIANT)")
    qids = []
    for i in range(n):
        con.execute("INSERT INTO ev SELECT ?, ?, PARSE_JSON(?)", [i, f"p{i}", f'{{"k": {i}}}'])
        qids.append(con.execute("SELECT LAST_QUERY_ID()").fetchone()[0])
    return qids


def test_every_version_of_many_small_commits(lake_spec: LakeSpec, mode: str) -> None:
    con = lake_spec.connect()
    qids = _small_inserts(con, 12)
    for k in (0, 5, 11):
        q = "SELECT count(*), sum(id) FROM ev AT(STATEMENT => ?)"
        assert con.execute(q, [qids[k]]).fetchone() == (k + 1, sum(range(k + 1)))
    assert (len(small_files.CACHE) > 0) == (mode == "memory")
    # VARIANT stays VARIANT whether its rows come from memory or from files
    assert con.execute("SELECT doc:k::int FROM ev WHERE id = 7").fetchone() == (7,)
    assert con.execute("SELECT typeof(doc) FROM ev LIMIT 1").fetchone()[0] in ("JSON", "VARIANT")


def test_deletes_updates_and_row_ids(lake_spec: LakeSpec, mode: str) -> None:
    con = lake_spec.connect()
    qids = _small_inserts(con, 10)
    con.execute("DELETE FROM ev WHERE id IN (2, 3)")
    con.execute("UPDATE ev SET payload = 'changed' WHERE id = 5")
    rows = con.execute("SELECT id, payload FROM ev ORDER BY id").fetchall()
    assert [r[0] for r in rows] == [0, 1, 4, 5, 6, 7, 8, 9]
    assert dict(rows)[5] == "changed"
    before = con.execute("SELECT count(*) FROM ev AT(STATEMENT => ?)", [qids[-1]]).fetchone()
    assert before == (10,)
    feed = con.execute(
        "SELECT id, METADATA$ACTION, METADATA$ISUPDATE FROM ev "
        "CHANGES(INFORMATION => DEFAULT) AT(STATEMENT => ?) ORDER BY id, METADATA$ACTION",
        [qids[-1]],
    ).fetchall()
    assert feed == [
        (2, "DELETE", False),
        (3, "DELETE", False),
        (5, "DELETE", True),
        (5, "INSERT", True),
    ]


def test_schema_changes_map_old_small_files(lake_spec: LakeSpec, mode: str) -> None:
    con = lake_spec.connect()
    _small_inserts(con, 9)
    con.execute("ALTER TABLE ev ADD COLUMN score INT DEFAULT 7")
    con.execute("ALTER TABLE ev RENAME COLUMN payload TO body")
    con.execute("INSERT INTO ev (id, body, score) VALUES (100, 'new', 1)")
    rows = con.execute("SELECT id, body, score FROM ev WHERE id IN (0, 8, 100) ORDER BY id")
    assert rows.fetchall() == [(0, "p0", 7), (8, "p8", 7), (100, "new", 1)]


def test_clone_and_restore_share_small_files(lake_spec: LakeSpec, mode: str) -> None:
    con = lake_spec.connect()
    qids = _small_inserts(con, 10)
    con.execute("CREATE TABLE ev2 CLONE ev AT(STATEMENT => ?)", [qids[5]])
    con.execute("DELETE FROM ev2 WHERE id < 3")
    assert con.execute("SELECT count(*), min(id) FROM ev2").fetchone() == (3, 3)
    assert con.execute("SELECT count(*), min(id) FROM ev").fetchone() == (10, 0)
    con.execute("RESTORE TABLE ev TO AT(STATEMENT => ?)", [qids[3]])
    assert con.execute("SELECT count(*) FROM ev").fetchone() == (4,)


def test_the_cache_is_shared_and_bounded(lake_spec: LakeSpec, mode: str) -> None:
    con = lake_spec.connect()
    _small_inserts(con, 10)
    con.execute("SELECT count(*) FROM ev").fetchall()
    other = lake_spec.connect()
    assert other.execute("SELECT count(*) FROM ev").fetchone() == (10,)
    small_files.CACHE.rows.max_weight = 0  # all but the newest evicted; reads still answer
    try:
        con.execute("INSERT INTO ev VALUES (99, 'x', NULL)")
        assert other.execute("SELECT count(*), max(id) FROM ev").fetchone() == (11, 99)
    finally:
        small_files.CACHE.rows.max_weight = small_files.CACHE_BYTES


def test_views_of_many_versions_keep_their_memory_bounded(
    lake_spec: LakeSpec, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    con = lake_spec.connect()
    qids = _small_inserts(con, 12)
    views = con._session.views
    held = views._memory
    one_state = 0
    for k, q in enumerate(qids):
        # a statement reading two states keeps both views while it runs
        sql = "SELECT (SELECT count(*) FROM ev AT(STATEMENT => ?)), (SELECT count(*) FROM ev)"
        assert con.execute(sql, [q]).fetchone() == (k + 1, 12)
        one_state = max(one_state, *held.values(), 0)
        if k == 3:
            monkeypatch.setattr(small_files, "VIEW_BYTES", one_state)
    if mode == "memory":
        assert one_state > 0
        assert sum(held.values()) <= one_state  # older views were dropped between statements
    else:
        assert held == {}
    assert con.execute("SELECT count(*) FROM ev AT(STATEMENT => ?)", [qids[2]]).fetchone() == (3,)
