"""``chronolake copy-lake``: a lake with all its history into a new, empty catalog and storage
(an embedded lake to the shared form, the shared form to a folder, or folder to folder)."""

from __future__ import annotations

from pathlib import Path

import click

from chronolake.backup.copy_lake import copy_lake as run_copy

from .options import LakeTarget, lake_target


@click.command("copy-lake")
@click.argument("source", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--from-catalog", metavar="URL", help="The source's catalog (a shared lake).")
@click.option("--from-storage", metavar="URL", help="The source's storage (with --from-catalog).")
@click.option(
    "--from-storage-option", multiple=True, metavar="KEY=VALUE", help="An S3 option of the source."
)
@click.option(
    "--to",
    "dest",
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory of a new embedded lake to copy into.",
)
@click.option("--catalog", metavar="URL", help="The destination's catalog (a new, empty one).")
@click.option("--storage", metavar="URL", help="The destination's storage (with --catalog).")
@click.option(
    "--storage-option", multiple=True, metavar="KEY=VALUE", help="An S3 option of the destination."
)
def copy_lake(
    source: Path | None,
    from_catalog: str | None,
    from_storage: str | None,
    from_storage_option: tuple[str, ...],
    dest: Path | None,
    catalog: str | None,
    storage: str | None,
    storage_option: tuple[str, ...],
) -> None:
    """Copy a lake, every tenant and all its history, into a new one, and verify the copy
    version by version (catalog rows, file checksums, every table version's rows).

    The source is SOURCE (an embedded lake's folder) or --from-catalog with --from-storage;
    the destination is --to DIR or --catalog with --storage. Nothing of the source changes.

    \b
    Examples:
      chronolake copy-lake ./lake --catalog postgresql+psycopg://app:pw@db/lake \\
          --storage s3://lake-bucket/prod
      chronolake copy-lake --from-catalog postgresql+psycopg://app:pw@db/lake \\
          --from-storage s3://lake-bucket/prod --to ./lake-again
    """
    src = LakeTarget(
        *lake_target(
            source,
            from_catalog,
            from_storage,
            from_storage_option,
            ("SOURCE", "--from-catalog", "--from-storage"),
        )
    )
    dst = LakeTarget(
        *lake_target(dest, catalog, storage, storage_option, ("--to", "--catalog", "--storage"))
    )
    with src.lake(read_only=True) as a, dst.lake() as b:
        report = run_copy(a, b, on_progress=lambda msg: click.echo(msg, err=True))
    click.echo(
        f"Copied {report.tenants} tenant(s) from {src.shown} to {dst.shown}: {report.files} "
        f"files ({report.bytes} bytes), {report.catalog_rows} catalog rows; "
        f"{report.versions_checked} table versions verified in {report.seconds:.1f} s."
        + (
            f" {report.skipped} files cleanup had deleted were not copied."
            if report.skipped
            else ""
        )
    )
