"""CHANGES(DEFAULT) from snapshot a to snapshot b, applied to the table at a, gives the table at b.

Random histories of inserts, updates (some back to old values), deletes, merges and
transactions; the state at a snapshot, with row ids, is itself the feed from the (empty)
creation snapshot, and is checked against plain AT(VERSION) reads.
"""

from __future__ import annotations

import itertools
import os
from collections import Counter
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chronolake

_lakes = itertools.count()

op = st.one_of(
    st.tuples(st.just("insert"), st.lists(st.integers(0, 30), min_size=1, max_size=4)),
    st.tuples(st.just("update"), st.integers(0, 30), st.sampled_from(["x", "y", "a"])),
    st.tuples(st.just("delete"), st.integers(0, 30)),
    st.tuples(st.just("merge"), st.lists(st.integers(0, 30), min_size=1, max_size=3)),
    st.tuples(st.just("txn"), st.integers(0, 30), st.integers(0, 30)),
)


def _run(con: Any, step: tuple[Any, ...]) -> None:
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
    else:
        con.execute("BEGIN")
        con.execute("INSERT INTO t VALUES (?, 'b')", [step[1]])
        con.execute("UPDATE t SET v = 'z' WHERE k = ?", [step[2]])
        con.execute("COMMIT")


def _feed(con: Any, a: int, b: int) -> list[tuple[Any, ...]]:
    return con.execute(
        "SELECT k, v, METADATA$ACTION, METADATA$ISUPDATE, METADATA$ROW_ID "
        "FROM t CHANGES(INFORMATION => DEFAULT) AT(VERSION => ?) END(VERSION => ?)",
        [a, b],
    ).fetchall()


def _state(con: Any, first: int, v: int) -> dict[int, tuple[Any, Any]]:
    rows = _feed(con, first, v)
    assert all(r[2] == "INSERT" and r[3] is False for r in rows)
    return {r[4]: (r[0], r[1]) for r in rows}


def _latest(con: Any) -> int:
    sql = "SELECT max(snapshot_id) FROM INFORMATION_SCHEMA.QUERY_HISTORY"
    return int(con.execute(sql).fetchone()[0])


@settings(
    max_examples=int(os.environ.get("CHRONOLAKE_PROPERTY_EXAMPLES", "20")),
    deadline=None,  # no timing: a loaded machine is slow, not wrong
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(op, min_size=1, max_size=10), st.data())
def test_changes_replay_between_any_two_snapshots(
    tmp_path_factory: Any, steps: list[tuple[Any, ...]], data: st.DataObject
) -> None:
    lake: Path = tmp_path_factory.mktemp(f"changes{next(_lakes)}")
    con = chronolake.connect(lake)
    con.execute("CREATE TABLE t (k INT, v VARCHAR)")
    first = con.execute("SELECT max(snapshot_id) FROM INFORMATION_SCHEMA.QUERY_HISTORY").fetchone()
    first = 1 if first[0] is None else int(first[0])
    for step in steps:
        _run(con, step)
    (last,) = con.execute(
        "SELECT max(snapshot_id) FROM INFORMATION_SCHEMA.QUERY_HISTORY"
    ).fetchone()
    for v in range(first, last + 1):
        state = _state(con, first, v)
        plain = con.execute("SELECT k, v FROM t AT(VERSION => ?)", [v]).fetchall()
        assert Counter(state.values()) == Counter(plain)
    for _ in range(6):
        a = data.draw(st.integers(first, last))
        b = data.draw(st.integers(a, last))
        state = _state(con, first, a)
        feed = _feed(con, a, b)
        rids = [r[4] for r in feed]
        for k, v, action, is_update, rid in feed:
            if action == "DELETE":
                assert state.pop(rid) == (k, v)
                assert is_update == (rids.count(rid) == 2)
        for k, v, action, is_update, rid in feed:
            if action == "INSERT":
                assert rid not in state
                assert is_update == (rids.count(rid) == 2)
                state[rid] = (k, v)
        assert state == _state(con, first, b)
    con.close()
