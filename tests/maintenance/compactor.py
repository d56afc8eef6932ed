"""Child process of test_kill_compaction.py: writes and compacts a lake, one step at a time,
until it is killed.

Usage: python compactor.py LAKE_SPEC FIRST_BATCH SEED   (LAKE_SPEC: a lake_forms.LakeSpec as JSON)

Reports one JSON object per line and waits for a line on stdin after each (child_events.step),
so the parent kills it at a step it chose:
  {"ready": true}                         connected
  {"start": OP}                           about to run OP
  {"step": "commit.begin"|"commit.write"} inside the catalog commit (Settings.on_step)
  {"done": OP, "snapshot": N|null}        OP returned (a compaction: the snapshot it committed)

Table T(batch INT, i INT, v VARCHAR), 20 rows per batch, all with the same v. Most operations
are compactions.
"""

from __future__ import annotations

import random
import sys
from typing import Any

from child_events import step
from lake_forms import LakeSpec

import chronolake
from chronolake.maintenance import compact_table

ROWS = 20


def on_step(name: str) -> None:
    step({"step": name})


def main() -> None:
    lake, first_batch, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(seed)
    con = LakeSpec.from_arg(lake).connect(settings=chronolake.Settings(on_step=on_step))
    live = sorted(b for (b,) in con.execute("SELECT DISTINCT batch FROM T").fetchall())
    batch = first_batch
    step({"ready": True})
    n = 0
    while True:
        n += 1
        kind = rng.choice(["insert", "update", "compact", "compact", "compact"])
        op: dict[str, Any]
        if kind == "insert" or not live:
            op = {"kind": "insert", "batch": batch, "v": f"i{first_batch}-{n}"}
            batch += 1
            step({"start": op})
            rows = ", ".join(f"({op['batch']}, {i}, '{op['v']}')" for i in range(ROWS))
            con.execute(f"INSERT INTO T VALUES {rows}")
            live.append(op["batch"])
            step({"done": op, "snapshot": None})
        elif kind == "update":
            op = {"kind": "update", "batch": rng.choice(live), "v": f"u{first_batch}-{n}"}
            step({"start": op})
            con.execute("UPDATE T SET v = ? WHERE batch = ?", [op["v"], op["batch"]])
            step({"done": op, "snapshot": None})
        else:
            op = {"kind": "compact"}
            step({"start": op})
            report = compact_table(
                con, "T", min_files=2, max_deleted_ratio=rng.choice([0.01, 0.5]), min_age_s=0
            )
            step({"done": op, "snapshot": report.snapshot_id})


if __name__ == "__main__":
    main()
