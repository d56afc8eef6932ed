"""Child process of test_kill_writer.py: writes to a lake, one step at a time, until killed.

Usage: python writer.py LAKE FIRST_BATCH SEED

Reports one JSON object per line and waits for a line on stdin after each (child_events.step),
so the parent kills it at a step it chose:
  {"ready": true}                         connected, about to write
  {"start": OP}                           about to run OP
  {"stmt": N}                             statement N of a transaction ran (not committed)
  {"step": "commit.begin"|"commit.write"} inside the catalog commit (Settings.on_step)
  {"done": OP, "qid": QUERY_ID}           OP committed (execute()/COMMIT returned)

Tables (created by the parent): B(batch INT, i INT, v VARCHAR) with exactly 100 rows per
batch, all with the same v; C(batch INT, i INT) with 10 rows per batch written together with
B's rows in one transaction. A partial statement would show up as a batch with another count
or with mixed values of v.
"""

from __future__ import annotations

import random
import sys
from typing import Any

from child_events import step

import chronolake

B_ROWS = 100
C_ROWS = 10


def values(batch: int, n: int, v: str | None) -> str:
    if v is None:
        return ", ".join(f"({batch}, {i})" for i in range(n))
    return ", ".join(f"({batch}, {i}, '{v}')" for i in range(n))


def on_step(name: str) -> None:
    step({"step": name})


def main() -> None:
    lake, first_batch, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    url = sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] else None  # catalog URL
    rng = random.Random(seed)
    settings = chronolake.Settings(autocommit_retries=0, on_step=on_step)
    con = chronolake.connect(lake, settings=settings, catalog=url)
    cur = con.cursor()
    live = sorted(b for (b,) in cur.execute("SELECT DISTINCT batch FROM B").fetchall())
    next_batch = first_batch
    counter = 0
    step({"ready": True})
    while True:
        counter += 1
        kind = rng.choice(["insert", "insert", "update", "delete", "txn"] if live else ["insert"])
        op: dict[str, Any]
        if kind == "insert":
            op = {"kind": "insert", "batch": next_batch, "v": f"i{first_batch}-{counter}"}
            next_batch += 1
            step({"start": op})
            cur.execute(f"INSERT INTO B VALUES {values(op['batch'], B_ROWS, op['v'])}")
            live.append(op["batch"])
        elif kind == "update":
            op = {"kind": "update", "batch": rng.choice(live), "v": f"u{first_batch}-{counter}"}
            step({"start": op})
            cur.execute("UPDATE B SET v = ? WHERE batch = ?", [op["v"], op["batch"]])
        elif kind == "delete":
            op = {"kind": "delete", "batch": rng.choice(live)}
            step({"start": op})
            cur.execute("DELETE FROM B WHERE batch = ?", [op["batch"]])
            live.remove(op["batch"])
        else:
            op = {
                "kind": "txn",
                "batch": next_batch,
                "v": f"t{first_batch}-{counter}",
                "update": rng.choice(live),
                "uv": f"tu{first_batch}-{counter}",
            }
            next_batch += 1
            step({"start": op})
            cur.execute("BEGIN")
            cur.execute(f"INSERT INTO B VALUES {values(op['batch'], B_ROWS, op['v'])}")
            step({"stmt": 1})
            cur.execute(f"INSERT INTO C VALUES {values(op['batch'], C_ROWS, None)}")
            step({"stmt": 2})
            cur.execute("UPDATE B SET v = ? WHERE batch = ?", [op["uv"], op["update"]])
            step({"stmt": 3})
            cur.execute("COMMIT")
            live.append(op["batch"])
        step({"done": op, "qid": cur.sfqid})


if __name__ == "__main__":
    main()
