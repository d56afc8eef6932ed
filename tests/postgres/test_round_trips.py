"""How many round trips to the PostgreSQL catalog a commit and a query take.

libpq's protocol trace of every catalog connection is counted: each round trip ends with
one ReadyForQuery message from the server. The counts are the catalog's cost on a network,
so they are held here (a regression would add milliseconds per statement on a real one).
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

import pytest
from sqlalchemy import event

import chronolake
from chronolake.catalog import postgres


class Trace:
    """The protocol trace of every connection the lake's catalog engine opens."""

    def __init__(self, lake: chronolake.Lake, file: IO[str]) -> None:
        self.path = Path(file.name)
        self.file = file
        lake.catalog.engine.dispose()  # connections opened from now on are traced
        event.listen(lake.catalog.engine, "connect", self._on_connect)

    def _on_connect(self, dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.pgconn.trace(self.file.fileno())

    def round_trips(self) -> int:
        return self.path.read_text().count("ReadyForQuery")


def test_round_trips(tmp_path: Path, pg_catalog: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # a connection idle for a second is pinged once: never here, whatever the machine's load
    monkeypatch.setattr(postgres, "_IDLE_PING_S", float("inf"))
    with (
        (tmp_path / "trace.log").open("w") as out,
        chronolake.Lake(pg_catalog, str(tmp_path / "files")) as lake,
    ):
        trace = Trace(lake, out)
        con = lake.connect()
        con.execute("CREATE TABLE t (id INT, name VARCHAR)")
        con.execute("INSERT INTO t VALUES (-1, 'x')")
        out.flush()
        assert "synchronous_commit" not in trace.path.read_text()  # commits wait for the disk
        con.execute("DELETE FROM t")
        for i in range(3):  # the namespace and the table's files are read and cached
            con.execute("INSERT INTO t VALUES (?, 'x')", [i])
            con.execute("SELECT count(*) FROM t").fetchall()
            con.execute("SELECT count(*) FROM t AT(VERSION => 2)").fetchall()

        def cost(sql: str, params: list[Any] | None = None) -> int:
            before = trace.round_trips()
            con.execute(sql, params).fetchall()
            return trace.round_trips() - before

        # the latest snapshot; BEGIN, lock, latest, clock, row ids; the rows and COMMIT
        assert cost("INSERT INTO t VALUES (?, 'y')", [9]) == 3
        # the latest snapshot, the table's version and files at it, the statement's history
        assert cost("SELECT count(*) FROM t") == 4
        # again: the table's version and files at that snapshot are cached
        assert cost("SELECT count(*) FROM t") == 2
        assert cost("SELECT count(*) FROM t AT(VERSION => 2)") == 2
        assert con.execute("SELECT count(*) FROM t").fetchall() == [(4,)]

        # a history row alone is committed without waiting for the log flush (in the same
        # round trip); psycopg prepares repeated statements, so its text is sent once
        out.flush()
        assert "SET LOCAL synchronous_commit = off" in trace.path.read_text()
        con.close()
