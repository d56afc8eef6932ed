"""SIGKILL a process in the middle of compactions: nothing is lost (ARCHITECTURE.md
invariants 1 and 5).

A child (compactor.py) inserts, updates and, most of the time, compacts one table. The parent
kills it at random moments and after each kill checks that:

* the table holds exactly the committed inserts and updates (plus, entirely or not at all, the
  one that was running);
* every snapshot that existed before the round reads exactly what it read then, rows and row
  ids (CHANGES(DEFAULT) from the table's creation), whatever compactions committed or died;
* every file the catalog references exists with the row count it recorded (a compaction never
  deletes a file), and each compaction that reported its snapshot is a COMPACT snapshot;
* the lake takes writes and compactions again afterwards.

CHRONOLAKE_CRASH_ROUNDS (default 6) sets the number of kills.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

import chronolake
from chronolake.maintenance import compact_table

HERE = Path(__file__).resolve().parent
CHILD = HERE / "compactor.py"
ROWS = 20


def _catalog(lake: Path, sql: str) -> list[tuple[Any, ...]]:
    cat = sqlite3.connect(f"file:{lake / 'catalog.sqlite'}?mode=ro", uri=True)
    try:
        return cat.execute(sql).fetchall()
    finally:
        cat.close()


def _latest(lake: Path) -> int:
    return int(_catalog(lake, "SELECT max(snapshot_id) FROM cl_snapshots")[0][0])


def _snapshot_reads(lake: Path, versions: list[int]) -> dict[int, tuple[Counter[Any], list[Any]]]:
    out = {}
    with chronolake.connect(lake) as con:
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


def _round(lake: Path, first: int, seed: int, delay: float, log: Path) -> list[dict[str, Any]]:
    with log.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, str(CHILD), str(lake), str(first), str(seed)],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert json.loads(line) == {"ready": True}, log.read_text()
        time.sleep(delay)
        assert proc.poll() is None, f"child died by itself: {log.read_text()}"
        proc.send_signal(signal.SIGKILL)
        out = proc.stdout.read()
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    events = []
    lines = out.splitlines()
    for n, text in enumerate(lines):
        try:
            events.append(json.loads(text))
        except json.JSONDecodeError:
            assert n == len(lines) - 1, text  # only the last line can be cut short
    return events


def test_sigkill_during_compaction_loses_nothing(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    with chronolake.connect(lake) as con:
        con.execute("CREATE TABLE T (batch INT, i INT, v VARCHAR)")
    model: dict[int, str] = {}
    rng = random.Random()
    seed0 = rng.randrange(1 << 30)
    rng.seed(seed0)
    kinds: Counter[str] = Counter()
    known: dict[int, tuple[Counter[Any], list[Any]]] = {}
    compacted = 0
    for rnd in range(int(os.environ.get("CHRONOLAKE_CRASH_ROUNDS", "6"))):
        ctx = f"(seed {seed0}, round {rnd})"
        new = list(range(max(known, default=1) + 1, _latest(lake) + 1))  # 1 made the table
        known.update(_snapshot_reads(lake, new))
        events = _round(
            lake, (rnd + 1) * 1000, rng.randrange(1 << 30), rng.uniform(0.2, 0.8), tmp_path / "c"
        )
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
                        f"SELECT operation FROM cl_snapshots WHERE snapshot_id = {ev['snapshot']}",
                    )
                    assert op == "COMPACT", ctx
                in_flight = None
        kinds[(in_flight or {"kind": "-"})["kind"]] += 1
        with chronolake.connect(lake) as con:
            now = Counter(con.execute("SELECT * FROM T").fetchall())
        if now != _model_rows(model):
            assert in_flight is not None, f"lost or unexpected rows {ctx}"
            model = _apply(model, in_flight)
            assert now == _model_rows(model), f"partial {in_flight} {ctx}"
        # every snapshot made before the round, or a sample of them once there are many
        check = sorted(known) if len(known) <= 40 else rng.sample(sorted(known), 40)
        for v, read in _snapshot_reads(lake, check).items():
            assert read == known[v], f"snapshot {v} reads differently after the round {ctx}"
        for path, count in _catalog(lake, "SELECT path, row_count FROM cl_data_files"):
            file = lake / "data" / "default" / path
            assert pq.read_metadata(file).num_rows == count, f"{path} {ctx}"
        for (path,) in _catalog(lake, "SELECT path FROM cl_delete_files"):
            assert (lake / "data" / "default" / path).exists(), f"{path} {ctx}"
    print("killed during", dict(kinds), compacted, "compactions committed")
    assert compacted, "no compaction ever committed: delays too short?"
    with chronolake.connect(lake) as con:
        con.execute("INSERT INTO T VALUES (-1, 0, 'x')")
        assert compact_table(con, "T", min_age_s=0).snapshot_id is not None
        model = {**model, -1: "x"}
        got = Counter(con.execute("SELECT * FROM T WHERE batch <> -1").fetchall())
        assert got == _model_rows({b: v for b, v in model.items() if b != -1})
