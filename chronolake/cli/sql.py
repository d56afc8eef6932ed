"""``chronolake sql``: run one statement, or every statement of a file."""

from __future__ import annotations

import json
from typing import Any, TextIO

import click

import chronolake

from .options import LakeTarget, client_session, format_option, lake_options
from .output import Format, json_default, make_console, print_cursor, result_object
from .statements import all_statements


def _read(file: TextIO) -> str:
    try:
        return file.read()
    except UnicodeDecodeError as e:
        name = getattr(file, "name", "the file")
        raise click.ClickException(
            f"{name} is not UTF-8 text (byte 0x{e.object[e.start]:02x} at offset {e.start}): "
            "give a SQL script."
        ) from None


@click.command()
@lake_options
@format_option
@click.option(
    "-f",
    "--file",
    "file",
    type=click.File("r", encoding="utf-8"),
    help="Run every statement of FILE ('-' reads standard input).",
)
@click.argument("statement", metavar="[SQL]", required=False)
def sql(lake: LakeTarget, fmt: Format, file: TextIO | None, statement: str | None) -> None:
    """Run SQL and print each statement's result. A transaction still open at the end (BEGIN
    without COMMIT) is rolled back. With --format json, several statements print one JSON
    array with an object per statement.

    \b
      chronolake sql --lake ./lake "SELECT * FROM orders AT(OFFSET => -60)"
      chronolake sql --lake ./lake -f setup.sql --format csv
    """
    if (statement is None) == (file is None):
        raise click.UsageError("give either SQL or -f FILE")
    text = _read(file) if file is not None else statement
    statements = all_statements(text or "")
    if not statements:
        raise click.UsageError("no SQL statement to run")
    if fmt == "json" and len(statements) > 1:
        _run_json(lake, statements)
        return
    console = make_console()
    with client_session(lake) as con:
        for n, stmt in enumerate(statements):
            if len(statements) > 1 and fmt == "table":
                # Several results: say which statement each one belongs to.
                if n:
                    console.print()
                console.print(f"> {stmt}", style="bold", markup=False)
            print_cursor(con.execute(stmt), fmt, console)


def _run_json(lake: LakeTarget, statements: list[str]) -> None:
    """Several statements as one JSON document: an array of one object per statement run;
    the statement that failed (the last) carries ``error`` instead of a result."""
    results: list[dict[str, Any]] = []
    try:
        with client_session(lake) as con:
            for stmt in statements:
                try:
                    cursor = con.execute(stmt)
                except chronolake.Error as e:
                    error = {"class": type(e).__name__, "message": str(e)}
                    results.append({"statement": stmt, "error": error})
                    raise
                results.append(result_object(stmt, cursor))
    finally:
        click.echo(json.dumps(results, default=json_default, indent=2))
