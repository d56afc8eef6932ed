"""Four processes write the same tables at once (SEMANTICS.md section 5, ARCHITECTURE.md
invariant 3).

Workers (worker.py) are released together and run 40 operations each: autocommitted appends and
counter increments (with automatic retries off, or on), explicit BEGIN / UPDATE / INSERT /
COMMIT transactions, and append-only transactions. Each records what it committed (with the
query id that committed it) and every ConflictError it saw; any other exception fails the run.

Afterwards:
* every appended row of a successful statement or transaction is present, exactly once, and
  nothing of a transaction that lost a conflict is visible;
* no increment is lost: each counter equals the number of successful increments of it, its
  ``last`` column was written by the increment that committed last, and reading the counter
  AT each increment's statement shows the count of increments committed up to it;
* snapshot ids are contiguous, there is one per successful write, and commit times are strictly
  increasing with the snapshot id;
* appends never conflict; conflicts are ``chronolake.ConflictError`` with ``retryable`` True,
  name the table and the winning snapshot (one that changed that table), and in the
  update-heavy scenario at least one happens: twice, the two txn workers each hold a
  transaction that incremented counter 0 until both do (they report it and wait for the
  parent), so one of the two must lose. Everything else runs free, in whatever order the
  machine gives.
"""

from __future__ import annotations

import itertools
import json
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from child_events import Child
from lake_forms import connect_at
from sqlalchemy import create_engine, text
from worker import rendezvous

import chronolake

HERE = Path(__file__).resolve().parent
WORKER = HERE / "worker.py"
N_OPS = int(os.environ.get("CHRONOLAKE_CONCURRENCY_OPS", "40"))
N_COUNTERS = 3


@dataclass(frozen=True)
class Lake:
    """A lake under test: its folder, and its catalog URL (None: SQLite in the folder)."""

    path: Path
    catalog: str | None

    def connect(self) -> chronolake.Connection:
        return connect_at(self.path, catalog=self.catalog)


@pytest.fixture(params=["sqlite", "postgresql"])
def lake(request: pytest.FixtureRequest, tmp_path: Path) -> Lake:
    url = request.getfixturevalue("pg_catalog") if request.param == "postgresql" else None
    return Lake(tmp_path / "lake", url)


def setup_lake(lake: Lake) -> int:
    """Create the tables; return the number of snapshots this took."""
    with lake.connect() as con:
        con.execute("CREATE TABLE APPEND_LOG (worker INT, seq INT, payload VARCHAR)")
        con.execute("CREATE TABLE COUNTERS (k INT, val INT, last VARCHAR)")
        values = ", ".join(f"({k}, 0, 'init')" for k in range(N_COUNTERS))
        con.execute(f"INSERT INTO COUNTERS VALUES {values}")  # one data file for all counters
    return 3


def run_workers(lake: Lake, modes: list[str], tmp: Path) -> list[list[dict[str, Any]]]:
    children: list[Child] = []
    try:
        for w, mode in enumerate(modes):
            args = [str(lake.path), str(w), mode, str(N_OPS), str(1000 + w)]
            args += [str(tmp / f"w{w}.json"), lake.catalog or ""]
            children.append(Child(WORKER, args, tmp / f"worker{w}.err"))
        for child in children:
            assert child.next_event() == {"ready": True}
        for child in children:
            child.resume()
        holders = [c for c, mode in zip(children, modes, strict=True) if mode == "txn"]
        for i in rendezvous(N_OPS) if len(holders) > 1 else ():
            for child in holders:  # every txn worker holds an increment of counter 0 ...
                assert child.next_event() == {"holding": i}
            for child in holders:  # ... before any of them commits
                child.resume()
        for w, child in enumerate(children):
            rc = child.wait()
            assert rc == 0, f"worker {w} ({modes[w]}) failed:\n{child.log.read_text()}"
    finally:
        for child in children:
            child.close()
    return [json.loads((tmp / f"w{w}.json").read_text()) for w in range(len(modes))]


def catalog(lake: Lake, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """Rows of a query on the lake's catalog database (``:name`` parameters)."""
    engine = create_engine(lake.catalog or f"sqlite:///{lake.path / 'catalog.sqlite'}")
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql), params)]
    finally:
        engine.dispose()


def check_common(
    lake: Lake, results: list[list[dict[str, Any]]], setup_snaps: int
) -> dict[str, int]:
    """Checks shared by both scenarios; returns query id -> snapshot for successful writes."""
    records = [r for rs in results for r in rs]
    ok = [r for r in records if r["conflict"] is None]

    # conflicts: the right class, retryable, naming the table and a snapshot; never on appends
    for r in records:
        c = r["conflict"]
        if c is None:
            continue
        assert c["cls"] == "ConflictError" and c["is_conflict_error"] and c["is_error"], c
        assert c["retryable"] is True, c
        assert r["op"] != "append", f"an append conflicted: {r}"
        assert c["table"] == "COUNTERS" and "COUNTERS" in c["msg"], c
        assert isinstance(c["snapshot"], int) and c["snapshot"] > setup_snaps, c

    # snapshots: contiguous, strictly increasing commit times, one per successful write
    snaps = catalog(
        lake,
        "SELECT snapshot_id, commit_time, query_id FROM cl_snapshots "
        "WHERE tenant_id = 'default' ORDER BY snapshot_id",
    )
    ids = [s[0] for s in snaps]
    assert ids == list(range(1, len(ids) + 1))
    times = [s[1] for s in snaps]
    bad = [(a, b) for a, b in itertools.pairwise(snaps) if not a[1] < b[1]]
    assert not bad, f"commit times not strictly increasing: {bad[:5]}"
    assert len(snaps) == setup_snaps + len(ok), (len(snaps), setup_snaps, len(ok))
    assert times == sorted(times)

    # every successful write's query id produced its own snapshot
    produced: dict[str, int] = {}
    for r in ok:
        row = catalog(
            lake,
            "SELECT produced_snapshot, execution_status FROM cl_statements "
            "WHERE tenant_id = 'default' AND query_id = :qid",
            qid=r["qid"],
        )
        assert row and row[0][0] is not None and row[0][1] == "SUCCESS", (r, row)
        produced[r["qid"]] = int(row[0][0])
    assert len(set(produced.values())) == len(ok), "two writes share a snapshot"
    by_snapshot = {s[0]: s[2] for s in snaps}
    for qid, snap in produced.items():
        assert by_snapshot[snap] == qid, (qid, snap, by_snapshot[snap])

    # appended rows: all of the successful ones, exactly once, nothing else
    expected = Counter(tuple(row) for r in ok for row in r["rows"])
    with lake.connect() as con:
        got = Counter(con.execute("SELECT worker, seq FROM APPEND_LOG").fetchall())
    missing = expected - got
    extra = got - expected
    assert not missing, f"committed rows lost: {sorted(missing)[:10]}"
    assert not extra, f"rows of failed writes (or duplicates) visible: {sorted(extra)[:10]}"
    return produced


def test_four_writers_update_and_append(lake: Lake, tmp_path: Path) -> None:
    setup = setup_lake(lake)
    results = run_workers(lake, ["auto0", "auto3", "txn", "txn"], tmp_path)
    produced = check_common(lake, results, setup)
    records = [r for rs in results for r in rs]
    increments = [r for r in records if r["op"] in ("update", "txn") and r["conflict"] is None]
    conflicts = [r for r in records if r["conflict"] is not None]

    # a conflict names a winning snapshot that really changed COUNTERS
    counter_snaps = {produced[r["qid"]] for r in increments} | {3}
    for r in conflicts:
        assert r["conflict"]["snapshot"] in counter_snaps, r

    with lake.connect() as con:
        final = {k: (v, last) for k, v, last in con.execute("SELECT k, val, last FROM COUNTERS")}
        assert sorted(final) == list(range(N_COUNTERS)), final
        for k in range(N_COUNTERS):
            mine = sorted((r for r in increments if r["k"] == k), key=lambda r: produced[r["qid"]])
            last = mine[-1]["last"] if mine else "init"
            assert final[k] == (len(mine), last), (
                f"counter {k}: {final[k]}, expected {len(mine)} increments, last {last}"
            )
            # in commit order, the j-th increment sees exactly j increments
            for j, r in enumerate(mine, start=1):
                got = con.execute(
                    "SELECT val, last FROM COUNTERS AT(STATEMENT => ?) WHERE k = ?", [r["qid"], k]
                ).fetchall()
                assert got == [(j, r["last"])], (k, j, r, got)

    per_worker = [sum(r["conflict"] is not None for r in rs) for rs in results]
    assert conflicts, (
        "no write-write conflict in the update-heavy scenario: the workers never overlapped "
        f"(conflicts per worker {per_worker})"
    )


def test_four_writers_append_only_never_conflict(lake: Lake, tmp_path: Path) -> None:
    setup = setup_lake(lake)
    results = run_workers(lake, ["append", "append", "auto0", "append"], tmp_path)
    # auto0 also increments counters, alone: nobody else updates, so it never conflicts either
    check_common(lake, results, setup)
    conflicts = [r for rs in results for r in rs if r["conflict"] is not None]
    assert not conflicts, conflicts
