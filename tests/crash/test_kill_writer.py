"""Kill a writer at chosen steps: the lake stays at a committed snapshot (ARCHITECTURE.md
invariant 1).

A child process (writer.py) runs autocommitted INSERT / UPDATE / DELETE statements and explicit
multi-table transactions. It reports every step (about to run an operation, a statement of a
transaction ran, inside the catalog commit before and after writing its rows, the operation
committed) and waits; the parent SIGKILLs it at a step chosen from a fixed seed, so where it
dies never depends on the machine's speed. Each round kills at another kind of step. After each
kill the parent reopens the lake and checks:

* the lake opens and can be read;
* every operation the child reported as committed is visible, and the one it was killed in is
  entirely absent unless it was killed after it reported "done" (100-row batches with one
  value each, and a second table written in the same transaction, make partial effects
  detectable);
* every reported query id resolves to the snapshot it produced; snapshot ids are contiguous,
  commit times strictly increasing, and there is exactly one snapshot per committed operation;
* every file the catalog references exists and is a complete Parquet file with the row count
  the catalog recorded; files on disk the catalog does not reference are orphans: only an
  operation killed between writing its files and committing can leave them (at most the four
  files one operation here writes), and they do not change what reads return.

CHRONOLAKE_CRASH_ROUNDS (default 8) sets the number of kills, CHRONOLAKE_CRASH_SEED (default
12) the seed.
"""

from __future__ import annotations

import itertools
import os
import random
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
from child_events import kill_at
from lake_forms import LakeSpec

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


def read_state(lake: LakeSpec) -> tuple[Model, list[tuple[Any, ...]]]:
    """(model as read, batches of B that are not exactly 100 rows with one value)."""
    with lake.connect() as con:
        rows = con.execute(
            "SELECT batch, count(*), count(DISTINCT v), min(v), count(DISTINCT i) "
            "FROM B GROUP BY batch"
        ).fetchall()
        c_rows = con.execute("SELECT batch, count(*) FROM C GROUP BY batch").fetchall()
    bad = [r for r in rows if r[1:3] != (B_ROWS, 1) or r[4] != B_ROWS]
    return ({r[0]: r[3] for r in rows}, {r[0]: r[1] for r in c_rows}), bad


def catalog_rows(lake: LakeSpec, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    return lake.catalog_rows(sql, **params)


def check_files(lake: LakeSpec) -> set[str]:
    """Referenced files exist and are complete; returns the orphans."""
    on_disk = {p for p in lake.list_files() if ".tmp" not in p.split("/")}
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
        meta = lake.parquet_metadata(path)  # a torn file has no valid footer
        assert meta.num_rows == count, (path, meta.num_rows, count)
    for path, count, part in deletes:  # a statement's delete file: a part per data file
        parts = lake.parquet_table(path, ["f"]).column("f")
        assert pc.sum(pc.equal(parts, part)).as_py() == count, (path, part, count)
    orphans = on_disk - referenced
    # an orphan is exactly a file no catalog row (current or historical) names
    assert not orphans & referenced
    return orphans


# where a round kills: before an operation, between the statements of a transaction, in the
# catalog commit before / after writing its rows, after the operation committed
WHERES = ("start", "stmt", "commit.begin", "commit.write", "done")
UNCOMMITTED = {"stmt", "commit.begin", "commit.write"}  # its files written, nothing committed


def point(event: dict[str, Any]) -> str:
    for key in ("ready", "start", "stmt", "done"):
        if key in event:
            return key
    return str(event["step"])


def run_round(
    lake: LakeSpec, first_batch: int, seed: int, target: tuple[str, str], skip: int, log: Path
) -> list[dict[str, Any]]:
    """Run a writer and kill it at the ``skip``+1-th step ``target`` = (kind, where)."""
    return kill_at(WRITER, [lake.to_arg(), str(first_batch), str(seed)], log, target, skip, point)


def test_sigkill_leaves_a_committed_snapshot(tmp_path: Path, lake_spec: LakeSpec) -> None:
    lake = lake_spec
    with lake.connect() as con:
        con.execute("CREATE TABLE B (batch INT, i INT, v VARCHAR)")
        con.execute("CREATE TABLE C (batch INT, i INT)")
    model: Model = ({}, {})
    committed_ops = 2  # the two CREATE TABLEs
    reported: list[tuple[str, Model]] = []  # (query id, state right after it)
    rounds = int(os.environ.get("CHRONOLAKE_CRASH_ROUNDS", "8"))
    seed0 = int(os.environ.get("CHRONOLAKE_CRASH_SEED", "12"))
    rng = random.Random(seed0)
    known_orphans: set[str] = set()
    stats: list[str] = []
    for rnd in range(rounds):
        where = WHERES[rnd % len(WHERES)]
        kind = "txn" if where == "stmt" else rng.choice(["insert", "update", "delete", "txn"])
        skip = rng.randrange(2)
        seed = rng.randrange(1 << 30)
        ctx = f"(seed {seed0}, round {rnd}, killed at {kind} {where} after {skip} like it)"
        events = run_round(
            lake, (rnd + 1) * 10_000, seed, (kind, where), skip, tmp_path / f"writer{rnd}.log"
        )
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
        assert point(events[-1]) == where, ctx
        state, bad = read_state(lake)
        assert not bad, f"partially applied statements {ctx}: {bad}"
        # exactly the committed operations: nothing of one killed before its commit ended
        assert state == model, (
            f"state is not the committed one {ctx} (in flight: {in_flight}):\n"
            f"read     {state}\nexpected {model}"
        )

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
                "WHERE tenant_id = 'default' AND query_id = :qid",
                qid=qid,
            )
            assert row and row[0][0] is not None, f"statement {qid} not recorded {ctx}"
            produced.append(row[0][0])
        assert produced == sorted(set(produced)), ctx

        orphans = check_files(lake)
        new_orphans = orphans - known_orphans
        known_orphans = orphans
        # only an operation killed after writing files and before committing leaves files
        # behind: no more than the four a transaction here writes (B and C rows, a delete file
        # and the updated rows)
        if where not in UNCOMMITTED:
            assert not new_orphans, f"orphans with no statement interrupted {ctx} {events[-3:]}"
        assert len(new_orphans) <= 4, f"{sorted(new_orphans)} {ctx}"
        if where in UNCOMMITTED and kind in ("insert", "txn"):  # its new rows' file is left
            assert new_orphans, f"no file left by the uncommitted {in_flight} {ctx}"
        stats.append(f"{kind}@{where}:{len(new_orphans)}")

        # time travel to the last few reported statements shows exactly their state
        with lake.connect() as con:
            for qid, expected in reported[-3:]:
                got = con.execute(
                    "SELECT batch, min(v) FROM B AT(STATEMENT => ?) GROUP BY batch", [qid]
                ).fetchall()
                assert dict(got) == expected[0], f"AT(STATEMENT => {qid}) {ctx}"

    assert reported, "the writer never committed anything"
    print("killed at (kind@step:new orphans)", stats, len(reported), "reported")

    # the lake still takes writes after the last kill, and the orphans do not get in the way
    with lake.connect() as con:
        con.execute("INSERT INTO C VALUES (-1, 0)")
        assert con.execute("SELECT count(*) FROM C WHERE batch = -1").fetchone() == (1,)
    state, bad = read_state(lake)
    assert not bad
    assert state == (model[0], {**model[1], -1: 1})
