"""Child process of the multi-node tests: one node (its own ``Lake``) writing its own rows.

Usage: python node.py LAKE_SPEC NODE SEED TENANT...

Table T(node INT, batch INT, i INT, v VARCHAR) in every tenant; this node writes only rows with
node = NODE, in batches of 10 rows sharing one v, so a partial statement shows as a batch with
another count or mixed values. Table C(n INT) holds one counter every node increments.
Commands, one per line on stdin; every event is a JSON line:

  run N     N operations on random tenants, as fast as the machine lets it: each reported as
            {"done": OP, "snapshot": S} once acknowledged; a ConflictError is reported as
            {"conflict": OP, "retryable": ...} and the operation retried; then {"idle": true}
  op        one operation (same reports)
  look T    {"latest": S}: the newest snapshot of tenant T this node sees, by a new statement
  maintain K   K rounds, in every tenant, of compacting T and C (any small files, however
            recent) and purging (expire, cleanup, orphans) with the default grace periods,
            then {"maintained": [results]}: a compaction that loses to writers is reported, not
            raised
  purge-later  expire, cleanup and orphan removal by a clock 3 days ahead with no grace, so
            every file no reachable snapshot needs goes: {"purged": files deleted}
  pause P   the next operation stops inside its catalog commit at step P ("commit.begin" or
            "commit.write"), reports {"paused": P} and waits for a line before it goes on
  quit      exit

An operation that fails with another ``chronolake.Error`` is reported as {"failed": OP, "error":
class name, "retryable": ..., "message": ...} and not retried; any other exception ends the
process with a traceback on stderr, which fails the test.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
from typing import Any

from child_events import report, step
from lake_forms import LakeSpec

import chronolake
from chronolake.maintenance import compact_table, purge

ROWS = 10


def latest(con: chronolake.Connection) -> int:
    row = con.execute("SELECT max(snapshot_id) FROM INFORMATION_SCHEMA.SNAPSHOTS").fetchone()
    return int(row[0])


class Node:
    def __init__(self, spec: LakeSpec, node: int, seed: int, tenants: list[str]) -> None:
        settings = chronolake.Settings(autocommit_retries=0, on_step=self.on_step)
        self.pause_at: str | None = None
        self.lake = spec.lake(settings=settings)
        self.node, self.rng, self.tenants = node, random.Random(seed), tenants
        self.cons = {t: self.lake.connect(tenant=t) for t in tenants}
        self.live: dict[str, list[int]] = {t: [] for t in tenants}
        self.next_batch, self.counter = 0, 0

    def on_step(self, name: str) -> None:
        if name == self.pause_at:
            self.pause_at = None
            step({"paused": name})

    def choose(self) -> dict[str, Any]:
        tenant = self.rng.choice(self.tenants)
        live = self.live[tenant]
        kinds = ["insert", "insert", "update", "delete", "bump"] if live else ["insert", "bump"]
        kind = self.rng.choice(kinds)
        self.counter += 1
        v = f"n{self.node}-{self.counter}"
        if kind == "bump":
            return {"tenant": tenant, "kind": kind, "batch": None, "v": None}
        if kind == "insert":
            self.next_batch += 1
            return {"tenant": tenant, "kind": kind, "batch": self.next_batch, "v": v}
        return {"tenant": tenant, "kind": kind, "batch": self.rng.choice(live), "v": v}

    def execute(self, op: dict[str, Any]) -> str:
        con, n, b = self.cons[op["tenant"]], self.node, op["batch"]
        if op["kind"] == "insert":
            rows = [[n, b, i, op["v"]] for i in range(ROWS)]
            cur = con.cursor()
            cur.executemany("INSERT INTO T VALUES (?, ?, ?, ?)", rows)
        elif op["kind"] == "bump":  # one row all nodes update: where their commits race
            cur = con.execute("UPDATE C SET n = n + 1")
        elif op["kind"] == "update":
            cur = con.execute("UPDATE T SET v = ? WHERE node = ? AND batch = ?", [op["v"], n, b])
        else:
            cur = con.execute("DELETE FROM T WHERE node = ? AND batch = ?", [n, b])
        return str(cur.sfqid)

    def one(self) -> None:
        op = self.choose()
        while True:
            try:
                qid = self.execute(op)
                break
            except chronolake.ConflictError as e:
                report({"conflict": op, "retryable": e.retryable, "message": str(e)})
            except chronolake.Error as e:
                error = type(e).__name__
                report({"failed": op, "error": error, "retryable": e.retryable, "message": str(e)})
                return
        live = self.live[op["tenant"]]
        if op["kind"] == "insert":
            live.append(op["batch"])
        elif op["kind"] == "delete":
            live.remove(op["batch"])
        con = self.cons[op["tenant"]]
        snap = con.execute(
            "SELECT snapshot_id FROM INFORMATION_SCHEMA.QUERY_HISTORY WHERE query_id = ?", [qid]
        ).fetchone()
        report({"done": op, "snapshot": int(snap[0]), "qid": qid})


def maintain(node: Node, rounds: int) -> list[Any]:
    out: list[Any] = []
    for _ in range(rounds):
        for tenant, con in node.cons.items():
            for table in ("T", "C"):
                try:
                    r = compact_table(con, table, min_files=2, min_age_s=0)
                    out.append([tenant, table, r.files_in, r.files_out])
                except chronolake.Error as e:
                    out.append([tenant, table, type(e).__name__])
            purge(con)
    return out


def purge_later(node: Node, spec: LakeSpec) -> int:
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    deleted = 0
    with spec.lake(clock=lambda: later) as lake:
        for tenant in node.tenants:
            _, cleaned, orphans = purge(
                lake.connect(tenant=tenant), cleanup_grace=0, orphan_grace=0
            )
            deleted += cleaned.files + orphans.files
    return deleted


def main() -> None:
    spec, node, seed = LakeSpec.from_arg(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    worker = Node(spec, node, seed, sys.argv[4:])
    report({"ready": True})
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "run":
            for _ in range(int(words[1])):
                worker.one()
            report({"idle": True})
        elif words[0] == "op":
            worker.one()
        elif words[0] == "maintain":
            report({"maintained": maintain(worker, int(words[1]))})
        elif words[0] == "purge-later":
            report({"purged": purge_later(worker, spec)})
        elif words[0] == "pause":
            worker.pause_at = words[1]
        elif words[0] == "look":
            report({"latest": latest(worker.cons[words[1]])})
        elif words[0] == "quit":
            break
    worker.lake.close()


if __name__ == "__main__":
    main()
