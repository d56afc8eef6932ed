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

from .output import FORMATS

F = TypeVar("F", bound=Callable[..., Any])

ROLLBACK_NOTICE = (
    "Notice: the session ended inside a transaction without COMMIT: it was rolled back."
)


@dataclass(frozen=True)
class LakeTarget:
    """The lake, tenant and starting namespace named on the command line."""

    path: Path
    tenant: str
    database: str | None = None
    schema: str | None = None

    def open(self, read_only: bool = False) -> chronolake.Connection:
        """Connect in autocommit mode; ``read_only`` for commands that only read (they never
        create a lake, so a mistyped ``--lake`` is an error)."""
        return chronolake.connect(
            str(self.path),
            tenant=self.tenant,
            read_only=read_only,
            database=self.database,
            schema=self.schema,
        )


def lake_options(f: F) -> F:
    """Add ``--lake``, ``--tenant``, ``--database`` and ``--schema``; the command receives
    them as one ``lake: LakeTarget``."""

    @functools.wraps(f)
    def wrapper(
        *args: Any, lake: Path, tenant: str, database: str | None, schema: str | None, **kw: Any
    ) -> Any:
        return f(*args, lake=LakeTarget(lake, tenant, database, schema), **kw)

    options = [
        click.option(
            "--lake",
            required=True,
            type=click.Path(file_okay=False, path_type=Path),
            envvar="CHRONOLAKE_LAKE",
            help="Directory of the lake (created if missing by commands that write). "
            "Env: CHRONOLAKE_LAKE.",
        ),
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
    return cast(F, decorated)


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
