"""Tenants and access tokens of a server: created, checked, listed and revoked.

A secret looks like ``tok_1a2b3c4d5e6f7a8b.<43 random characters>``: its first part is the
token's public id (to find its row and to revoke it), the whole secret is shown once and the
catalog keeps only its SHA-256. Checking a secret compares hashes in constant time.

>>> import chronolake
>>> from chronolake.server import tokens
>>> shared = chronolake.Lake(lake)
>>> tokens.create_tenant(shared, "acme")
>>> token_id, secret = tokens.create_token(shared, "acme", "alice", "writer")
>>> tokens.authenticate(shared, secret).user
'alice'
>>> tokens.revoke_token(shared, token_id)
>>> try:
...     tokens.authenticate(shared, secret)
... except chronolake.Unauthenticated as e:
...     print(e)
This token was revoked: ask an admin of your tenant for a new one.
>>> shared.close()
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from typing import TYPE_CHECKING, Any

from chronolake.catalog import tokens as catalog_tokens
from chronolake.catalog.errors import catalog_errors
from chronolake.errors import InterfaceError, NotFound, Unauthenticated
from chronolake.server.principal import ROLES, Principal
from chronolake.sql.session import from_us, to_us
from chronolake.storage.layout import check_tenant

if TYPE_CHECKING:
    from chronolake.api.lake import Lake

_SECRET = re.compile(r"(tok_[0-9a-f]{16})\.[A-Za-z0-9_-]{20,128}")
_USER = re.compile(r"[A-Za-z0-9_.@-]{1,128}")


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _now_us(lake: Lake) -> int:
    return to_us(lake.settings.clock())


def create_tenant(lake: Lake, tenant: str) -> None:
    """Create ``tenant`` (its database MAIN and schema PUBLIC); nothing if it exists."""
    check_tenant(tenant)
    lake._ensure_tenant(tenant)


def tenants(lake: Lake) -> list[str]:
    """The lake's tenants, sorted."""
    with catalog_errors():
        return catalog_tokens.tenant_names(lake.catalog)


def _check_new_token(lake: Lake, tenant: str, user: str, role: str) -> None:
    check_tenant(tenant)
    if not isinstance(user, str) or not _USER.fullmatch(user):
        raise InterfaceError(
            f"Invalid user name {user!r}: use 1 to 128 letters, digits, '_', '.', '@' or '-'."
        )
    if role not in ROLES:
        raise InterfaceError(f"role must be one of {', '.join(ROLES)}, not {role!r}.")
    if not catalog_tokens.tenant_exists(lake.catalog, tenant):
        raise NotFound(
            f"Tenant '{tenant}' does not exist: create it first "
            f"(chronolake admin create-tenant {tenant})."
        )


def create_token(
    lake: Lake,
    tenant: str,
    user: str,
    role: str,
    *,
    expires_in_s: float | None = None,
    expires_at: dt.datetime | None = None,
    comment: str | None = None,
) -> tuple[str, str]:
    """A new token of ``user`` on ``tenant`` with ``role``: returns (token id, secret). The
    secret cannot be shown again. It expires ``expires_in_s`` seconds from now or at
    ``expires_at`` (an aware datetime), or never."""
    if expires_in_s is not None and expires_at is not None:
        raise InterfaceError("Give expires_in_s or expires_at, not both.")
    if expires_in_s is not None and not expires_in_s > 0:
        raise InterfaceError(f"expires_in_s must be a positive number, not {expires_in_s!r}.")
    if expires_at is not None and (
        not isinstance(expires_at, dt.datetime) or expires_at.tzinfo is None
    ):
        raise InterfaceError("expires_at must be an aware datetime (with a time zone).")
    with catalog_errors():
        _check_new_token(lake, tenant, user, role)
        now = _now_us(lake)
        expires = None
        if expires_in_s is not None:
            expires = now + int(expires_in_s * 1_000_000)
        elif expires_at is not None:
            expires = to_us(expires_at)
        token_id = f"tok_{secrets.token_hex(8)}"
        secret = f"{token_id}.{secrets.token_urlsafe(32)}"
        catalog_tokens.insert_token(
            lake.catalog,
            {
                "token_id": token_id,
                "tenant_id": tenant,
                "user_name": user,
                "role": role,
                "secret_hash": _hash(secret),
                "created_time": now,
                "expires_time": expires,
                "revoked_time": None,
                "comment": comment,
            },
        )
    return token_id, secret


def authenticate(lake: Lake, secret: str) -> Principal:
    """The principal of a secret, or Unauthenticated (unknown, malformed, revoked, expired).
    The message never repeats the secret."""
    match = _SECRET.fullmatch(secret) if isinstance(secret, str) else None
    if match is None:
        raise Unauthenticated(
            "Malformed token: send the secret shown when the token was created, as "
            "'Authorization: Bearer tok_...'."
        )
    with catalog_errors():
        row = catalog_tokens.token_row(lake.catalog, match.group(1))
    # compare even when the token is unknown, so the answer takes the same time either way
    expected = row["secret_hash"] if row is not None else _hash("")
    if not hmac.compare_digest(_hash(secret), expected) or row is None:
        raise Unauthenticated("Unknown token: check it, or ask an admin of your tenant for one.")
    if row["revoked_time"] is not None:
        raise Unauthenticated("This token was revoked: ask an admin of your tenant for a new one.")
    if row["expires_time"] is not None and row["expires_time"] <= _now_us(lake):
        raise Unauthenticated(
            f"This token expired at {from_us(row['expires_time']):%Y-%m-%d %H:%M:%S} UTC: ask "
            "an admin of your tenant for a new one."
        )
    return Principal(row["tenant_id"], row["user_name"], row["role"], row["token_id"])


def revoke_token(lake: Lake, token_id: str, *, tenant: str | None = None) -> None:
    """Revoke a token by its id (only one of ``tenant``, when given): requests with it fail
    from now on, on every server of the lake."""
    with catalog_errors():
        found = catalog_tokens.revoke(lake.catalog, str(token_id), tenant, _now_us(lake))
    if not found:
        raise NotFound(f"No token {token_id!r}" + (f" in tenant '{tenant}'." if tenant else "."))


def list_tokens(lake: Lake, tenant: str | None = None) -> list[dict[str, Any]]:
    """The tokens (of one tenant, or all): id, tenant, user, role, created, expires, revoked,
    comment as aware datetimes; never a secret or its hash."""
    if tenant is not None:
        check_tenant(tenant)
    with catalog_errors():
        rows = catalog_tokens.token_list(lake.catalog, tenant)
    out = []
    for r in rows:
        out.append(
            {
                "token_id": r["token_id"],
                "tenant": r["tenant_id"],
                "user": r["user_name"],
                "role": r["role"],
                "created": from_us(r["created_time"]),
                "expires": None if r["expires_time"] is None else from_us(r["expires_time"]),
                "revoked": None if r["revoked_time"] is None else from_us(r["revoked_time"]),
                "comment": r["comment"],
            }
        )
    return out
