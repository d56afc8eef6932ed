"""Compaction changes nothing anyone can see (ARCHITECTURE.md invariant 5, SEMANTICS.md 8).

Random histories of inserts, updates, deletes, merges and transactions, with compactions (of
random thresholds) at random moments. Right after each snapshot is made, what it reads is
recorded: its rows (AT(VERSION)), its rows with their ids (CHANGES(DEFAULT) from the table's
creation) and APPEND_ONLY from creation. At the end, after every compaction, all of these must
be the same; each compaction snapshot reads as the one before it; and a feed over a window
that starts or ends at a compaction is the feed without it.
"""

from __future__ import annotations

import itertools
import os
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chronolake
from chronolake.maintenance import compact_table

_lakes = itertools.count()

op = st.one_of(
    st.tuples(st.just("insert"), st.lists(st.integers(0, 30), min_size=1, max_size=4)),
    st.tuples(st.just("update"), st.integers(0, 30), st.sampled_from(["x", "y", "a"])),
    st.tuples(st.just("delete"), st.integers(0, 30)),
    st.tuples(st.just("merge"), st.lists(st.integers(0, 30), min_size=1, max_size=3)),
    st.tuples(st.just("txn"), st.integers(0, 30), st.integers(0, 30)),
    st.tuples(st.just("compact"), st.integers(1, 4), st.sampled_from([0.01, 0.2, 0.5, 1.0])),
    st.tuples(st.just("compact"), st.integers(1, 4), st.sampled_from([0.01, 0.2, 0.5, 1.0])),
)


def _run(con: Any, step: tuple[Any, ...]) -> bool:
    """Run a step; True when it committed a compaction."""
    kind = step[0]
    if kind == "insert":
        con.cursor().executemany("INSERT INTO t VALUES (?, 'a')", [[k] for k in step[1]])
    elif kind == "update":
        con.execute("UPDATE t SET v = ? WHERE k % 7 = ? % 7", [step[2], step[1]])
    elif kind == "delete":
        con.execute("DELETE FROM t WHERE k % 5 = ? % 5", [step[1]])
    elif kind == "merge":
        rows = ", ".join(f"({k})" for k in step[1])
        con.execute(
            f"MERGE INTO t USING (SELECT DISTINCT column1 AS k FROM VALUES {rows}) s "
            "ON t.k = s.k WHEN MATCHED THEN UPDATE SET v = t.v || 'm' "
            "WHEN NOT MATCHED THEN INSERT (k, v) VALUES (s.k, 'n')"
        )
    elif kind == "compact":
        dry = compact_table(
            con, "t", min_files=step[1], max_deleted_ratio=step[2], min_age_s=0, dry_run=True
        )
        report = compact_table(con, "t", min_files=step[1], max_deleted_ratio=step[2], min_age_s=0)
        assert (dry.files_in, dry.rows) == (report.files_in, report.rows)
        assert not report.gave_up and report.attempts == 1
        return report.snapshot_id is not None
    else:
        con.execute("BEGIN")
        con.execute("INSERT INTO t VALUES (?, 'b')", [step[1]])
        con.execute("UPDATE t SET v = 'z' WHERE k = ?", [step[2]])
        con.execute("COMMIT")
    return False


def _feed(con: Any, a: int, b: int, kind: str = "DEFAULT") -> list[tuple[Any, ...]]:
    return sorted(
        con.execute(
            "SELECT k, v, METADATA$ACTION, METADATA$ISUPDATE, METADATA$ROW_ID "
            f"FROM t CHANGES(INFORMATION => {kind}) AT(VERSION => ?) END(VERSION => ?)",
            [a, b],
        ).fetchall(),
        key=repr,
    )


def _rows(con: Any, v: int) -> Counter[tuple[Any, ...]]:
    return Counter(con.execute("SELECT k, v FROM t AT(VERSION => ?)", [v]).fetchall())


def _latest(lake: Path) -> int:
    cat = sqlite3.connect(lake / "catalog.sqlite")
    try:
        return int(cat.execute("SELECT max(snapshot_id) FROM cl_snapshots").fetchone()[0])
    finally:
        cat.close()


@settings(
    max_examples=int(os.environ.get("CHRONOLAKE_PROPERTY_EXAMPLES", "15")),
    deadline=None,  # no timing: a loaded machine is slow, not wrong
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(op, min_size=1, max_size=12), st.data())
def test_compaction_is_invisible(
    tmp_path_factory: Any, steps: list[tuple[Any, ...]], data: st.DataObject
) -> None:
    lake: Path = tmp_path_factory.mktemp(f"compact{next(_lakes)}")
    con = chronolake.connect(lake)
    con.execute("CREATE TABLE t (k INT, v VARCHAR)")
    first = _latest(lake)
    seen: dict[int, tuple[Any, ...]] = {}  # snapshot -> what it read when it was new
    compactions: list[int] = []

    def record() -> None:
        v = _latest(lake)
        if v not in seen:
            seen[v] = (_rows(con, v), _feed(con, first, v), _feed(con, first, v, "APPEND_ONLY"))

    record()
    for step in steps:
        before = _latest(lake)
        if _run(con, step):
            compactions.append(_latest(lake))
            assert compactions[-1] == before + 1
        else:
            record()
    last = _latest(lake)
    for v, (rows, feed, appended) in seen.items():
        assert _rows(con, v) == rows, f"AT(VERSION => {v}) changed"
        assert _feed(con, first, v) == feed, f"rows or row ids at {v} changed"
        assert _feed(con, first, v, "APPEND_ONLY") == appended, f"APPEND_ONLY to {v} changed"
    for c in compactions:
        assert _rows(con, c) == _rows(con, c - 1)
        assert _feed(con, c - 1, c) == [], "CHANGES reported a compaction"
        assert _feed(con, c - 1, c, "APPEND_ONLY") == []
        for _ in range(3):
            a = data.draw(st.integers(first, c - 1), label="start")
            b = data.draw(st.integers(c, last), label="end")
            assert _feed(con, a, c) == _feed(con, a, c - 1)
            assert _feed(con, c, b) == _feed(con, c - 1, b)
            split = _feed(con, a, c - 1, "APPEND_ONLY") + _feed(con, c, b, "APPEND_ONLY")
            assert _feed(con, a, b, "APPEND_ONLY") == sorted(split, key=repr)
    history = [r["operation"] for r in con.table_history("t")]
    assert history.count("COMPACT") == len(compactions)
    con.close()
