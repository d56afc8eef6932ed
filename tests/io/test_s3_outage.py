"""The S3 server stops (SIGKILL) under a connection: writes fail with a clear error and commit
nothing; reads of files the engine already holds still work; other reads fail clearly."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from services.s3 import start_s3

import chronolake


def test_storage_outage(tmp_path: Path) -> None:
    server = start_s3()  # a server of its own: this test kills it
    try:
        con = chronolake.connect(
            f"sqlite:///{tmp_path / 'catalog.sqlite'}",
            f"s3://{server.create_bucket()}/lake",
            storage_options=server.options,
        )
        con.execute("CREATE TABLE t (id INT)")
        con.execute("INSERT INTO t SELECT range FROM range(3000)")
        con.execute("CREATE TABLE u (id INT)")
        con.execute("INSERT INTO u SELECT range FROM range(3000)")
        assert con.execute("SELECT count(*) FROM t").fetchone() == (3000,)
        snapshots = "SELECT count(*) FROM INFORMATION_SCHEMA.SNAPSHOTS"
        before = con.execute(snapshots).fetchone()
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait()
        for sql in (
            "INSERT INTO t VALUES (1)",
            "INSERT INTO t SELECT range FROM range(5000)",
            "DELETE FROM t WHERE id = 5",
        ):
            with pytest.raises(
                chronolake.OperationalError, match=r"Cannot write s3://.*NETWORK_CONNECTION"
            ):
                con.execute(sql)
        assert con.execute(snapshots).fetchone() == before
        assert con.execute("SELECT count(*) FROM t").fetchone() == (3000,)  # already read
        with pytest.raises(
            chronolake.OperationalError, match=r"The lake's storage could not be read \("
        ):
            con.execute("SELECT count(*) FROM u")
        con.close()
    finally:
        server.stop()
