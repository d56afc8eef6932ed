"""The catalog database restarts under a node (PostgreSQL, a server of this test's own).

A node pauses inside a commit (after writing the catalog rows, before the transaction ends);
the server is stopped at once and started again; the commit fails with a retryable
``CatalogUnavailable`` (an ``OperationalError``) and leaves nothing behind, and the node's next
statements succeed. Then the server restarts while the node is idle: its next statements
succeed too (dead pooled connections are replaced, not reported). The final state equals the
replay of the acknowledged
operations, and commit times stay strictly increasing.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any

import pytest
from child_events import Child
from lake_forms import LakeSpec
from nodes import NODE, check_replay, create_tables, until
from services.postgres import PostgresServer, PostgresUnavailable

TENANTS = ["acme"]


@pytest.fixture
def own_server() -> Any:
    try:
        server = PostgresServer.start()
    except PostgresUnavailable as e:
        if os.environ.get("CI"):
            pytest.fail(str(e), pytrace=False)
        pytest.skip(str(e))
    yield server
    server.stop()


def test_catalog_restart_mid_commit(tmp_path: Path, own_server: PostgresServer) -> None:
    spec = LakeSpec("shared", own_server.create_database().url, str(tmp_path / "lake"))
    create_tables(spec, TENANTS)
    events: list[tuple[int, dict[str, Any]]] = []
    with Child(NODE, [spec.to_arg(), "0", "7", *TENANTS], tmp_path / "node.log") as node:
        until(node, "ready", events, 0)
        node.send("run 5")
        until(node, "idle", events, 0)

        node.send("pause commit.write")
        node.send("op")
        assert until(node, "paused", events, 0) == "commit.write"
        own_server.restart()
        node.resume()
        failed = until(node, "failed", events, 0)
        last = events[-1][1]
        assert last["error"] == "CatalogUnavailable" and last["retryable"] is True, last
        assert "password" not in last["message"] and spec.location not in last["message"]

        node.send("run 3")  # later statements succeed
        until(node, "idle", events, 0)
        own_server.restart()  # while the node is idle: its pooled connections are dead
        node.send("run 3")
        until(node, "idle", events, 0)
        node.send("quit")
        assert node.wait() == 0

    failures = [e for _, e in events if "failed" in e]
    assert len(failures) == 1 and failures[0]["failed"] == failed
    # nothing of the failed commit is visible: the state is the acknowledged operations'
    done = check_replay(spec, [e for e in events if "failed" not in e[1]], TENANTS)
    assert len(done) == 11
    snaps = spec.catalog_rows(
        "SELECT snapshot_id, commit_time FROM cl_snapshots WHERE tenant_id = 'acme' "
        "ORDER BY snapshot_id"
    )
    assert all(a[1] < b[1] for a, b in itertools.pairwise(snaps))
    assert [s for s, _ in snaps] == list(range(1, len(snaps) + 1))
