"""``chronolake restore``, ``revert`` and ``diff``: undo and inspect changes from the shell."""

from __future__ import annotations

import click

from .options import LakeTarget, format_option, lake_options
from .output import Format, print_cursor

POINT_HELP = (
    "A point: N or version:N, statement:<query id>, before-statement:<query id>, "
    "timestamp:<ISO>, before-timestamp:<ISO>, offset:-<seconds>."
)


@click.command()
@click.argument("table")
@click.option("--to", "point", required=True, metavar="POINT", help=POINT_HELP)
@lake_options
@format_option
def restore(table: str, point: str, lake: LakeTarget, fmt: Format) -> None:
    """Restore TABLE's data to a point, as a new snapshot (metadata only, undoable)."""
    with lake.open() as con:
        print_cursor(con.restore_table(table, point), fmt)


@click.command()
@click.argument("query_id")
@lake_options
@format_option
def revert(query_id: str, lake: LakeTarget, fmt: Format) -> None:
    """Undo exactly the row changes of one statement, as a new snapshot."""
    with lake.open() as con:
        print_cursor(con.revert_statement(query_id), fmt)


@click.command()
@click.argument("table")
@click.option("--from", "start", required=True, metavar="POINT", help=POINT_HELP)
@click.option("--to", "end", metavar="POINT", help="Inclusive end point (default: now).")
@lake_options
@format_option
def diff(table: str, start: str, end: str | None, lake: LakeTarget, fmt: Format) -> None:
    """Print the net CHANGES of TABLE between two points."""
    with lake.open(read_only=True) as con:
        print_cursor(con.changes(table, start, end), fmt)
