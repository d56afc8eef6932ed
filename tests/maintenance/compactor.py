"""Child process of test_kill_compaction.py: writes and compacts a lake until it is killed.

Usage: python compactor.py LAKE FIRST_BATCH SEED

Prints one JSON object per line, flushed:
  {"ready": true}                   connected
  {"start": OP}                     about to run OP (it may or may not commit)
  {"done": OP, "snapshot": N|null}  OP returned (a compaction: the snapshot it committed)

Table T(batch INT, i INT, v VARCHAR), 20 rows per batch, all with the same v. Most of the time
goes to compactions, so most kills land inside one.
"""

from __future__ import annotations

import json
import random
import sys

import chronolake
from chronolake.maintenance import compact_table

ROWS = 20


def say(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main() -> None:
    lake, first_batch, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(seed)
    con = chronolake.connect(lake)
    live = sorted(b for (b,) in con.execute("SELECT DISTINCT batch FROM T").fetchall())
    batch = first_batch
    say({"ready": True})
    n = 0
    while True:
        n += 1
        kind = rng.choice(["insert", "update", "compact", "compact", "compact"])
        if kind == "insert" or not live:
            op = {"kind": "insert", "batch": batch, "v": f"i{first_batch}-{n}"}
            batch += 1
            say({"start": op})
            rows = ", ".join(f"({op['batch']}, {i}, '{op['v']}')" for i in range(ROWS))
            con.execute(f"INSERT INTO T VALUES {rows}")
            live.append(op["batch"])
            say({"done": op, "snapshot": None})
        elif kind == "update":
            op = {"kind": "update", "batch": rng.choice(live), "v": f"u{first_batch}-{n}"}
            say({"start": op})
            con.execute("UPDATE T SET v = ? WHERE batch = ?", [op["v"], op["batch"]])
            say({"done": op, "snapshot": None})
        else:
            op = {"kind": "compact"}
            say({"start": op})
            report = compact_table(
                con, "T", min_files=2, max_deleted_ratio=rng.choice([0.01, 0.5]), min_age_s=0
            )
            say({"done": op, "snapshot": report.snapshot_id})


if __name__ == "__main__":
    main()
