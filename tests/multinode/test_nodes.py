"""Several nodes (OS processes, each its own ``Lake``) writing one lake at once (ARCHITECTURE.md
invariants 1 and 3), on each form of lake: the local one (SQLite) and the shared one
(PostgreSQL catalog), where this is how stateless nodes run.

Three nodes run a fixed number of seeded inserts, updates and deletes of their own rows in three
tenants, all at once (phase 1), then one at a time while the others look (phase 2). Afterwards:

* no acknowledged commit is lost and nothing else is there: each tenant's table equals the
  replay of the operations the nodes reported as done, in each node's order (a node's rows are
  its own, so the nodes' orders do not matter), and the counter every node increments equals
  the number of acknowledged increments;
* a lost race is a retryable ``ConflictError`` naming the table, and nothing else fails;
* commit times are strictly increasing with snapshot ids in every tenant, and every
  acknowledged statement produced its own snapshot;
* a commit is visible to every other node as soon as it is acknowledged (phase 2).
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from child_events import Child
from lake_forms import LakeSpec
from nodes import NODE, TENANTS, check_replay, create_tables, quit_all, until

NODES, OPS, LOOKS = 3, 25, 6


def test_nodes_share_one_lake(tmp_path: Path, lake_spec: LakeSpec) -> None:
    create_tables(lake_spec, TENANTS)
    events: list[tuple[int, dict[str, Any]]] = []
    children = [
        Child(NODE, [lake_spec.to_arg(), str(k), str(100 + k), *TENANTS], tmp_path / f"n{k}.log")
        for k in range(NODES)
    ]
    try:
        for k, child in enumerate(children):
            until(child, "ready", events, k)
        # phase 1: all at once
        for child in children:
            child.send(f"run {OPS}")
        for k, child in enumerate(children):
            until(child, "idle", events, k)
        # phase 2: one node commits, the others look at once
        for r in range(LOOKS):
            k = r % NODES
            children[k].send("op")
            done = until(children[k], "done", events, k)
            snapshot = events[-1][1]["snapshot"]
            for j, other in enumerate(children):
                if j != k:
                    other.send(f"look {done['tenant']}")
                    seen = until(other, "latest", events, j)
                    assert seen >= snapshot, (
                        f"node {j} sees {seen} after {k} acknowledged {snapshot}"
                    )
        quit_all(children)
    finally:
        for child in children:
            child.close()

    done = check_replay(lake_spec, events)
    conflicts = [e for _, e in events if "conflict" in e]
    assert len(done) == NODES * OPS + LOOKS
    assert all(c["retryable"] is True and "T" in c["message"] for c in conflicts), conflicts

    acked = {(e["done"]["tenant"], e["snapshot"]) for _, e in events if "done" in e}
    assert len(acked) == len(done), "two acknowledged statements share a snapshot"
    for t in TENANTS:
        snaps = lake_spec.catalog_rows(
            "SELECT snapshot_id, commit_time FROM cl_snapshots WHERE tenant_id = :t "
            "ORDER BY snapshot_id",
            t=t,
        )
        times = [time for _, time in snaps]
        assert all(a < b for a, b in itertools.pairwise(times)), f"commit times of {t}"
        assert {s for s, _ in snaps} >= {s for tenant, s in acked if tenant == t}
    print(f"{len(done)} commits, {len(conflicts)} conflicts retried")


def test_maintenance_on_one_node_while_others_write(tmp_path: Path, lake_spec: LakeSpec) -> None:
    """Two nodes write while a third compacts and purges every tenant; then the third purges
    as if three days had passed, with no grace. No acknowledged commit is lost, every state
    reads, and the latest state equals the replay."""
    create_tables(lake_spec, TENANTS)
    events: list[tuple[int, dict[str, Any]]] = []
    children = [
        Child(NODE, [lake_spec.to_arg(), str(k), str(200 + k), *TENANTS], tmp_path / f"m{k}.log")
        for k in range(3)
    ]
    try:
        for k, child in enumerate(children):
            until(child, "ready", events, k)
        for half in range(2):
            for k in (0, 1):
                children[k].send(f"run {OPS // 2}")
            if half:  # the second half races maintenance
                children[2].send("maintain 3")
            for k in (0, 1):
                until(children[k], "idle", events, k)
        raced = until(children[2], "maintained", events, 2)
        children[2].send("maintain 1")  # alone: whatever small files are left get compacted
        maintained = until(children[2], "maintained", events, 2)
        children[2].send("purge-later")
        purged = until(children[2], "purged", events, 2)
        quit_all(children)
    finally:
        for child in children:
            child.close()
    done = check_replay(lake_spec, events)
    assert len(done) == 2 * (OPS // 2) * 2
    # each write leaves a small file: the rounds racing the writers, or the one after them,
    # compact them (a round that loses every attempt to the writers rewrites nothing)
    compacted = [m for m in raced + maintained if len(m) == 4 and m[2] > 0]
    print(f"raced: {raced}; alone: {compacted}; {purged} files purged later")
    assert compacted, f"no compaction rewrote anything: {maintained}"
    assert purged > 0, "purging later deleted no file that compaction replaced"
