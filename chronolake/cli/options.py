"""Options shared by the commands, and opening the lake they name."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

import chronolake

from .output import FORMATS

F = TypeVar("F", bound=Callable[..., Any])


def lake_options(f: F) -> F:
    """Add ``--lake`` and ``--tenant``."""
    f = click.option(
        "--tenant",
        default="default",
        show_default=True,
        envvar="CHRONOLAKE_TENANT",
        help="Tenant whose catalog to use.",
    )(f)
    return click.option(
        "--lake",
        required=True,
        type=click.Path(file_okay=False, path_type=Path),
        envvar="CHRONOLAKE_LAKE",
        help="Directory of the lake (created if missing). Env: CHRONOLAKE_LAKE.",
    )(f)


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


def connect(lake: Path, tenant: str) -> chronolake.Connection:
    """Open the lake for one tenant, in autocommit mode."""
    return chronolake.connect(str(lake), tenant=tenant)
