"""Options shared by the commands, and opening the lake they name."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

import click

import chronolake
from chronolake.catalog.backends import safe_url

from .output import FORMATS

F = TypeVar("F", bound=Callable[..., Any])

ROLLBACK_NOTICE = (
    "Notice: the session ended inside a transaction without COMMIT: it was rolled back."
)


@dataclass(frozen=True)
class LakeTarget:
    """The lake, tenant and starting namespace named on the command line."""

    location: str  # the lake's folder, or its catalog URL
    storage: str | None = None  # where the files live, with a catalog URL
    storage_options: tuple[tuple[str, str], ...] = ()
    tenant: str = "default"
    database: str | None = None
    schema: str | None = None

    @property
    def shown(self) -> str:
        """Where the lake is, fit to print (a catalog URL's password masked)."""
        if self.storage is None:
            return self.location
        return f"{safe_url(self.location)} + {self.storage}"

    def open(self, read_only: bool = False) -> chronolake.Connection:
        """Connect in autocommit mode; ``read_only`` for commands that only read (they never
        create a lake, so a mistyped ``--lake`` is an error)."""
        extra: dict[str, Any] = {}
        if self.storage_options:
            extra["storage_options"] = dict(self.storage_options)
        return chronolake.connect(
            self.location,
            self.storage,
            tenant=self.tenant,
            read_only=read_only,
            database=self.database,
            schema=self.schema,
            **extra,
        )

    def lake(self, read_only: bool = False) -> chronolake.Lake:
        extra: dict[str, Any] = {}
        if self.storage_options:
            extra["storage_options"] = dict(self.storage_options)
        return chronolake.Lake(self.location, self.storage, read_only=read_only, **extra)


def _pairs(values: tuple[str, ...], flag: str) -> tuple[tuple[str, str], ...]:
    out = []
    for v in values:
        key, sep, value = v.partition("=")
        if not sep or not key:
            raise click.UsageError(f"{flag} takes KEY=VALUE (e.g. endpoint_url=http://s3:8333).")
        out.append((key.strip(), value))
    return tuple(out)


def lake_target(
    lake: Path | None,
    catalog: str | None,
    storage: str | None,
    options: tuple[str, ...],
    flags: tuple[str, str, str] = ("--lake", "--catalog", "--storage"),
) -> tuple[str, str | None, tuple[tuple[str, str], ...]]:
    """(location, storage, storage options) from the lake options, or a usage error."""
    lake_flag, catalog_flag, storage_flag = flags
    if lake is not None and (catalog is not None or storage is not None):
        raise click.UsageError(
            f"Give either {lake_flag} (an embedded lake's folder) or {catalog_flag} with "
            f"{storage_flag} (a shared lake), not both."
        )
    if lake is not None:
        return str(lake), None, _pairs(options, "--storage-option")
    if catalog is None or storage is None:
        raise click.UsageError(
            f"Name the lake: {lake_flag} PATH, or {catalog_flag} URL with {storage_flag} URL "
            "(also from CHRONOLAKE_LAKE, or CHRONOLAKE_CATALOG and CHRONOLAKE_STORAGE)."
        )
    return catalog, storage, _pairs(options, "--storage-option")


def location_options(f: F) -> F:
    """Add ``--lake``, ``--catalog``, ``--storage`` and ``--storage-option``; the command
    receives them as ``location``, ``storage`` and ``storage_options``."""

    @functools.wraps(f)
    def wrapper(
        *args: Any,
        lake: Path | None,
        catalog: str | None,
        storage: str | None,
        storage_option: tuple[str, ...],
        **kw: Any,
    ) -> Any:
        location, store, options = lake_target(lake, catalog, storage, storage_option)
        return f(*args, location=location, storage=store, storage_options=options, **kw)

    options = [
        click.option(
            "--lake",
            type=click.Path(file_okay=False, path_type=Path),
            envvar="CHRONOLAKE_LAKE",
            help="Directory of an embedded lake (created if missing by commands that write). "
            "Env: CHRONOLAKE_LAKE.",
        ),
        click.option(
            "--catalog",
            metavar="URL",
            envvar="CHRONOLAKE_CATALOG",
            help="Catalog database of a shared lake, e.g. postgresql+psycopg://user:pw@host/db "
            "(with --storage). Env: CHRONOLAKE_CATALOG.",
        ),
        click.option(
            "--storage",
            metavar="URL",
            envvar="CHRONOLAKE_STORAGE",
            help="Where a shared lake's files live: a folder or s3://bucket/prefix. "
            "Env: CHRONOLAKE_STORAGE.",
        ),
        click.option(
            "--storage-option",
            multiple=True,
            metavar="KEY=VALUE",
            help="An S3 option (endpoint_url, region, ...); credentials come best from the "
            "AWS_* environment variables.",
        ),
    ]
    decorated: Any = wrapper
    for option in reversed(options):
        decorated = option(decorated)
    return cast(F, decorated)


def lake_options(f: F) -> F:
    """Add the lake options, ``--tenant``, ``--database`` and ``--schema``; the command
    receives them as one ``lake: LakeTarget``."""

    @functools.wraps(f)
    def wrapper(
        *args: Any,
        location: str,
        storage: str | None,
        storage_options: tuple[tuple[str, str], ...],
        tenant: str,
        database: str | None,
        schema: str | None,
        **kw: Any,
    ) -> Any:
        target = LakeTarget(location, storage, storage_options, tenant, database, schema)
        return f(*args, lake=target, **kw)

    options = [
        click.option(
            "--tenant",
            default="default",
            show_default=True,
            envvar="CHRONOLAKE_TENANT",
            help="Tenant whose catalog to use.",
        ),
        click.option(
            "--database",
            default=None,
            envvar="CHRONOLAKE_DATABASE",
            help="Starting database (default MAIN), as USE DATABASE.",
        ),
        click.option(
            "--schema",
            default=None,
            envvar="CHRONOLAKE_SCHEMA",
            help="Starting schema (default PUBLIC), as USE SCHEMA.",
        ),
    ]
    decorated: Any = wrapper
    for option in reversed(options):
        decorated = option(decorated)
    return cast(F, location_options(decorated))


def format_option(f: F) -> F:
    """Add ``--format``."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        default="table",
        show_default=True,
        help="How to print results.",
    )(f)


@contextmanager
def client_session(lake: LakeTarget) -> Iterator[chronolake.Connection]:
    """A read-write session that, like a database client, rolls back a transaction left
    open at its end (PEP 249) and says so on stderr; then closes the connection."""
    con = lake.open()
    try:
        yield con
    finally:
        try:
            if con.in_transaction:
                # close() discards the transaction even if recording the ROLLBACK fails
                with suppress(chronolake.Error):
                    con.rollback()
                click.echo(ROLLBACK_NOTICE, err=True)
        finally:
            con.close()
