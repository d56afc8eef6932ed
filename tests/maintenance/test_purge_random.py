"""Random histories: the files expiry marks are exactly those a brute-force reachability over
the catalog says no reachable point needs, at several moments of each history."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from purge_helpers import Clock, answers, brute_needed, catalog, referenced

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


@pytest.mark.parametrize("seed", list(range(1, 11)))
def test_expiry_matches_brute_force(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    clock = Clock()
    con = chronolake.connect(tmp_path, clock=clock)
    for name in NAMES:
        con.execute(f"CREATE TABLE {name} (id INT, v VARCHAR)")
    cat = catalog(tmp_path)
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
    root = con._session.layout.tenant_root(con.tenant)
    on_disk = {p.relative_to(root).as_posix() for p in root.rglob("*.parquet")}
    now = int(clock.now.timestamp() * 1_000_000)
    expected = referenced(cat, "default") - brute_needed(cat, "default", now)
    before = answers(con, now)
    expire(con)
    assert set(cleanup(con, grace=0).paths) == expected
    assert {p.relative_to(root).as_posix() for p in root.rglob("*.parquet")} == on_disk - expected
    assert answers(con, now) == before
    con.close()
