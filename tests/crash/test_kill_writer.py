"""Kill a writer at random moments: the lake stays at a committed snapshot (ARCHITECTURE.md
invariant 1).

A child process (writer.py) runs autocommitted INSERT / UPDATE / DELETE statements and explicit
multi-table transactions, announcing each operation before it runs and reporting its query id
after it committed. The parent SIGKILLs it at a random moment, several times, and after each
kill reopens the lake and checks:

* the lake opens and can be read;
* every operation the child reported as committed is visible, and the one it was running when
  killed is either entirely visible or entirely absent (100-row batches with one value each,
  and a second table written in the same transaction, make partial effects detectable);
* every reported query id resolves to the snapshot it produced; snapshot ids are contiguous,
  commit times strictly increasing, and there is exactly one snapshot per committed operation;
* every file the catalog references exists and is a complete Parquet file with the row count
  the catalog recorded; files on disk the catalog does not reference are orphans: only the
  interrupted statement can leave them (none when the kill fell between statements, at most the
  four files one operation here writes), and they do not change what reads return.

CHRONOLAKE_CRASH_ROUNDS (default 6) sets the number of kills.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pyarrow.parquet as pq

import chronolake

HERE = Path(__file__).resolve().parent
WRITER = HERE / "writer.py"
B_ROWS, C_ROWS = 100, 10

Model = tuple[dict[int, str], dict[int, int]]  # B: batch -> v ; C: batch -> rows


def apply(model: Model, op: dict[str, Any]) -> Model:
    b, c = dict(model[0]), dict(model[1])
    kind = op["kind"]
    if kind in ("insert", "update"):
        b[op["batch"]] = op["v"]
    elif kind == "delete":
        del b[op["batch"]]
    elif kind == "txn":
        b[op["batch"]] = op["v"]
        c[op["batch"]] = C_ROWS
        b[op["update"]] = op["uv"]
    else:  # pragma: no cover
        raise AssertionError(op)
    return b, c


def read_state(lake: Path) -> tuple[Model, list[tuple[Any, ...]]]:
    """(model as read, batches of B that are not exactly 100 rows with one value)."""
    with chronolake.connect(lake) as con:
        rows = con.execute(
            "SELECT batch, count(*), count(DISTINCT v), min(v), count(DISTINCT i) "
            "FROM B GROUP BY batch"
        ).fetchall()
        c_rows = con.execute("SELECT batch, count(*) FROM C GROUP BY batch").fetchall()
    bad = [r for r in rows if r[1:3] != (B_ROWS, 1) or r[4] != B_ROWS]
    return ({r[0]: r[3] for r in rows}, {r[0]: r[1] for r in c_rows}), bad


def catalog_rows(lake: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    cat = sqlite3.connect(f"file:{lake / 'catalog.sqlite'}?mode=ro", uri=True)
    try:
        return cat.execute(sql, params).fetchall()
    finally:
        cat.close()


def check_files(lake: Path) -> set[str]:
    """Referenced files exist and are complete; returns the orphans."""
    root = lake / "data" / "default"
    on_disk = {
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and ".tmp" not in p.relative_to(root).parts
    }
    data = catalog_rows(
        lake, "SELECT path, row_count FROM cl_data_files WHERE tenant_id = 'default'"
    )
    deletes = catalog_rows(
        lake,
        "SELECT path, delete_count, part FROM cl_delete_files WHERE tenant_id = 'default'",
    )
    referenced = {p for p, _ in data} | {p for p, _, _ in deletes}
    missing = sorted(referenced - on_disk)
    assert not missing, f"the catalog references files that do not exist: {missing}"
    for path, count in data:
        meta = pq.read_metadata(root / path)  # a torn file has no valid footer
        assert meta.num_rows == count, (path, meta.num_rows, count)
    for path, count, part in deletes:  # a statement's delete file: a part per data file
        parts = pq.read_table(root / path, columns=["f"]).column("f")
        assert pc.sum(pc.equal(parts, part)).as_py() == count, (path, part, count)
    orphans = on_disk - referenced
    # an orphan is exactly a file no catalog row (current or historical) names
    assert not orphans & referenced
    return orphans


def run_round(
    lake: Path, first_batch: int, seed: int, delay: float, log: Path
) -> list[dict[str, Any]]:
    with (
        log.open("w") as err,
        subprocess.Popen(
            [sys.executable, str(WRITER), str(lake), str(first_batch), str(seed)],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        ) as proc,
    ):
        try:
            assert proc.stdout is not None
            first = proc.stdout.readline()
            if not first:
                proc.wait(timeout=30)
                raise AssertionError(f"writer did not start: {log.read_text()}")
            assert json.loads(first) == {"ready": True}
            time.sleep(delay)
            if proc.poll() is not None:
                raise AssertionError(f"writer died by itself: {log.read_text()}")
            proc.send_signal(signal.SIGKILL)
            # read through the same buffered reader readline() used: it may hold lines already
            out = proc.stdout.read()
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, log.read_text())
    events = []
    lines = out.splitlines()
    for n, line in enumerate(lines):
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            # the kill can cut the last line short (a report, not a commit); nothing else
            assert n == len(lines) - 1, line
    return events


def test_sigkill_leaves_a_committed_snapshot(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    with chronolake.connect(lake) as con:
        con.execute("CREATE TABLE B (batch INT, i INT, v VARCHAR)")
        con.execute("CREATE TABLE C (batch INT, i INT)")
    model: Model = ({}, {})
    committed_ops = 2  # the two CREATE TABLEs
    reported: list[tuple[str, Model]] = []  # (query id, state right after it)
    rounds = int(os.environ.get("CHRONOLAKE_CRASH_ROUNDS", "6"))
    rng = random.Random()
    seed0 = rng.randrange(1 << 30)
    rng.seed(seed0)
    known_orphans: set[str] = set()
    stats: list[str] = []
    for rnd in range(rounds):
        delay = rng.uniform(0.05, 0.6)
        seed = rng.randrange(1 << 30)
        ctx = f"(seed {seed0}, round {rnd}, delay {delay:.3f}s)"
        events = run_round(lake, (rnd + 1) * 10_000, seed, delay, tmp_path / f"writer{rnd}.log")
        in_flight: dict[str, Any] | None = None
        for ev in events:
            if "start" in ev:
                assert in_flight is None, ctx
                in_flight = ev["start"]
            elif "done" in ev:
                assert ev["done"] == in_flight, ctx
                model = apply(model, ev["done"])
                committed_ops += 1
                reported.append((ev["qid"], model))
                in_flight = None
        state, bad = read_state(lake)
        assert not bad, f"partially applied statements {ctx}: {bad}"
        interrupted_committed = state != model
        if state != model:
            assert in_flight is not None, f"lost or unexpected changes {ctx}"
            after = apply(model, in_flight)
            assert state == after, (
                f"state is neither before nor after the interrupted {in_flight} {ctx}:\n"
                f"read   {state}\nbefore {model}\nafter  {after}"
            )
            model = after
            committed_ops += 1

        # snapshots: contiguous, strictly increasing times, one per committed operation
        snaps = catalog_rows(
            lake,
            "SELECT snapshot_id, commit_time FROM cl_snapshots WHERE tenant_id = 'default' "
            "ORDER BY snapshot_id",
        )
        assert [s for s, _ in snaps] == list(range(1, len(snaps) + 1)), ctx
        times = [t for _, t in snaps]
        assert all(a < b for a, b in itertools.pairwise(times)), ctx
        assert len(snaps) == committed_ops, (
            f"{len(snaps)} snapshots for {committed_ops} committed operations {ctx}"
        )

        # every reported query id produced a snapshot, in order
        produced = []
        for qid, _ in reported:
            row = catalog_rows(
                lake,
                "SELECT produced_snapshot FROM cl_statements "
                "WHERE tenant_id = 'default' AND query_id = ?",
                (qid,),
            )
            assert row and row[0][0] is not None, f"statement {qid} not recorded {ctx}"
            produced.append(row[0][0])
        assert produced == sorted(set(produced)), ctx

        orphans = check_files(lake)
        new_orphans = orphans - known_orphans
        known_orphans = orphans
        # only the statement the kill interrupted can leave files behind: no more than the
        # four a transaction here writes (B and C rows, a delete file and the updated rows)
        if in_flight is None:
            assert not new_orphans, f"orphans with no statement interrupted {ctx} {events[-3:]}"
        assert len(new_orphans) <= 4, f"{sorted(new_orphans)} {ctx}"
        stats.append(
            (in_flight or {}).get("kind", "-")
            + ("+" if interrupted_committed else "")
            + f":{len(new_orphans)}"
        )

        # time travel to the last few reported statements shows exactly their state
        with chronolake.connect(lake) as con:
            for qid, expected in reported[-3:]:
                got = con.execute(
                    "SELECT batch, min(v) FROM B AT(STATEMENT => ?) GROUP BY batch", [qid]
                ).fetchall()
                assert dict(got) == expected[0], f"AT(STATEMENT => {qid}) {ctx}"

    assert reported, "the writer never committed anything: delays too short?"
    print("interrupted (+ = it committed) : new orphans", stats, len(reported), "reported")

    # the lake still takes writes after the last kill, and the orphans do not get in the way
    with chronolake.connect(lake) as con:
        con.execute("INSERT INTO C VALUES (-1, 0)")
        assert con.execute("SELECT count(*) FROM C WHERE batch = -1").fetchone() == (1,)
    state, bad = read_state(lake)
    assert not bad
    assert state == (model[0], {**model[1], -1: 1})
