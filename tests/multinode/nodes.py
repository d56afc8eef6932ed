"""What the multi-node tests share: the node script, the model replay and reading the state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from child_events import Child
from lake_forms import LakeSpec

NODE = Path(__file__).resolve().parent / "node.py"
TENANTS = ["acme", "globex", "initech"]


def create_tables(lake: LakeSpec, tenants: list[str]) -> None:
    with lake.lake() as shared:
        for t in tenants:
            con = shared.connect(tenant=t)
            con.execute("CREATE TABLE T (node INT, batch INT, i INT, v VARCHAR)")
            con.execute("CREATE TABLE C AS SELECT 0 AS n")


def replay(
    done: list[tuple[int, dict[str, Any]]], tenants: list[str] = TENANTS
) -> dict[str, dict[tuple[int, int], str]]:
    """Each tenant's rows (node, batch) -> v after the acknowledged operations."""
    state: dict[str, dict[tuple[int, int], str]] = {t: {} for t in tenants}
    for node, op in done:
        rows = state[op["tenant"]]
        key = (node, op["batch"])
        if op["kind"] == "bump":
            continue
        if op["kind"] == "delete":
            del rows[key]
        else:
            rows[key] = op["v"]
    return state


def read(
    lake: LakeSpec, tenants: list[str] = TENANTS
) -> tuple[dict[str, dict[tuple[int, int], str]], dict[str, Any], list[Any]]:
    """(rows as read, counters, batches that are not 10 rows with one value)."""
    state, counters, bad = {}, {}, []
    with lake.lake() as shared:
        for t in tenants:
            rows = (
                shared.connect(tenant=t)
                .execute(
                    "SELECT node, batch, count(*), count(DISTINCT v), min(v), count(DISTINCT i) "
                    "FROM T GROUP BY node, batch"
                )
                .fetchall()
            )
            bad += [(t, r) for r in rows if r[2:4] != (10, 1) or r[5] != 10]
            state[t] = {(r[0], r[1]): r[4] for r in rows}
            counters[t] = shared.connect(tenant=t).execute("SELECT n FROM C").fetchall()
    return state, counters, bad


def until(child: Child, key: str, log: list[tuple[int, dict[str, Any]]], node: int) -> Any:
    """Collect a node's events (into ``log``) up to the first with ``key``; its value."""
    while True:
        event = child.next_event()
        log.append((node, event))
        if key in event:
            return event[key]


def quit_all(children: list[Child]) -> None:
    """Ask every node to exit; each must end cleanly."""
    for child in children:
        child.send("quit")
    for child in children:
        assert child.wait() == 0


def check_replay(
    lake: LakeSpec, events: list[tuple[int, dict[str, Any]]], tenants: list[str] = TENANTS
) -> list[tuple[int, dict[str, Any]]]:
    """No operation failed, no statement is partly applied, every tenant's rows equal the
    replay of the acknowledged operations and its counter their increments; returns them."""
    done = [(k, e["done"]) for k, e in events if "done" in e]
    assert not [e for _, e in events if "failed" in e]
    state, counters, bad = read(lake, tenants)
    assert not bad, f"partially applied statements: {bad}"
    assert state == replay(done, tenants)
    for t in tenants:  # no increment lost, none counted twice
        bumps = sum(1 for _, op in done if op["kind"] == "bump" and op["tenant"] == t)
        assert counters[t] == [(bumps,)], t
    return done
