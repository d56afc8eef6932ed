"""``chronolake admin``: the tenants and access tokens of a server's lake. Run it where the
lake is reachable (its folder, or its catalog and storage); servers see changes at once."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager

import click

import chronolake
from chronolake.server import tokens
from chronolake.server.principal import ROLES

from .options import format_option, location_options
from .output import Format, print_rows

_DURATION = re.compile(r"(\d+)\s*([smhd])")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}


def _duration(text: str | None) -> float | None:
    if text is None:
        return None
    match = _DURATION.fullmatch(text.strip().lower())
    if match is None or int(match.group(1)) == 0:
        raise click.BadParameter(
            f"{text!r} is not a duration: use a positive number with s, m, h or d (e.g. 90d).",
            param_hint="--expires-in",
        )
    return int(match.group(1)) * _SECONDS[match.group(2)]


@contextmanager
def _lake(
    location: str, storage: str | None, storage_options: tuple[tuple[str, str], ...]
) -> Iterator[chronolake.Lake]:
    with chronolake.Lake(location, storage, storage_options=dict(storage_options)) as lake:
        yield lake


@click.group()
def admin() -> None:
    """Tenants and access tokens (for `chronolake serve`)."""


@admin.command("create-tenant")
@click.argument("tenant")
@location_options
def create_tenant(
    tenant: str, location: str, storage: str | None, storage_options: tuple[tuple[str, str], ...]
) -> None:
    """Create TENANT (nothing happens if it exists)."""
    with _lake(location, storage, storage_options) as lake:
        tokens.create_tenant(lake, tenant)
    click.echo(f"Tenant {tenant} is ready.")


@admin.command("list-tenants")
@location_options
def list_tenants(
    location: str, storage: str | None, storage_options: tuple[tuple[str, str], ...]
) -> None:
    """Print the lake's tenants."""
    with _lake(location, storage, storage_options) as lake:
        for name in tokens.tenants(lake):
            click.echo(name)


@admin.command("create-token")
@click.option("--tenant", required=True, help="The tenant the token works on.")
@click.option("--user", required=True, help="Recorded in QUERY_HISTORY for its statements.")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What it may run.")
@click.option("--expires-in", metavar="DURATION", help="e.g. 12h or 90d (default: never).")
@click.option("--comment", help="A note kept with the token (shown by list-tokens).")
@location_options
def create_token(
    tenant: str,
    user: str,
    role: str,
    expires_in: str | None,
    comment: str | None,
    location: str,
    storage: str | None,
    storage_options: tuple[tuple[str, str], ...],
) -> None:
    """Create a token and print its secret: it is shown this once, keep it safe."""
    seconds = _duration(expires_in)
    with _lake(location, storage, storage_options) as lake:
        token_id, secret = tokens.create_token(
            lake, tenant, user, role, expires_in_s=seconds, comment=comment
        )
    click.echo(
        f"Token {token_id} for {user} on {tenant} ({role}). Its secret, shown once:", err=True
    )
    click.echo(secret)


@admin.command("revoke-token")
@click.argument("token_id")
@location_options
def revoke_token(
    token_id: str, location: str, storage: str | None, storage_options: tuple[tuple[str, str], ...]
) -> None:
    """Revoke TOKEN_ID (as list-tokens shows it): its requests fail from now on."""
    with _lake(location, storage, storage_options) as lake:
        tokens.revoke_token(lake, token_id)
    click.echo(f"Token {token_id} is revoked.")


@admin.command("list-tokens")
@click.option("--tenant", default=None, help="Only this tenant's tokens.")
@location_options
@format_option
def list_tokens(
    tenant: str | None,
    location: str,
    storage: str | None,
    storage_options: tuple[tuple[str, str], ...],
    fmt: Format,
) -> None:
    """Print the tokens (ids, users, roles, times; never a secret)."""
    with _lake(location, storage, storage_options) as lake:
        rows = tokens.list_tokens(lake, tenant)
    columns = ("token_id", "tenant", "user", "role", "created", "expires", "revoked", "comment")
    print_rows(columns, [tuple(_shown(r[c]) for c in columns) for r in rows], fmt)


def _shown(value: object) -> object:
    """Times to the second, in UTC: enough to tell tokens apart, short enough to read."""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value
