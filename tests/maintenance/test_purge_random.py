"""Random histories: the files expiry marks are exactly those a brute-force reachability over
the catalog says no reachable point needs, at several moments of each history."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from lake_forms import make_spec
from purge_helpers import Clock, answers, brute_needed, referenced

import chronolake
from chronolake.errors import Error
from chronolake.maintenance import cleanup, expire

NAMES = ("t0", "t1", "t2")


def _step(con: chronolake.Connection, clock: Clock, rng: random.Random, n: int) -> None:
    name = rng.choice(NAMES)
    other = rng.choice(NAMES)
    op = rng.choice(
        [
            "insert",
            "insert",
            "delete",
            "update",
            "clone",
            "drop",
            "undrop",
            "replace",
            "compact",
            "restore",
            "retention",
            "sleep",
            "sleep",
        ]
    )
    days = rng.choice([0, 1, 2])
    sqls = {
        "insert": f"INSERT INTO {name} SELECT range, 'v{n}' FROM range({n * 10}, {n * 10 + 5})",
        "delete": f"DELETE FROM {name} WHERE id % 4 = {n % 4}",
        "update": f"UPDATE {name} SET v = 'u{n}' WHERE id % 3 = {n % 3}",
        "clone": f"CREATE OR REPLACE TABLE {other} CLONE {name}",
        "drop": f"DROP TABLE {name}",
        "undrop": f"UNDROP TABLE {name}",
        "replace": f"CREATE OR REPLACE TABLE {name} (id INT, v VARCHAR)",
        "retention": f"ALTER TABLE {name} SET DATA_RETENTION_TIME_IN_DAYS = {days}",
    }
    try:
        if op == "sleep":
            clock.sleep(rng.choice([0.3, 0.7, 1.2]))
        elif op == "compact":
            con.compact_table(name, min_age_s=0, max_deleted_ratio=0.01)
        elif op == "restore":
            con.restore_table(name, f"offset:-{rng.choice([60, 3600, 40_000])}")
        else:
            con.execute(sqls[op])
    except Error:
        pass  # a table that does not exist, a point out of retention: fine


# every seed on the embedded form; one on the shared form (PostgreSQL + S3), where the same
# reachability runs on another catalog database and the files go from an S3 prefix
CASES = [("local", seed) for seed in range(1, 11)] + [("shared", 3)]


@pytest.mark.parametrize(("form", "seed"), CASES)
def test_expiry_matches_brute_force(
    tmp_path: Path, form: str, seed: int, request: pytest.FixtureRequest
) -> None:
    rng = random.Random(seed)
    clock = Clock()
    lake = make_spec(form, tmp_path / "lake", request)
    con = lake.connect(clock=clock)
    for name in NAMES:
        con.execute(f"CREATE TABLE {name} (id INT, v VARCHAR)")
    cat = con.session.catalog
    marked = 0
    for n in range(80):
        _step(con, clock, rng, n)
        if n % 20 == 19:
            clock.sleep(0.01)
            now = int(clock.now.timestamp() * 1_000_000)
            expected = referenced(cat, "default") - brute_needed(cat, "default", now)
            got = expire(con, dry_run=True)
            assert set(got.paths) == expected, (seed, n)
            marked += len(expected)
    assert marked > 0
    # and a real expiry + cleanup deletes exactly those, with every reachable answer unchanged
    on_disk = set(lake.list_files())
    now = int(clock.now.timestamp() * 1_000_000)
    expected = referenced(cat, "default") - brute_needed(cat, "default", now)
    before = answers(con, now)
    expire(con)
    assert set(cleanup(con, grace=0).paths) == expected
    assert set(lake.list_files()) == on_disk - expected
    assert answers(con, now) == before
    con.close()
