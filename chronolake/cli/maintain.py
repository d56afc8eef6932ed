"""``chronolake maintain``: expire, clean up and remove orphans; print what was (or would be)
done."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from chronolake.maintenance.purge import purge

from .options import connect, format_option, lake_options
from .output import Format, print_rows

COLUMNS = ("step", "files", "bytes", "seconds", "note")


@click.command()
@click.option("--dry-run", is_flag=True, help="Report what would be done; change nothing.")
@click.option(
    "--cleanup-grace",
    type=float,
    default=None,
    metavar="SECONDS",
    help="Delete expired files marked at least this long ago (default: the setting, 1 day).",
)
@click.option(
    "--orphan-grace",
    type=float,
    default=None,
    metavar="SECONDS",
    help="Remove unreferenced files older than this (default: the setting, 1 day).",
)
@lake_options
@format_option
def maintain(
    dry_run: bool,
    cleanup_grace: float | None,
    orphan_grace: float | None,
    lake: Path,
    tenant: str,
    fmt: Format,
) -> None:
    """Expire snapshots out of retention, delete expired files past their grace period and
    remove orphan files of crashed writers."""
    with connect(lake, tenant) as con:
        exp, cln, orph = purge(con, dry_run, cleanup_grace, orphan_grace)
    verb = "would " if dry_run else ""
    rows: list[tuple[Any, ...]] = [
        (
            "expire",
            exp.files,
            exp.bytes,
            round(exp.seconds, 3),
            f"{verb}mark expired" + (f"; {exp.unmarked} needed again" if exp.unmarked else ""),
        ),
        (
            "cleanup",
            cln.files,
            cln.bytes_reclaimed,
            round(cln.seconds, 3),
            f"{verb}delete; {cln.pending} in grace period",
        ),
        (
            "orphans",
            orph.files,
            orph.bytes_reclaimed,
            round(orph.seconds, 3),
            f"{verb}delete; {orph.recent} too recent",
        ),
    ]
    if fmt == "json":
        out = {
            "dry_run": dry_run,
            "bytes_reclaimed": cln.bytes_reclaimed + orph.bytes_reclaimed,
            "steps": {
                name: {
                    "files": r.files,
                    "bytes": b,
                    "seconds": r.seconds,
                    "paths": list(r.paths),
                }
                for name, r, b in (
                    ("expire", exp, exp.bytes),
                    ("cleanup", cln, cln.bytes_reclaimed),
                    ("orphans", orph, orph.bytes_reclaimed),
                )
            },
        }
        click.echo(json.dumps(out, indent=2))
        return
    total = cln.bytes_reclaimed + orph.bytes_reclaimed
    footer = f"{'dry run: ' if dry_run else ''}{total} bytes {verb}reclaimed"
    print_rows(COLUMNS, rows, fmt, footer=footer)
