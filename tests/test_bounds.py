"""Bounded statements: STATEMENT_TIMEOUT_IN_SECONDS, Connection.cancel(), memory and spill
limits, and the per-connection spill folder outside the lake.

No test waits on a clock to decide anything: a cancel is sent once the statement reported
(``Settings.on_step("statement.run")``) that it runs, and the statements stopped never end on
their own, so the outcome does not depend on the machine's speed. The timeout tests use the
smallest timeout (1 second) and only check that the statement was stopped by it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import chronolake
from chronolake import Settings, StatementCanceled, StatementTimeout
from chronolake.maintenance import remove_orphans

# never ends on its own (10^15 rows, one at a time through a filter nothing passes)
ENDLESS = "SELECT COUNT(*) FROM TABLE(GENERATOR(ROWCOUNT => 1000000000000000)) g WHERE SEQ8() < 0"
ENDLESS_INSERT = f"INSERT INTO t {ENDLESS.replace('COUNT(*)', 'SEQ8()')}"


def _timeout_text(n: int) -> str:
    return (
        f"Statement reached its statement or warehouse timeout of {n} second(s) and was canceled."
    )


def _data_files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


class Running:
    """Runs one statement on a thread; ``started`` is set once it is stoppable."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.error: BaseException | None = None
        self.thread: threading.Thread | None = None

    def on_step(self, name: str) -> None:
        if name == "statement.run":
            self.started.set()

    def run(self, con: chronolake.Connection, sql: str) -> None:
        def work() -> None:
            try:
                con.execute(sql).fetchall()
            except BaseException as e:
                self.error = e

        self.started.clear()
        self.thread = threading.Thread(target=work)
        self.thread.start()
        self.started.wait()

    def join(self) -> BaseException | None:
        assert self.thread is not None
        self.thread.join()
        return self.error


def _connect(path: Path, running: Running | None = None, **kw: Any) -> chronolake.Connection:
    hook: Callable[[str], None] | None = running.on_step if running else None
    return chronolake.connect(path, settings=Settings(on_step=hook, **kw))


# -- cancel() -------------------------------------------------------------------------------


def test_cancel_stops_a_running_query_and_the_connection_goes_on(tmp_path: Path) -> None:
    running = Running()
    with _connect(tmp_path, running) as con:
        running.run(con, ENDLESS)
        assert con.cancel() is True
        err = running.join()
        assert isinstance(err, StatementCanceled) and not isinstance(err, StatementTimeout)
        assert str(err) == "SQL execution canceled."
        assert con.execute("SELECT 1").fetchall() == [(1,)]
        assert con.cancel() is False  # nothing runs
        failed = con.execute(
            "SELECT error_message FROM TABLE(INFORMATION_SCHEMA.QUERY_HISTORY()) "
            "WHERE execution_status = 'FAILED_WITH_ERROR'"
        ).fetchall()
        assert failed == [("SQL execution canceled.",)]


def test_a_canceled_insert_changes_nothing_and_leaves_no_file(tmp_path: Path) -> None:
    running = Running()
    with _connect(tmp_path, running) as con:
        con.execute("CREATE TABLE t (x INT)")
        con.execute("INSERT INTO t VALUES (1)")
        root = Path(con._session.root)  # the tenant prefix, a local folder here
        before = _data_files(root)
        running.run(con, ENDLESS_INSERT)
        assert con.cancel()
        assert isinstance(running.join(), StatementCanceled)
        assert con.execute("SELECT x FROM t").fetchall() == [(1,)]
        assert _data_files(root) == before
        with pytest.raises(chronolake.TimeTravelError):  # no snapshot after the first insert
            con.execute("SELECT COUNT(*) FROM t AT(VERSION => 3)")


def test_cancel_in_a_transaction_keeps_it_open_without_the_statement(tmp_path: Path) -> None:
    running = Running()
    with _connect(tmp_path, running) as con:
        con.execute("CREATE TABLE t (x INT)")
        con.execute("BEGIN")
        con.execute("INSERT INTO t VALUES (1)")
        running.run(con, ENDLESS_INSERT)
        assert con.cancel()
        assert isinstance(running.join(), StatementCanceled)
        assert con.in_transaction
        con.execute("INSERT INTO t VALUES (2)")
        con.execute("COMMIT")
        assert con.execute("SELECT x FROM t ORDER BY x").fetchall() == [(1,), (2,)]


def test_cancel_never_stops_a_statement_at_its_commit(tmp_path: Path) -> None:
    """Once the catalog commit begins, cancel() answers False and the statement commits."""
    answers: list[bool] = []
    holder: list[chronolake.Connection] = []

    def on_step(name: str) -> None:
        if name == "commit.begin" and holder:
            answers.append(holder[0].cancel())

    with chronolake.connect(tmp_path, settings=Settings(on_step=on_step)) as con:
        con.execute("CREATE TABLE t (x INT)")
        holder.append(con)
        con.execute("INSERT INTO t VALUES (7)")
        assert answers == [False]
        assert con.execute("SELECT x FROM t").fetchall() == [(7,)]


# -- STATEMENT_TIMEOUT_IN_SECONDS ------------------------------------------------------------


def test_session_timeout_stops_the_statement(tmp_path: Path) -> None:
    with chronolake.connect(tmp_path) as con:
        con.execute("ALTER SESSION SET STATEMENT_TIMEOUT_IN_SECONDS = 1")
        with pytest.raises(StatementTimeout) as err:
            con.execute(ENDLESS)
        assert str(err.value) == _timeout_text(1)
        assert isinstance(err.value, StatementCanceled)
        assert con.execute("SELECT 2").fetchall() == [(2,)]


def test_timeout_precedence_session_account_settings(tmp_path: Path) -> None:
    """The session's value wins over the account's, which wins over Settings."""
    with _connect(tmp_path, statement_timeout_s=1) as con:
        with pytest.raises(StatementTimeout, match="of 1 second"):
            con.execute(ENDLESS)
        con.execute("ALTER ACCOUNT SET STATEMENT_TIMEOUT_IN_SECONDS = 2")
    with _connect(tmp_path, statement_timeout_s=1) as con:
        with pytest.raises(StatementTimeout, match="of 2 second"):
            con.execute(ENDLESS)
        con.execute("ALTER SESSION SET STATEMENT_TIMEOUT_IN_SECONDS = 1")
        with pytest.raises(StatementTimeout, match="of 1 second"):
            con.execute(ENDLESS)
        con.execute("ALTER SESSION UNSET STATEMENT_TIMEOUT_IN_SECONDS")
        con.execute("ALTER ACCOUNT UNSET STATEMENT_TIMEOUT_IN_SECONDS")
        session = con._session
        from chronolake.sql.statements.parameters import statement_timeout

        assert statement_timeout(session, {}) == 1
        con.execute("ALTER SESSION SET STATEMENT_TIMEOUT_IN_SECONDS = 0")
        assert statement_timeout(session, {}) == 604_800  # 0 is the largest


# -- memory and spill -------------------------------------------------------------------------


def test_spill_goes_to_the_connection_folder_outside_the_lake(tmp_path: Path) -> None:
    lake, spill = tmp_path / "lake", tmp_path / "spill"
    con = _connect(lake, duckdb_memory_limit="20MB", duckdb_threads=1, spill_dir=str(spill))
    folder = con._session.spill_dir
    assert folder.parent == spill and folder.is_dir()
    assert not [p for p in folder.rglob("*") if p.is_file()]
    # a temporary table bigger than the memory limit stays spilled while it exists
    con.execute(
        "CREATE TEMPORARY TABLE big AS SELECT SEQ8() AS id, MD5(TO_VARCHAR(SEQ8())) AS s "
        "FROM TABLE(GENERATOR(ROWCOUNT => 1000000))"
    )
    assert con.execute("SELECT COUNT(DISTINCT s) FROM big").fetchone() == (1_000_000,)
    assert [p for p in folder.rglob("*") if p.is_file()]
    # a new engine (the time zone is an engine setting) spills beside it, never over it
    con.execute("ALTER SESSION SET TIMEZONE = 'Europe/Paris'")
    assert con.execute("SELECT COUNT(DISTINCT s) FROM big").fetchone() == (1_000_000,)
    assert not any(p.name == ".tmp" for p in lake.rglob("*"))
    con.close()
    assert not folder.exists()


def test_spill_space_used_up_is_a_clear_error(tmp_path: Path) -> None:
    with _connect(
        tmp_path / "lake",
        duckdb_memory_limit="20MB",
        duckdb_threads=1,
        duckdb_temp_limit="1MB",
        spill_dir=str(tmp_path / "spill"),
    ) as con:
        with pytest.raises(chronolake.OperationalError) as err:
            con.execute(
                "SELECT COUNT(*) FROM (SELECT MD5(TO_VARCHAR(SEQ8())) AS s, COUNT(*) "
                "FROM TABLE(GENERATOR(ROWCOUNT => 2000000)) GROUP BY s ORDER BY s)"
            )
        assert "Out of spill space" in str(err.value)
        assert "raise the duckdb_temp_limit setting" in str(err.value)
        assert con.execute("SELECT 3").fetchall() == [(3,)]


def test_memory_limit_is_applied(tmp_path: Path) -> None:
    with _connect(tmp_path, duckdb_memory_limit="64MB", duckdb_temp_limit="3GB") as con:
        row = con._session.duck.execute(
            "SELECT current_setting('memory_limit'), current_setting('max_temp_directory_size')"
        ).fetchone()
        assert row is not None and row[0].startswith("61.0 MiB") and row[1].startswith("2.7 GiB")


def test_default_temp_limit_is_capped(tmp_path: Path) -> None:
    from chronolake.engine.spill import DEFAULT_TEMP_CAP, temp_limit

    limit = temp_limit(Settings(), tmp_path)
    assert limit.endswith("B") and 0 < int(limit[:-1]) <= DEFAULT_TEMP_CAP


def test_spill_folders_of_dead_processes_are_removed(tmp_path: Path) -> None:
    spill = tmp_path / "spill"
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    stale = spill / f"{dead.stdout.strip()}-0123456789abcdef"
    stale.mkdir(parents=True)
    (stale / "duckdb_temp_storage-0.tmp").write_bytes(b"x")
    alive = spill / f"{os.getppid()}-fedcba9876543210"  # a running process: kept
    alive.mkdir()
    with _connect(tmp_path / "lake", spill_dir=str(spill)):
        assert not stale.exists()
        assert alive.is_dir()


def test_old_in_lake_spill_folder_is_removed_as_orphans(tmp_path: Path) -> None:
    with chronolake.connect(tmp_path) as con:
        legacy = Path(con._session.root) / ".tmp"
        legacy.mkdir(parents=True)
        (legacy / "duckdb_temp_storage-0.tmp").write_bytes(b"spilled")
        report = remove_orphans(con, grace=0)
        assert report.paths == (".tmp/duckdb_temp_storage-0.tmp",)
        assert not legacy.exists()


def test_spill_folder_of_a_connection_never_closed_goes_at_exit(tmp_path: Path) -> None:
    spill = tmp_path / "spill"
    script = (
        "import sys, chronolake\n"
        "settings = chronolake.Settings(spill_dir=sys.argv[2])\n"
        "con = chronolake.connect(sys.argv[1], settings=settings)\n"
        "print(con._session.spill_dir)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "lake"), str(spill)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(done.stdout.strip()).parent == spill
    assert not list(spill.iterdir())


def test_memory_used_up_is_a_clear_error_and_the_connection_goes_on(tmp_path: Path) -> None:
    with _connect(tmp_path, duckdb_memory_limit="20MB", duckdb_threads=1) as con:
        with pytest.raises(chronolake.OperationalError) as err:  # one 64 MB string: no spilling
            con.execute(
                "SELECT LENGTH(LISTAGG(MD5(TO_VARCHAR(SEQ8())), ',')) "
                "FROM TABLE(GENERATOR(ROWCOUNT => 2000000))"
            )
        assert str(err.value).startswith("Out of Memory Error")
        assert "raise the duckdb_memory_limit setting" in str(err.value)
        assert con.execute("SELECT 4").fetchall() == [(4,)]
