"""``chronolake history``: the snapshots that changed a table."""

from __future__ import annotations

from pathlib import Path

import click

from .options import connect, format_option, lake_options
from .output import Format, print_history


@click.command()
@click.argument("table")
@lake_options
@format_option
def history(table: str, lake: Path, tenant: str, fmt: Format) -> None:
    """Print the snapshots that changed TABLE.

    Any snapshot_id works in AT(VERSION => n), any query_id in AT|BEFORE(STATEMENT => 'id').
    """
    with connect(lake, tenant) as con:
        entries = con.table_history(table)
    print_history(entries, fmt)
