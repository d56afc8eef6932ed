"""A sqllogictest-style runner for chronolake SQL scripts.

The format (DuckLake / sqllogictest flavoured) is documented in ``README.md`` beside this file.
A script is parsed into records, then run top to bottom against one lake directory; every
connection of the script shares one :class:`FakeClock`, so commit times are deterministic and
``sleep N`` costs nothing.

Run scripts directly (all failures of a script are listed, not only the first)::

    .venv/bin/python tests/sqllogic/runner.py tests/sql/time_travel/*.test
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import os
import re
import shlex
import sys
import tempfile
import threading
import traceback
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CLOCK_START = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
CLOCK_TICK = dt.timedelta(milliseconds=1)
REGEX_PREFIX = "<REGEX>:"
ANY_VALUE = "<ANY>"  # an expected value that matches any value (times a script cannot know)
SORT_MODES = ("nosort", "rowsort", "valuesort")
FLOAT_DECIMALS = 6


class ScriptError(Exception):
    """A malformed script (reported with its path and line)."""


class ScriptFailure(AssertionError):
    """One or more records of a script did not behave as expected."""


# ---------------------------------------------------------------------------------------------
# Records


@dataclass(frozen=True)
class Statement:
    line: int
    sql: str
    expect_error: bool
    # both required by the parser for an expected error (``statement ok`` has neither)
    error_class: str | None = None  # e.g. "PermissionDenied": the error must be an instance
    error_text: str | None = None  # substring (or <REGEX>:pattern) of str(error)


@dataclass(frozen=True)
class Query:
    line: int
    sql: str
    types: str
    sort: str
    expected: tuple[str, ...]


@dataclass(frozen=True)
class Sleep:
    line: int
    seconds: float


@dataclass(frozen=True)
class Connection:
    line: int
    name: str
    options: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Restart:
    line: int


@dataclass(frozen=True)
class Halt:
    line: int


Record = Statement | Query | Sleep | Connection | Restart | Halt


# ---------------------------------------------------------------------------------------------
# Parser


def parse_script(text: str, path: str = "<script>") -> list[Record]:
    """Parse a script into records; raise :class:`ScriptError` on malformed input."""
    lines = text.splitlines()
    records: list[Record] = []
    i = 0

    def fail(lineno: int, message: str) -> ScriptError:
        return ScriptError(f"{path}:{lineno}: {message}")

    def read_block(start: int) -> tuple[list[str], int]:
        """Lines from start up to a blank line or EOF (the blank line is consumed)."""
        block: list[str] = []
        j = start
        while j < len(lines) and lines[j].strip() != "":
            block.append(lines[j].rstrip("\r\n"))
            j += 1
        return block, j

    def read_sql(start: int, lineno: int) -> tuple[str, int, bool]:
        """SQL lines up to a blank line, ``----`` or EOF; tells whether ``----`` was met."""
        sql_lines: list[str] = []
        j = start
        while j < len(lines) and lines[j].strip() != "" and lines[j].rstrip() != "----":
            sql_lines.append(lines[j].rstrip())
            j += 1
        if not sql_lines:
            raise fail(lineno, "record has no SQL")
        separator = j < len(lines) and lines[j].rstrip() == "----"
        if separator:
            j += 1
        return "\n".join(sql_lines), j, separator

    while i < len(lines):
        raw = lines[i]
        stripped = raw.strip()
        lineno = i + 1
        if not stripped or stripped.startswith("#"):
            i += 1
            continue
        words = stripped.split()
        head = words[0]
        if head == "statement":
            if len(words) < 2 or words[1] not in ("ok", "error"):
                raise fail(lineno, "expected 'statement ok' or 'statement error [ErrorClass]'")
            expect_error = words[1] == "error"
            error_class = None
            if len(words) > 2:
                if not expect_error or len(words) > 3:
                    raise fail(lineno, f"unexpected arguments: {stripped!r}")
                error_class = words[2]
            elif expect_error:
                raise fail(
                    lineno,
                    "'statement error' needs the error class it expects, e.g. "
                    "'statement error PermissionDenied'",
                )
            sql, i, separator = read_sql(i + 1, lineno)
            error_text = None
            if separator:
                if not expect_error:
                    raise fail(lineno, "'statement ok' takes no '----' section")
                block, i = read_block(i)
                error_text = "\n".join(block) or None
            if expect_error and error_text is None:
                raise fail(lineno, "'statement error' needs the expected message after '----'")
            records.append(Statement(lineno, sql, expect_error, error_class, error_text))
        elif head == "query":
            if len(words) < 2:
                raise fail(lineno, "query needs type characters, e.g. 'query ITR rowsort'")
            types = words[1]
            if not re.fullmatch(r"[A-Za-z]+", types):
                raise fail(lineno, f"bad type characters {types!r}")
            sort = words[2] if len(words) > 2 else "nosort"
            if sort not in SORT_MODES or len(words) > 3:
                raise fail(lineno, f"bad sort mode {' '.join(words[2:])!r}; use {SORT_MODES}")
            sql, i, separator = read_sql(i + 1, lineno)
            expected: list[str] = []
            if separator:
                expected, i = read_block(i)
            for offset, row in enumerate(expected):
                if len(row.split("\t")) != len(types):
                    raise fail(
                        lineno,
                        f"expected row {offset + 1} {row!r} has {len(row.split(chr(9)))} "
                        f"tab-separated values but the query declares {len(types)} columns",
                    )
            records.append(Query(lineno, sql, types, sort, tuple(expected)))
        elif head == "sleep":
            if len(words) not in (2, 3) or (len(words) == 3 and words[2] not in _UNITS):
                raise fail(lineno, "expected 'sleep N [seconds|minutes|hours|days]'")
            try:
                amount = float(words[1])
            except ValueError:
                raise fail(lineno, f"bad sleep amount {words[1]!r}") from None
            unit = words[2] if len(words) == 3 else "seconds"
            records.append(Sleep(lineno, amount * _UNITS[unit]))
            i += 1
        elif head == "connection":
            if len(words) < 2:
                raise fail(lineno, "expected 'connection NAME [tenant=T]'")
            options: dict[str, str] = {}
            for word in shlex.split(stripped)[2:]:
                key, eq, value = word.partition("=")
                if not eq or key not in ("tenant",):
                    raise fail(lineno, f"bad connection option {word!r} (known: tenant=NAME)")
                options[key] = value
            records.append(Connection(lineno, words[1], options))
            i += 1
        elif head == "restart":
            records.append(Restart(lineno))
            i += 1
        elif head == "halt":
            records.append(Halt(lineno))
            i += 1
        else:
            raise fail(lineno, f"unknown record type {head!r}")
    return records


_UNITS = {
    "second": 1,
    "seconds": 1,
    "minute": 60,
    "minutes": 60,
    "hour": 3600,
    "hours": 3600,
    "day": 86400,
    "days": 86400,
}


# ---------------------------------------------------------------------------------------------
# Rendering


def render_value(value: Any) -> str:
    """Render one result value the way expected results are written."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, float):
        return render_float(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex().upper()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict | list | tuple):
        return _escape(json.dumps(value, separators=(",", ":"), default=str))
    text = str(value)
    return "(empty)" if text == "" else _escape(text)


def render_float(value: float) -> str:
    """Round to FLOAT_DECIMALS decimal places, then print the shortest repr (3.0, 0.333333)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    rounded = round(value, FLOAT_DECIMALS)
    if rounded == 0:
        rounded = 0.0  # -0.0 prints as 0.0
    return repr(rounded)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def render_rows(rows: Sequence[Sequence[Any]]) -> list[list[str]]:
    return [[render_value(v) for v in row] for row in rows]


# ---------------------------------------------------------------------------------------------
# Clock


class FakeClock:
    """Aware UTC time that starts at CLOCK_START and moves CLOCK_TICK per call (thread-safe)."""

    def __init__(self, start: dt.datetime = CLOCK_START, tick: dt.timedelta = CLOCK_TICK) -> None:
        self._now = start
        self._tick = tick
        self._lock = threading.Lock()

    def __call__(self) -> dt.datetime:
        with self._lock:
            now = self._now
            self._now = now + self._tick
            return now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += dt.timedelta(seconds=seconds)

    def peek(self) -> dt.datetime:
        return self._now


# ---------------------------------------------------------------------------------------------
# Executor


@dataclass(frozen=True)
class Backend:
    """What the runner needs from the database under test."""

    connect: Callable[..., Any]  # connect(lake_dir, *, clock, **options) -> DB-API connection
    error: type[BaseException]  # root of the errors a script may expect
    errors: Any  # namespace holding the named error classes (``statement error NAME``)


def chronolake_backend() -> Backend:
    import chronolake  # imported late: the parser and renderer work without the core

    return Backend(connect=chronolake.connect, error=chronolake.Error, errors=chronolake)


class _Failure(Exception):
    pass


class ScriptRunner:
    """Runs parsed records against a lake directory."""

    def __init__(
        self,
        path: str,
        records: Sequence[Record],
        lake_dir: Path,
        backend: Backend,
        stop_on_failure: bool = True,
    ) -> None:
        self.path = path
        self.records = records
        self.lake_dir = Path(lake_dir)
        self.backend = backend
        self.stop_on_failure = stop_on_failure
        self.clock = FakeClock()
        self.connections: dict[str, Any] = {}
        self.options: dict[str, dict[str, str]] = {"default": {}}
        self.current = "default"
        self.failures: list[str] = []

    # -- connections ------------------------------------------------------------------------

    def connection(self, name: str) -> Any:
        con = self.connections.get(name)
        if con is None:
            con = self.backend.connect(
                str(self.lake_dir), clock=self.clock, **self.options.get(name, {})
            )
            self.connections[name] = con
        return con

    def close_all(self) -> None:
        errors = []
        for name, con in list(self.connections.items()):
            try:
                con.close()
            except Exception as exc:  # reported, but after every connection had its chance
                errors.append(f"closing connection {name!r}: {exc!r}")
        self.connections.clear()
        if errors:
            raise _Failure("; ".join(errors))

    # -- running ----------------------------------------------------------------------------

    def run(self) -> None:
        try:
            for record in self.records:
                if isinstance(record, Halt):
                    break
                try:
                    self.run_record(record)
                except _Failure as failure:
                    self.failures.append(str(failure))
                    if self.stop_on_failure:
                        break
        finally:
            try:
                self.close_all()
            except _Failure as failure:
                self.failures.append(f"{self.path}: at the end of the script: {failure}")
        if self.failures:
            raise ScriptFailure("\n\n".join(self.failures))

    def run_record(self, record: Record) -> None:
        if isinstance(record, Sleep):
            self.clock.advance(record.seconds)
        elif isinstance(record, Connection):
            if record.options:
                known = self.options.get(record.name)
                if record.name in self.connections and known != record.options:
                    raise self.failure(record, "connection already open with other options")
                self.options[record.name] = dict(record.options)
            self.current = record.name
        elif isinstance(record, Restart):
            try:
                self.close_all()
            except _Failure as failure:
                raise self.failure(record, f"restart: {failure}") from None
        elif isinstance(record, Statement):
            self.run_statement(record)
        elif isinstance(record, Query):
            self.run_query(record)

    def substitute(self, sql: str) -> str:
        return sql.replace("__TEST_DIR__", str(self.lake_dir.parent)).replace(
            "__LAKE_DIR__", str(self.lake_dir)
        )

    def execute(self, record: Statement | Query) -> Any:
        """Execute the record's SQL; return the cursor, or raise the backend's error."""
        con = self.connection(self.current)
        cur = con.cursor()
        cur.execute(self.substitute(record.sql))
        return cur

    def run_statement(self, record: Statement) -> None:
        try:
            cur = self.execute(record)
            if cur.description is not None:
                cur.fetchall()  # a statement's rows are drained so that fetch errors surface
        except self.backend.error as exc:
            if not record.expect_error:
                raise self.failure(
                    record, "statement failed", actual=_describe_error(exc)
                ) from None
            self.check_error(record, exc)
            return
        except Exception as exc:
            raise self.failure(
                record,
                "crashed with an exception that is not a chronolake error",
                actual=_describe_crash(exc),
            ) from None
        if record.expect_error:
            raise self.failure(
                record,
                "statement succeeded but an error was expected",
                expected=_expected_error(record),
            )

    def check_error(self, record: Statement, exc: BaseException) -> None:
        if record.error_class is not None:
            cls = getattr(self.backend.errors, record.error_class, None)
            if not (isinstance(cls, type) and issubclass(cls, BaseException)):
                raise self.failure(record, f"unknown error class {record.error_class!r}")
            if not isinstance(exc, cls):
                raise self.failure(
                    record,
                    "wrong error class",
                    expected=_expected_error(record),
                    actual=_describe_error(exc),
                )
        if record.error_text is None:
            return
        message = str(exc)
        if record.error_text.startswith(REGEX_PREFIX):
            pattern = record.error_text[len(REGEX_PREFIX) :]
            ok = re.search(pattern, message, re.DOTALL) is not None
        else:
            ok = record.error_text in message
        if not ok:
            raise self.failure(
                record,
                "wrong error message",
                expected=_expected_error(record),
                actual=_describe_error(exc),
            )

    def run_query(self, record: Query) -> None:
        try:
            cur = self.execute(record)
            if cur.description is None:
                raise self.failure(record, "query returned no result set (description is None)")
            rows = cur.fetchall()
            ncols = len(cur.description)
        except _Failure:
            raise
        except self.backend.error as exc:
            raise self.failure(record, "query failed", actual=_describe_error(exc)) from None
        except Exception as exc:
            raise self.failure(
                record,
                "crashed with an exception that is not a chronolake error",
                actual=_describe_crash(exc),
            ) from None
        actual = render_rows(rows)
        if ncols != len(record.types):
            raise self.failure(
                record,
                f"query returned {ncols} columns but declares {len(record.types)} ({record.types})",
                expected="\n".join(record.expected),
                actual=_join(actual),
            )
        expected = [row.split("\t") for row in record.expected]
        if record.sort == "rowsort":
            actual_cmp, expected_cmp = sorted(actual), sorted(expected)
        elif record.sort == "valuesort":
            actual_cmp = [[v] for v in sorted(v for row in actual for v in row)]
            expected_cmp = [[v] for v in sorted(v for row in expected for v in row)]
        else:
            actual_cmp, expected_cmp = actual, expected
        if not _rows_match(actual_cmp, expected_cmp):
            raise self.failure(
                record,
                f"wrong result ({record.sort})",
                expected=_join(expected_cmp) or "(no rows)",
                actual=_join(actual_cmp) or "(no rows)",
            )

    def failure(
        self,
        record: Record,
        message: str,
        *,
        expected: str | None = None,
        actual: str | None = None,
    ) -> _Failure:
        parts = [f"{self.path}:{record.line}: {message} [connection {self.current!r}]"]
        if isinstance(record, Statement | Query):
            parts.append("SQL:\n" + _indent(record.sql))
        if expected is not None:
            parts.append("Expected:\n" + _indent(expected))
        if actual is not None:
            parts.append("Actual:\n" + _indent(actual))
        return _Failure("\n".join(parts))


def _rows_match(actual: Sequence[Sequence[str]], expected: Sequence[Sequence[str]]) -> bool:
    """Equal, except that an expected ``<ANY>`` matches any one value."""
    return len(actual) == len(expected) and all(
        len(a) == len(e) and all(ev == ANY_VALUE or av == ev for av, ev in zip(a, e, strict=True))
        for a, e in zip(actual, expected, strict=True)
    )


def _join(rows: Sequence[Sequence[str]]) -> str:
    return "\n".join("\t".join(row) for row in rows)


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines()) if text else "    (empty)"


def _expected_error(record: Statement) -> str:
    what = record.error_class or "an error"
    return f"{what} containing {record.error_text!r}" if record.error_text else what


def _describe_error(exc: BaseException) -> str:
    return f"{type(exc).__module__}.{type(exc).__qualname__}: {exc}"


def _describe_crash(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc, limit=-3)).rstrip()


# ---------------------------------------------------------------------------------------------
# Entry points


def run_script(
    path: str | Path,
    lake_dir: str | Path,
    backend: Backend | None = None,
    *,
    stop_on_failure: bool = True,
    display_path: str | None = None,
) -> None:
    """Parse and run one script; raise :class:`ScriptFailure` listing what went wrong."""
    path = Path(path)
    shown = display_path or str(path)
    records = parse_script(path.read_text(encoding="utf-8"), shown)
    runner = ScriptRunner(
        shown, records, Path(lake_dir), backend or chronolake_backend(), stop_on_failure
    )
    runner.run()


def iter_scripts(root: Path) -> Iterator[Path]:
    yield from sorted(root.rglob("*.test"))


def main(argv: Sequence[str]) -> int:
    """Run the given scripts (or every script under tests/sql) and report every failure."""
    paths = [Path(a) for a in argv] or list(iter_scripts(Path(__file__).parent.parent / "sql"))
    failed = 0
    for path in paths:
        shown = os.path.relpath(path)
        with tempfile.TemporaryDirectory(prefix="sqllogic-") as tmp:
            try:
                run_script(path, Path(tmp) / "lake", stop_on_failure=False, display_path=shown)
            except (ScriptFailure, ScriptError) as exc:
                failed += 1
                print(f"FAIL {shown}\n{exc}\n")
            else:
                print(f"ok   {shown}")
    print(f"{len(paths) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
