"""Render result sets as a rich table, CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any, Literal, Protocol

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

Format = Literal["table", "csv", "json"]
FORMATS: tuple[Format, ...] = ("table", "csv", "json")
PIPE_WIDTH = 160  # a query id (36 characters) stays on one line in a history table
HISTORY_COLUMNS = (
    "snapshot_id",
    "commit_time",
    "query_id",
    "operation",
    "rows_added",
    "rows_removed",
)
SNAPSHOT_COLUMNS = (
    "snapshot_id",
    "commit_time",
    "query_id",
    "query_type",
    "user_name",
    "operation",
    "tables_changed",
    "rows_inserted",
    "rows_deleted",
    "bytes_added",
)


class Cursor(Protocol):
    """The part of a chronolake cursor that rendering needs."""

    @property
    def description(self) -> Sequence[Sequence[Any]] | None: ...

    @property
    def rowcount(self) -> int: ...

    @property
    def query_id(self) -> str | None: ...

    def fetchall(self) -> list[tuple[Any, ...]]: ...


def print_cursor(cursor: Cursor, fmt: Format, console: Console | None = None) -> None:
    """Print what one executed statement returned."""
    if cursor.description is None:
        # CSV and JSON stay machine-readable: only result sets are printed.
        if fmt == "table":
            n = cursor.rowcount
            done = f"{_plural(n, 'row')} affected" if n >= 0 else "Statement executed"
            _console(console).print(_with_id(done, cursor), style="dim", highlight=False)
        return
    columns = [str(d[0]) for d in cursor.description]
    rows = cursor.fetchall()
    footer = _with_id(_plural(len(rows), "row"), cursor)
    print_rows(columns, rows, fmt, console, footer=footer)


def json_default(value: object) -> str:
    """Values JSON has no type for (dates, decimals, bytes, ...) as their text."""
    return str(value)


def result_object(statement: str, cursor: Cursor) -> dict[str, Any]:
    """One statement's result as a JSON-ready object (for several statements in one document):
    its text, query id, row count and rows (null for a statement that returns no result set)."""
    rows = None
    if cursor.description is not None:
        columns = [str(d[0]) for d in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    return {
        "statement": statement,
        "query_id": cursor.query_id,
        "rowcount": cursor.rowcount,
        "rows": rows,
    }


def print_rows(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    fmt: Format,
    console: Console | None = None,
    footer: str | None = None,
) -> None:
    """Print rows under their column names in one of FORMATS."""
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
        click.echo(buf.getvalue(), nl=False)
    elif fmt == "json":
        objects = [dict(zip(columns, row, strict=True)) for row in rows]
        click.echo(json.dumps(objects, default=json_default, indent=2))
    else:
        out = _console(console)
        out.print(_table(columns, rows))
        if footer:
            out.print(footer, style="dim", highlight=False)


def print_history(
    entries: Sequence[Mapping[str, Any]], fmt: Format, console: Console | None = None
) -> None:
    """Print what ``Connection.table_history`` returned."""
    rows = [tuple(entry[c] for c in HISTORY_COLUMNS) for entry in entries]
    print_rows(HISTORY_COLUMNS, rows, fmt, console, footer=_plural(len(rows), "snapshot"))


def print_snapshots(
    entries: Sequence[Mapping[str, Any]], fmt: Format, console: Console | None = None
) -> None:
    """Print the tenant's snapshots (rows of INFORMATION_SCHEMA.SNAPSHOTS with user and type)."""
    rows = [tuple(entry.get(c) for c in SNAPSHOT_COLUMNS) for entry in entries]
    print_rows(SNAPSHOT_COLUMNS, rows, fmt, console, footer=_plural(len(rows), "snapshot"))


def _table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Table:
    table = Table(show_lines=False, header_style="bold")
    for name in columns:
        table.add_column(Text(name), overflow="fold")
    for row in rows:
        table.add_row(*(_cell(v) for v in row))
    return table


def _cell(value: object) -> Text:
    if value is None:
        return Text("NULL", style="dim")
    # Text, not str: data must never be read as rich markup.
    return Text(str(value))


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _with_id(message: str, cursor: Cursor) -> str:
    # The query id is what AT/BEFORE(STATEMENT => ...) needs, so always show it.
    return f"{message}  (query_id {cursor.query_id})" if cursor.query_id else message


def make_console() -> Console:
    """A console for results; wider than rich's 80 columns when writing to a pipe or a log."""
    console = Console(highlight=False, soft_wrap=True)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = PIPE_WIDTH
    return console


def _console(console: Console | None) -> Console:
    return console if console is not None else make_console()


def print_error(error: BaseException | str) -> None:
    """Print ``Error: <message>`` as one red line on stderr."""
    message = " ".join(line.strip() for line in str(error).splitlines() if line.strip())
    sys.stdout.flush()  # keep the error after the results printed before it
    click.secho(f"Error: {message}", fg="red", err=True)
