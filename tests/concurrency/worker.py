"""Child process of test_four_writers.py.

Usage: python worker.py LAKE WORKER_ID MODE N_OPS SEED RESULT_FILE [CATALOG_URL]

MODE is one of
  auto0   autocommit, Settings(autocommit_retries=0): appends and counter increments
  auto3   autocommit with the default automatic retries: appends and counter increments
  txn     BEGIN; UPDATE a counter; INSERT a log row; COMMIT
  append  appends only, alternating autocommitted INSERTs and BEGIN/INSERT/INSERT/COMMIT

Reports {"ready": true} once connected and waits for a line on stdin (child_events.step), so
the workers start together. In txn mode, at the operations rendezvous(N_OPS) lists, it
increments counter 0, reports {"holding": i} with its transaction still open and waits again:
the parent resumes both txn workers only once both hold one, so their transactions overlap on
the same row and one of them must lose (no timing involved). Writes one JSON record per
operation to RESULT_FILE at the end:
  {"op": "append"|"update"|"txn", "seq": i, "k": counter or null, "last": tag or null,
   "rows": [[worker, seq], ...] appended, "qid": id that committed it or null,
   "conflict": null | {"cls": name, "retryable": bool, "table": ..., "snapshot": ..., "msg": ...}}
Any exception other than chronolake.ConflictError ends the process with a traceback.
"""

from __future__ import annotations

import json
import random
import sys
from typing import Any

from child_events import step
from lake_forms import connect_at

import chronolake

N_COUNTERS = 3


def rendezvous(n_ops: int) -> tuple[int, ...]:
    """The operations at which txn workers hold their transaction open for each other."""
    return tuple(sorted({n_ops // 4, (3 * n_ops) // 4}))


def conflict_record(e: BaseException) -> dict[str, Any]:
    return {
        "cls": type(e).__name__,
        "is_conflict_error": isinstance(e, chronolake.ConflictError),
        "is_error": isinstance(e, chronolake.Error),
        "retryable": getattr(e, "retryable", None),
        "table": getattr(e, "table", None),
        "snapshot": getattr(e, "snapshot", None),
        "msg": str(e),
    }


def main() -> None:
    lake, wid, mode, n_ops, seed, result = sys.argv[1:7]
    url = sys.argv[7] if len(sys.argv) > 7 and sys.argv[7] else None
    w, n, rng = int(wid), int(n_ops), random.Random(int(seed))
    retries = 3 if mode == "auto3" else 0
    settings = chronolake.Settings(autocommit_retries=retries)
    con = connect_at(lake, settings=settings, catalog=url)
    cur = con.cursor()
    meet = rendezvous(n)
    step({"ready": True})
    out: list[dict[str, Any]] = []
    for i in range(n):
        rec: dict[str, Any] = {"op": None, "seq": i, "k": None, "last": None, "rows": []}
        rec["qid"] = rec["conflict"] = None
        tag = f"w{w}-{i}"
        try:
            if mode in ("auto0", "auto3"):
                if rng.random() < 0.5:
                    rec.update(op="append", rows=[[w, i]])
                    cur.execute("INSERT INTO APPEND_LOG VALUES (?, ?, ?)", [w, i, tag])
                else:
                    rec.update(op="update", k=rng.randrange(N_COUNTERS), last=tag)
                    cur.execute(
                        "UPDATE COUNTERS SET val = val + 1, last = ? WHERE k = ?", [tag, rec["k"]]
                    )
                    assert cur.rowcount == 1, cur.rowcount
                rec["qid"] = cur.sfqid
            elif mode == "txn":
                k = rng.randrange(N_COUNTERS)
                rec.update(op="txn", k=0 if i in meet else k, last=tag, rows=[[w, i]])
                cur.execute("BEGIN")
                cur.execute(
                    "UPDATE COUNTERS SET val = val + 1, last = ? WHERE k = ?", [tag, rec["k"]]
                )
                cur.execute("INSERT INTO APPEND_LOG VALUES (?, ?, ?)", [w, i, tag])
                if i in meet:
                    step({"holding": i})
                cur.execute("COMMIT")
                rec["qid"] = cur.sfqid
            elif mode == "append":
                if i % 2:
                    rec.update(op="append", rows=[[w, i]])
                    cur.execute("INSERT INTO APPEND_LOG VALUES (?, ?, ?)", [w, i, tag])
                else:
                    rec.update(op="append", rows=[[w, i], [w, 1000 + i]])
                    cur.execute("BEGIN")
                    cur.execute("INSERT INTO APPEND_LOG VALUES (?, ?, ?)", [w, i, tag])
                    cur.execute("INSERT INTO APPEND_LOG VALUES (?, ?, ?)", [w, 1000 + i, tag])
                    cur.execute("COMMIT")
                rec["qid"] = cur.sfqid
            else:
                raise SystemExit(f"unknown mode {mode}")
        except chronolake.ConflictError as e:
            rec["conflict"] = conflict_record(e)
            con.rollback()  # a no-op if the failed COMMIT already ended the transaction
            if mode == "txn":
                # the session must be usable and outside any transaction after a conflict
                cur.execute("SELECT count(*) FROM COUNTERS")
        out.append(rec)
    con.close()
    with open(result, "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
