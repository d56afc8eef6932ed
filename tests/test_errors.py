"""Every failure a user can cause is a ``chronolake.Error`` that says what to do, and every
failed statement is in QUERY_HISTORY with its error."""

from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from lake_forms import LakeSpec
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

import chronolake
from chronolake.catalog.errors import catalog_error
from chronolake.catalog.sqlite import create_sqlite_engine
from chronolake.engine.errors import duck_error

INTERNALS = ("None", "s0", "Python int", "SET ", "PRAGMA", "Traceback", "sqlalchemy", "sqlite3")


@pytest.fixture
def con(lake_spec: LakeSpec) -> Any:
    c = lake_spec.connect()
    c.execute("CREATE TABLE t (id INT, d DATE)")
    c.execute("INSERT INTO t VALUES (1, '2024-01-01')")
    yield c
    c.close()


def clean(e: chronolake.Error) -> str:
    """The message, checked to show no Python or engine internals."""
    message = str(e)
    for word in INTERNALS:
        assert word not in message, message
    return message


def failed(con: Any) -> list[tuple[str, str]]:
    rows = con.execute(
        "SELECT query_text, error_message FROM INFORMATION_SCHEMA.QUERY_HISTORY "
        "WHERE execution_status = 'FAILED_WITH_ERROR' ORDER BY start_time"
    ).fetchall()
    return [(str(q), str(m)) for q, m in rows]


# -- opening ------------------------------------------------------------------------------


def test_connect_none_is_an_interface_error() -> None:
    with pytest.raises(chronolake.InterfaceError, match="must be a string or a path, not NoneType"):
        chronolake.connect(None)  # type: ignore[arg-type]


def test_connect_empty_path_is_an_error_and_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(chronolake.InterfaceError, match="The lake path is empty"):
        chronolake.connect("")
    assert list(tmp_path.iterdir()) == []


def test_connect_to_a_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(chronolake.ProgrammingError, match="is a file, not a lake"):
        chronolake.connect(path)
    with pytest.raises(chronolake.ProgrammingError, match="a part of that path is a file"):
        chronolake.connect(path / "lake")
    assert path.read_text() == "hello"


def test_truncated_catalog_is_an_operational_error(tmp_path: Path) -> None:
    chronolake.connect(tmp_path).close()
    with open(tmp_path / "catalog.sqlite", "r+b") as f:
        f.truncate(1000)
    with pytest.raises(chronolake.OperationalError, match=r"catalog.sqlite. is damaged") as info:
        chronolake.connect(tmp_path)
    clean(info.value)
    with pytest.raises(chronolake.OperationalError, match="is damaged"):
        chronolake.connect(tmp_path, read_only=True)


def test_a_file_that_is_not_a_catalog_is_an_operational_error(tmp_path: Path) -> None:
    (tmp_path / "catalog.sqlite").write_bytes(b"not a database " * 100)
    with pytest.raises(chronolake.OperationalError, match="not a chronolake catalog") as info:
        chronolake.connect(tmp_path)
    clean(info.value)


def test_sqlite_read_only_error_is_translated_by_its_code(tmp_path: Path) -> None:
    # A real SQLITE_READONLY: a write through an engine that opened the catalog read-only.
    chronolake.connect(tmp_path).close()
    engine = create_sqlite_engine(tmp_path / "catalog.sqlite", 1.0, read_only=True)
    try:
        with pytest.raises(sa_exc.OperationalError) as info, engine.connect() as conn:
            conn.execute(text("CREATE TABLE x (a INT)"))
    finally:
        engine.dispose()
    err = catalog_error(info.value)
    assert type(err) is chronolake.OperationalError
    assert "cannot be written" in str(err) and "read_only=True" in str(err)


def _immutable(path: Path, on: bool) -> bool:
    """chattr -R +i/-i: files and directories no process may change, root included."""
    try:
        done = subprocess.run(
            ["chattr", "-R", "+i" if on else "-i", str(path)], capture_output=True, check=False
        )
    except FileNotFoundError:
        return False
    return done.returncode == 0


def test_lake_that_no_one_may_write(tmp_path: Path) -> None:
    # Immutable files and directories behave as a read-only mount, for root too.
    lake = tmp_path / "lake"
    with chronolake.connect(lake) as c:
        c.execute("CREATE TABLE t AS SELECT 1 AS a")
        c.execute("INSERT INTO t VALUES (2)")
    if not _immutable(lake, True):
        pytest.skip("chattr +i is not available here (it needs CAP_LINUX_IMMUTABLE)")
    try:
        with chronolake.connect(lake, read_only=True) as ro:
            assert ro.execute("SELECT a FROM t ORDER BY a").fetchall() == [(1,), (2,)]
            assert ro.execute("SELECT count(*) FROM t AT(VERSION => 1)").fetchone() == (1,)
            with pytest.raises(chronolake.ReadOnlyError):
                ro.execute("INSERT INTO t VALUES (3)")
        with pytest.raises(chronolake.OperationalError, match="unless read_only=True") as info:
            chronolake.connect(lake)
        clean(info.value)
    finally:
        _immutable(lake, False)
    assert sorted(p.name for p in lake.iterdir()) == ["catalog.sqlite", "data"]


# -- statements ---------------------------------------------------------------------------


def test_parameters_that_are_not_a_sequence(con: Any) -> None:
    with pytest.raises(chronolake.InterfaceError, match=r"sequence \(list or tuple\).*not int"):
        con.execute("SELECT ?", 5)


def test_deeply_nested_sql_is_a_sql_error_and_is_recorded(con: Any) -> None:
    parens = "SELECT " + "(" * 5000 + "1" + ")" * 5000
    subqueries = "SELECT * FROM " + "(SELECT * FROM " * 2000 + "t" + ")" * 2000
    for sql in (parens, subqueries):
        with pytest.raises(chronolake.SqlError, match="nested too deeply") as info:
            con.execute(sql)
        clean(info.value)
    assert [q for q, _ in failed(con)] == [parens, subqueries]
    assert all("nested too deeply" in m for _, m in failed(con))


def test_restore_table_with_bad_points(con: Any) -> None:
    with pytest.raises(chronolake.ProgrammingError, match="version takes a whole number"):
        con.restore_table("t", "version:abc")
    with pytest.raises(chronolake.ProgrammingError, match="offset takes a number of seconds"):
        con.restore_table("t", "offset:soon")
    with pytest.raises(chronolake.ProgrammingError, match="Invalid point 'bogus'"):
        con.restore_table("t", "bogus")
    with pytest.raises(
        chronolake.TimeTravelError, match="No snapshot found at version 99999999999999999999"
    ) as info:
        con.restore_table("t", "version:99999999999999999999")
    clean(info.value)


def test_huge_version_in_sql(con: Any) -> None:
    with pytest.raises(chronolake.TimeTravelError, match=r"No snapshot found at version 9{20}$"):
        con.execute("SELECT * FROM t AT(VERSION => 99999999999999999999)")


def test_null_statement_points_say_null(con: Any) -> None:
    with pytest.raises(chronolake.TimeTravelError, match=r"^Invalid data type \[NULL\] in AT"):
        con.execute("SELECT * FROM t AT(STATEMENT => NULL)")
    with pytest.raises(chronolake.TimeTravelError, match=r"^Statement NULL not found$"):
        con.execute("REVERT STATEMENT ?", [None])


def test_conversion_errors_do_not_name_internal_columns(con: Any) -> None:
    with pytest.raises(chronolake.DataError, match="Could not convert string 'x'") as info:
        con.execute("INSERT INTO t SELECT 'x', '2024-01-01'")
    clean(info.value)


def test_engine_hints_to_run_set_are_removed(con: Any) -> None:
    with pytest.raises(chronolake.Error, match="More than one row returned by a subquery") as info:
        con.execute("SELECT (SELECT id FROM (SELECT 1 AS id UNION ALL SELECT 2))")
    assert "scalar_subquery_error_on_multiple_rows" not in str(info.value)
    clean(info.value)


def test_missing_data_file(lake_spec: LakeSpec) -> None:
    con = lake_spec.connect()
    con.execute("CREATE TABLE t AS SELECT 1 AS a")
    assert lake_spec.delete_files(".parquet") == 1
    with pytest.raises(chronolake.OperationalError, match="restore the lake's data") as info:
        con.execute("SELECT * FROM t")
    assert lake_spec.location not in str(info.value)  # no absolute path of the lake
    assert str(lake_spec.storage) not in str(info.value)
    assert failed(con) == [("SELECT * FROM t", str(info.value))]
    con.close()


# -- the catalog during a statement -------------------------------------------------------


def test_lost_snapshot_race_is_a_retryable_conflict(con: Any, lake_spec: LakeSpec) -> None:
    # Another writer took the next snapshot's key for this table first.
    table_id, latest = con.execute(
        "SELECT t.table_id, max(s.snapshot_id) FROM INFORMATION_SCHEMA.TABLES t, "
        "INFORMATION_SCHEMA.SNAPSHOTS s WHERE t.table_name = 'T' GROUP BY t.table_id"
    ).fetchone()
    lake_spec.catalog_execute(
        "INSERT INTO cl_table_changes (tenant_id, table_id, snapshot_id, ddl, operation, "
        "rows_added, rows_removed) VALUES ('default', :t, :s, :ddl, 'INSERT', 0, 0)",
        t=table_id,
        s=latest + 1,
        ddl=False,
    )
    with pytest.raises(chronolake.ConflictError, match="retry it") as info:
        con.execute("INSERT INTO t VALUES (2, NULL)")
    assert info.value.retryable and info.value.http_status == 409
    assert failed(con) == [("INSERT INTO t VALUES (2, NULL)", str(info.value))]
    assert con.execute("SELECT count(*) FROM t").fetchone() == (1,)


def test_locked_catalog_is_catalog_busy_and_still_recorded(tmp_path: Path) -> None:
    settings = chronolake.Settings(catalog_busy_timeout_s=0.05)
    con = chronolake.connect(tmp_path, settings=settings)
    con.execute("CREATE TABLE t (id INT)")
    locker = sqlite3.connect(tmp_path / "catalog.sqlite", isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")  # held until ROLLBACK below, whatever the timeout
    try:
        with pytest.raises(chronolake.CatalogBusy, match="locked by another writer") as info:
            con.execute("INSERT INTO t VALUES (1)")
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert info.value.retryable
    # the history row could not be written while the lock was held; it is written now
    assert failed(con) == [("INSERT INTO t VALUES (1)", str(info.value))]
    con.close()


def test_error_classes_carry_status_and_retryable() -> None:
    table = {
        chronolake.ReadOnlyError: (403, False),
        chronolake.CatalogBusy: (503, True),
        chronolake.ConflictError: (409, True),
        chronolake.NotFound: (404, False),
        chronolake.InterfaceError: (400, False),
    }
    for cls, (status, retryable) in table.items():
        assert issubclass(cls, chronolake.Error)
        assert (cls.http_status, cls.retryable) == (status, retryable)
    assert issubclass(chronolake.ReadOnlyError, chronolake.PermissionDenied)


# -- the rest of the Python API -----------------------------------------------------------


def test_statement_that_is_not_a_string(con: Any) -> None:
    with pytest.raises(chronolake.InterfaceError, match=r"must be a string .str., not NoneType"):
        con.execute(None)
    with pytest.raises(chronolake.InterfaceError, match="not bytes"):
        con.execute(b"SELECT 1")
    with pytest.raises(chronolake.InterfaceError, match="each a list or tuple"):
        con.cursor().executemany("INSERT INTO t (id) VALUES (?)", [5])


def test_bad_table_names_and_points_in_the_api(con: Any) -> None:
    with pytest.raises(chronolake.ProgrammingError, match="The table name is empty"):
        chronolake.write_arrow(con, pa.table({"id": [1]}), "")
    with pytest.raises(chronolake.ProgrammingError, match=r"must be a string .* not NoneType"):
        con.table_history(None)
    with pytest.raises(chronolake.ProgrammingError, match="A point must be a string"):
        con.restore_table("t", None)


def test_data_arrow_cannot_convert_is_a_data_error(con: Any) -> None:
    import pandas as pd  # the dev extra that tests install

    frame = pd.DataFrame({"id": [1, "x", 2.5]})
    with pytest.raises(chronolake.DataError, match=r"Invalid data: .*Could not convert 'x'"):
        chronolake.write_pandas(con, frame, "t")


def test_a_clock_without_time_zone_is_refused(tmp_path: Path) -> None:
    with pytest.raises(chronolake.ProgrammingError, match="must return an aware datetime"):
        chronolake.connect(tmp_path, clock=lambda: dt.datetime(2024, 1, 1))
    assert list(tmp_path.iterdir()) == []


# -- engine messages, as DuckDB words them ---------------------------------------------------

OUT_OF_MEMORY = (
    "Out of Memory Error: failed to allocate data of size 16.0 MiB (16.1 MiB/19.0 MiB used)\n"
    "Possible solutions:\n* Reducing the number of threads (SET threads=X)\n"
    "* Disabling insertion-order preservation (SET preserve_insertion_order=false)\n"
    "See also https://duckdb.org/docs/current/guides/performance/how_to_tune_workloads"
)
TOO_DEEP = (
    'Binder Error: Max expression depth limit of 1000 exceeded. Use "SET max_expression_depth '
    'TO x" to increase the maximum expression depth.'
)
DIVISION = (
    "Invalid Input Error: Division by zero in expression x / 0. Use TRY(...) to return NULL "
    "for this expression, or SET error_on_division_by_zero=false to return NULL for all "
    "divisions by zero."
)


def test_engine_messages_lose_their_engine_hints() -> None:
    oom = duck_error(duckdb.OutOfMemoryException(OUT_OF_MEMORY))
    assert type(oom) is chronolake.OperationalError
    assert str(oom) == (
        "Out of Memory Error: failed to allocate data of size 16.0 MiB (16.1 MiB/19.0 MiB "
        "used). The statement needs more memory than the engine may use: raise the "
        "duckdb_memory_limit setting or make the statement read less."
    )
    deep = duck_error(duckdb.BinderException(TOO_DEEP))
    assert type(deep) is chronolake.SqlError and "nested too deeply" in str(deep)
    division = duck_error(duckdb.InvalidInputException(DIVISION))
    assert str(division) == "Invalid Input Error: Division by zero in expression x / 0."
    for err in (oom, deep, division):
        clean(err)
