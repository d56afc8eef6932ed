"""``chronolake copy-lake``: a lake with all its history into a new, empty catalog and storage."""

from __future__ import annotations

from pathlib import Path

import click

import chronolake
from chronolake.backup.copy_lake import copy_lake as run_copy


@click.command("copy-lake")
@click.argument("source", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--to",
    "dest",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory of the new lake (created; must not hold a lake yet).",
)
def copy_lake(source: Path, dest: Path) -> None:
    """Copy the lake at SOURCE, every tenant and all its history, into a new lake, and verify
    the copy version by version (catalog rows, file checksums, every table version's rows).

    \b
    Example:
      chronolake copy-lake ./lake --to ./lake-copy
    """
    with chronolake.Lake(source, read_only=True) as src, chronolake.Lake(dest) as dst:
        report = run_copy(src, dst, on_progress=lambda msg: click.echo(msg, err=True))
    click.echo(
        f"Copied {report.tenants} tenant(s): {report.files} files ({report.bytes} bytes), "
        f"{report.catalog_rows} catalog rows; {report.versions_checked} table versions "
        f"verified in {report.seconds:.1f} s."
        + (
            f" {report.skipped} files cleanup had deleted were not copied."
            if report.skipped
            else ""
        )
    )
