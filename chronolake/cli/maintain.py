"""``chronolake maintain``: one recorded maintenance run (compaction by policy, expiry,
cleanup, orphans); print what was (or would be) done."""

from __future__ import annotations

import json
from typing import Any

import click

from chronolake.maintenance.policy import MaintenancePolicy, run_maintenance
from chronolake.maintenance.purge import purge_steps

from .options import LakeTarget, format_option, lake_options
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
    lake: LakeTarget,
    fmt: Format,
) -> None:
    """Compact what the maintenance policy picks, expire snapshots out of retention, delete
    expired files past their grace period and remove orphan files of crashed writers. Every
    run is recorded in the catalog."""
    with lake.open() as con:
        run = run_maintenance(
            con,
            MaintenancePolicy(),
            dry_run=dry_run,
            steps=purge_steps(cleanup_grace, orphan_grace),
        )
    verb = "would " if dry_run else ""
    steps = run.steps
    rows: list[tuple[Any, ...]] = [
        (
            f"compact {c['table']}",
            c.get("files_in", 0),
            c.get("bytes_in", 0),
            "",
            c.get("error") or c.get("message", ""),
        )
        for c in run.compactions
    ]
    notes = {
        "expire": lambda r: (
            f"{verb}mark expired" + (f"; {r['unmarked']} needed again" if r.get("unmarked") else "")
        ),
        "cleanup": lambda r: f"{verb}delete; {r.get('pending', 0)} in grace period",
        "orphans": lambda r: f"{verb}delete; {r.get('recent', 0)} too recent",
    }
    for name, r in steps.items():
        size = (
            r.get("bytes", r.get("bytes_reclaimed", 0))
            if name == "expire"
            else r.get("bytes_reclaimed", 0)
        )
        note = r.get("error") or notes[name](r)
        rows.append((name, r.get("files", 0), size, round(float(r.get("seconds", 0)), 3), note))
    if fmt == "json":
        out = {
            "run_id": run.run_id,
            "dry_run": dry_run,
            "seconds": run.seconds,
            "bytes_reclaimed": run.bytes_reclaimed,
            "compactions": run.compactions,
            "steps": {
                name: {
                    "files": r.get("files", 0),
                    "bytes": r.get("bytes", r.get("bytes_reclaimed", 0)),
                    "seconds": r.get("seconds", 0),
                    "paths": list(r.get("paths", [])),
                }
                for name, r in steps.items()
            },
        }
        click.echo(json.dumps(out, indent=2, default=str))
        return
    footer = f"{'dry run: ' if dry_run else ''}{run.bytes_reclaimed} bytes {verb}reclaimed"
    print_rows(COLUMNS, rows, fmt, footer=footer)
