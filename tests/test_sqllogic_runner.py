"""The SQL script runner itself, checked against a tiny DuckDB-backed stand-in for the core."""

from __future__ import annotations

import datetime as dt
import decimal
import types
from pathlib import Path
from typing import Any

import duckdb
import pytest
from sqllogic.runner import (
    Backend,
    Connection,
    FakeClock,
    Halt,
    Query,
    Restart,
    ScriptError,
    ScriptFailure,
    Sleep,
    Statement,
    parse_script,
    render_value,
    run_script,
)

# -- a stand-in backend --------------------------------------------------------------------------


class FakeError(Exception):
    pass


class FakeDenied(FakeError):
    pass


class FakeCursor:
    def __init__(self, con: FakeConnection) -> None:
        self.con = con
        self.description: Any = None
        self._rows: list[Any] = []

    def execute(self, sql: str) -> None:
        if sql.strip().upper() == "SELECT NOW()":
            self.description = [("NOW",)]
            self._rows = [(self.con.clock(),)]
            return
        if sql.strip().upper() == "CRASH":
            raise RuntimeError("boom")
        if "read_csv" in sql:
            raise FakeDenied("read_csv is not allowed")
        try:
            cur = self.con.db.execute(sql)
            is_query = sql.lstrip().upper().startswith(("SELECT", "WITH"))
            self.description = cur.description if is_query else None
            self._rows = cur.fetchall() if is_query else []
        except duckdb.Error as exc:
            raise FakeError(str(exc)) from None

    def fetchall(self) -> list[Any]:
        return self._rows


class FakeConnection:
    def __init__(self, path: str, *, clock: Any, tenant: str = "default") -> None:
        Path(path).mkdir(parents=True, exist_ok=True)
        self.db = duckdb.connect(str(Path(path) / f"{tenant}.duckdb"))
        self.clock = clock

    def cursor(self) -> FakeCursor:
        return FakeCursor(self)

    def close(self) -> None:
        self.db.close()


FAKE = Backend(
    connect=FakeConnection,
    error=FakeError,
    errors=types.SimpleNamespace(Error=FakeError, PermissionDenied=FakeDenied),
)


def run(tmp_path: Path, text: str, **kwargs: Any) -> None:
    script = tmp_path / "script.test"
    script.write_text(text)
    run_script(script, tmp_path / "lake", FAKE, **kwargs)


# -- parsing ---------------------------------------------------------------------------------------

SCRIPT = """\
# a comment
statement ok
CREATE TABLE t (id INT,
  name VARCHAR)

statement error Error
SELECT * FROM nope
----
does not exist

statement error PermissionDenied
SELECT * FROM read_csv('x')
----
is not allowed

query IT rowsort
SELECT * FROM t
----
1\ta
2\tb

query I
SELECT 1 WHERE false

sleep 10
sleep 2 minutes
connection other tenant=acme
restart
halt
"""


def test_parse_every_record_kind() -> None:
    records = parse_script(SCRIPT, "s.test")
    assert records == [
        Statement(2, "CREATE TABLE t (id INT,\n  name VARCHAR)", False),
        Statement(6, "SELECT * FROM nope", True, "Error", "does not exist"),
        Statement(11, "SELECT * FROM read_csv('x')", True, "PermissionDenied", "is not allowed"),
        Query(16, "SELECT * FROM t", "IT", "rowsort", ("1\ta", "2\tb")),
        Query(22, "SELECT 1 WHERE false", "I", "nosort", ()),
        Sleep(25, 10),
        Sleep(26, 120),
        Connection(27, "other", {"tenant": "acme"}),
        Restart(28),
        Halt(29),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("frobnicate\n", "unknown record type"),
        ("query II\nSELECT 1, 2\n----\n1 2\n", "tab-separated"),
        ("query I sideways\nSELECT 1\n", "bad sort mode"),
        ("statement ok\nSELECT 1\n----\nx\n", "takes no '----'"),
        ("statement ok\n\n", "no SQL"),
        ("sleep soon\n", "bad sleep amount"),
        ("statement error\nSELECT 1\n----\nboom\n", "needs the error class"),
        ("statement error Error\nSELECT 1\n", "needs the expected message"),
        ("statement error Error\nSELECT 1\n----\n\n", "needs the expected message"),
    ],
)
def test_parse_errors_name_the_line(text: str, message: str) -> None:
    with pytest.raises(ScriptError, match=message) as info:
        parse_script(text, "bad.test")
    assert "bad.test:1:" in str(info.value)


# -- rendering -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "NULL"),
        (True, "true"),
        (False, "false"),
        (42, "42"),
        (decimal.Decimal("9.50"), "9.50"),
        (1 / 3, "0.333333"),
        (3.0, "3.0"),
        (0.1 + 0.2, "0.3"),
        (-0.0, "0.0"),
        (1e20, "1e+20"),
        (float("nan"), "NaN"),
        ("", "(empty)"),
        ("a\tb\nc", "a\\tb\\nc"),
        (dt.date(2024, 2, 29), "2024-02-29"),
        (dt.datetime(2024, 1, 1, 12, 0), "2024-01-01 12:00:00"),
        (dt.datetime(2024, 1, 1, 12, 0, 0, 5), "2024-01-01 12:00:00.000005"),
        (
            dt.datetime(2024, 1, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=2))),
            "2024-01-01 12:00:00+02:00",
        ),
        ({"a": [1, 2]}, '{"a":[1,2]}'),
        (b"\x01\xff", "01FF"),
    ],
)
def test_render_value(value: Any, text: str) -> None:
    assert render_value(value) == text


def test_fake_clock_ticks_and_sleeps() -> None:
    clock = FakeClock()
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    assert clock() == start
    assert clock() == start + dt.timedelta(milliseconds=1)
    clock.advance(10)
    assert clock() == start + dt.timedelta(seconds=10, milliseconds=2)


# -- executing -------------------------------------------------------------------------------------


def test_a_passing_script(tmp_path: Path) -> None:
    run(
        tmp_path,
        """\
statement ok
CREATE TABLE t (id INT, name VARCHAR, amount DECIMAL(10,2), f DOUBLE)

statement ok
INSERT INTO t VALUES (2, 'b', 20, 0.5), (1, '', 9.5, NULL)

query ITRR rowsort
SELECT * FROM t
----
1\t(empty)\t9.50\tNULL
2\tb\t20.00\t0.5

statement error Error
SELECT * FROM nope
----
<REGEX>:Table with name [Nn][Oo][Pp][Ee] does not exist

statement error PermissionDenied
SELECT * FROM read_csv('x')
----
is not allowed

connection other

query I
SELECT count(*) FROM t
----
2

sleep 3600

query T
SELECT NOW()
----
2024-01-01 01:00:00+00:00

restart

query I
SELECT count(*) FROM t
----
2

halt

statement ok
this is never run
""",
    )


def test_a_wrong_result_shows_path_line_sql_expected_and_actual(tmp_path: Path) -> None:
    with pytest.raises(ScriptFailure) as info:
        run(tmp_path, "statement ok\nSELECT 1\n\nquery I\nSELECT 41 + 1\n----\n43\n")
    text = str(info.value)
    assert "script.test:4: wrong result" in text
    assert "SELECT 41 + 1" in text
    assert "Expected:\n    43" in text
    assert "Actual:\n    42" in text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("statement ok\nSELECT * FROM nope\n", "statement failed"),
        ("statement error Error\nSELECT 1\n----\nx\n", "succeeded but an error was expected"),
        ("statement error Error\nSELECT * FROM nope\n----\nsomething\n", "wrong error message"),
        ("statement error PermissionDenied\nSELECT * FROM nope\n----\nnope\n", "wrong error class"),
        ("statement error Error\nCRASH\n----\nboom\n", "not a chronolake error"),
        ("statement error Nonsense\nSELECT * FROM nope\n----\nx\n", "unknown error class"),
        ("query I\nCRASH\n", "not a chronolake error"),
        ("query II\nSELECT 1\n----\n", "returned 1 columns but declares 2"),
        ("query I\nCREATE TABLE x (i INT)\n", "no result set"),
    ],
)
def test_failures(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ScriptFailure, match=message):
        run(tmp_path, text)


def test_without_stop_on_failure_every_failure_is_listed(tmp_path: Path) -> None:
    with pytest.raises(ScriptFailure) as info:
        run(
            tmp_path,
            "query I\nSELECT 1\n----\n2\n\nquery I\nSELECT 3\n----\n4\n",
            stop_on_failure=False,
        )
    assert "script.test:1:" in str(info.value)
    assert "script.test:6:" in str(info.value)
