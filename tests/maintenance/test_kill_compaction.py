"""SIGKILL a process in the middle of compactions: nothing is lost (ARCHITECTURE.md
invariants 1 and 5).

A child (compactor.py) inserts, updates and, most of the time, compacts one table, reporting
every step (about to run an operation, inside the catalog commit before and after writing its
rows, the operation returned) and waiting. The parent kills it at a step chosen from a fixed
seed, mostly inside compactions, never after a delay; after each kill it checks that:

* the table holds exactly the committed inserts and updates (nothing of one killed before its
  commit ended);
* every snapshot that existed before the round reads exactly what it read then, rows and row
  ids (CHANGES(DEFAULT) from the table's creation), whatever compactions committed or died;
* every file the catalog references exists with the row count it recorded (a compaction never
  deletes a file), and each compaction that reported its snapshot is a COMPACT snapshot;
* the lake takes writes and compactions again afterwards.

CHRONOLAKE_CRASH_ROUNDS (default 8) sets the number of kills, CHRONOLAKE_CRASH_SEED (default
7) the seed.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from pathlib import Path
from typing import Any

from child_events import kill_at
from lake_forms import LakeSpec

from chronolake.maintenance import compact_table

HERE = Path(__file__).resolve().parent
CHILD = HERE / "compactor.py"
ROWS = 20


def _catalog(lake: LakeSpec, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    return lake.catalog_rows(sql, **params)


def _latest(lake: LakeSpec) -> int:
    return int(_catalog(lake, "SELECT max(snapshot_id) FROM cl_snapshots")[0][0])


def _snapshot_reads(
    lake: LakeSpec, versions: list[int]
) -> dict[int, tuple[Counter[Any], list[Any]]]:
    out = {}
    with lake.connect() as con:
        for v in versions:
            rows = Counter(con.execute("SELECT * FROM T AT(VERSION => ?)", [v]).fetchall())
            ids = sorted(
                con.execute(
                    "SELECT batch, i, v, METADATA$ROW_ID FROM T CHANGES(INFORMATION => DEFAULT) "
                    "AT(VERSION => 1) END(VERSION => ?)",
                    [v],
                ).fetchall()
            )
            out[v] = (rows, ids)
    return out


def _model_rows(model: dict[int, str]) -> Counter[Any]:
    return Counter((b, i, v) for b, v in model.items() for i in range(ROWS))


def _apply(model: dict[int, str], op: dict[str, Any]) -> dict[int, str]:
    if op["kind"] in ("insert", "update"):
        return {**model, op["batch"]: op["v"]}
    return model


# where a round kills: before an operation, in the catalog commit before / after writing its
# rows, after it returned (a compaction: after it committed a snapshot)
WHERES = ("start", "commit.begin", "commit.write", "done")


def _point(event: dict[str, Any]) -> str:
    if "done" in event:  # a compaction that found nothing to do is no kill point
        nothing = event["done"]["kind"] == "compact" and event["snapshot"] is None
        return "done.nothing" if nothing else "done"
    for key in ("ready", "start"):
        if key in event:
            return key
    return str(event["step"])


def _round(
    lake: LakeSpec, first: int, seed: int, target: tuple[str, str], skip: int, log: Path
) -> list[dict[str, Any]]:
    """Run a compactor and kill it at the ``skip``+1-th step ``target`` = (kind, where)."""
    return kill_at(CHILD, [lake.to_arg(), str(first), str(seed)], log, target, skip, _point)


def test_sigkill_during_compaction_loses_nothing(lake_spec: LakeSpec, tmp_path: Path) -> None:
    lake = lake_spec
    with lake.connect() as con:
        con.execute("CREATE TABLE T (batch INT, i INT, v VARCHAR)")
    model: dict[int, str] = {}
    seed0 = int(os.environ.get("CHRONOLAKE_CRASH_SEED", "7"))
    rng = random.Random(seed0)
    kinds: Counter[str] = Counter()
    known: dict[int, tuple[Counter[Any], list[Any]]] = {}
    compacted = 0
    for rnd in range(int(os.environ.get("CHRONOLAKE_CRASH_ROUNDS", "8"))):
        where = WHERES[rnd % len(WHERES)]
        kind = "compact" if rnd % 3 != 2 else rng.choice(["insert", "update"])
        skip = rng.randrange(2)
        ctx = f"(seed {seed0}, round {rnd}, killed at {kind} {where} after {skip} like it)"
        new = list(range(max(known, default=1) + 1, _latest(lake) + 1))  # 1 made the table
        known.update(_snapshot_reads(lake, new))
        seed = rng.randrange(1 << 30)
        events = _round(lake, (rnd + 1) * 1000, seed, (kind, where), skip, tmp_path / "c")
        assert _point(events[-1]) == where, ctx
        in_flight = None
        for ev in events:
            if "start" in ev:
                in_flight = ev["start"]
            elif "done" in ev:
                model = _apply(model, ev["done"])
                if ev["snapshot"] is not None:
                    compacted += 1
                    ((op,),) = _catalog(
                        lake,
                        "SELECT operation FROM cl_snapshots WHERE snapshot_id = :s",
                        s=ev["snapshot"],
                    )
                    assert op == "COMPACT", ctx
                in_flight = None
        kinds[f"{kind}@{where}"] += 1
        with lake.connect() as con:
            now = Counter(con.execute("SELECT * FROM T").fetchall())
        assert now == _model_rows(model), f"lost, partial or unexpected rows {ctx} {in_flight}"
        # every snapshot made before the round, or a sample of them once there are many
        check = sorted(known) if len(known) <= 20 else rng.sample(sorted(known), 20)
        for v, read in _snapshot_reads(lake, check).items():
            assert read == known[v], f"snapshot {v} reads differently after the round {ctx}"
        files = lake.list_files()
        for path, count in _catalog(lake, "SELECT path, row_count FROM cl_data_files"):
            assert lake.parquet_metadata(path).num_rows == count, f"{path} {ctx}"
        for (path,) in _catalog(lake, "SELECT path FROM cl_delete_files"):
            assert path in files, f"{path} {ctx}"
    print("killed during", dict(kinds), compacted, "compactions committed")
    assert compacted, "no compaction ever committed"
    with lake.connect() as con:
        con.execute("INSERT INTO T VALUES (-1, 0, 'x')")
        assert compact_table(con, "T", min_age_s=0).snapshot_id is not None
        model = {**model, -1: "x"}
        got = Counter(con.execute("SELECT * FROM T WHERE batch <> -1").fetchall())
        assert got == _model_rows({b: v for b, v in model.items() if b != -1})
