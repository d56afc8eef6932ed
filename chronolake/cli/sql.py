"""``chronolake sql``: run one statement, or every statement of a file."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

import click

from .options import connect, format_option, lake_options
from .output import Format, make_console, print_cursor
from .statements import all_statements


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
def sql(lake: Path, tenant: str, fmt: Format, file: TextIO | None, statement: str | None) -> None:
    """Run SQL and print each statement's result.

    \b
      chronolake sql --lake ./lake "SELECT * FROM orders AT(OFFSET => -60)"
      chronolake sql --lake ./lake -f setup.sql --format csv
    """
    if (statement is None) == (file is None):
        raise click.UsageError("give either SQL or -f FILE")
    text = file.read() if file is not None else statement
    statements = all_statements(text or "")
    if not statements:
        raise click.UsageError("no SQL statement to run")
    console = make_console()
    with connect(lake, tenant) as con:
        for n, stmt in enumerate(statements):
            if len(statements) > 1 and fmt == "table":
                # Several results: say which statement each one belongs to.
                if n:
                    console.print()
                console.print(f"> {stmt}", style="bold", markup=False)
            print_cursor(con.execute(stmt), fmt, console)
