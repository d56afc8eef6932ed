"""The server's tokens (``cl_tokens``) and the tenant list: the catalog SQL behind
chronolake/server/tokens.py. Only hashes of secrets are stored."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update

from chronolake.catalog import schema as s
from chronolake.catalog.base import Catalog

_PUBLIC = (
    "token_id",
    "tenant_id",
    "user_name",
    "role",
    "created_time",
    "expires_time",
    "revoked_time",
    "comment",
)


def tenant_names(catalog: Catalog) -> list[str]:
    """Every tenant of the lake, sorted."""
    q = select(s.tenants.c.tenant_id).order_by(s.tenants.c.tenant_id)
    return catalog.read(lambda c: [r[0] for r in c.execute(q)])


def tenant_exists(catalog: Catalog, tenant: str) -> bool:
    q = select(s.tenants.c.tenant_id).where(s.tenants.c.tenant_id == tenant)
    return catalog.read(lambda c: c.execute(q).first() is not None)


def insert_token(catalog: Catalog, row: dict[str, Any]) -> None:
    with catalog.engine.connect().execution_options(write=True) as conn, conn.begin():
        conn.execute(insert(s.tokens).values(**row))


def token_row(catalog: Catalog, token_id: str) -> dict[str, Any] | None:
    """The token's row with its ``secret_hash`` (for checking a secret), or None."""
    q = select(s.tokens).where(s.tokens.c.token_id == token_id)
    row = catalog.read(lambda c: c.execute(q).first())
    return None if row is None else dict(row._mapping)


def revoke(catalog: Catalog, token_id: str, tenant: str | None, now_us: int) -> bool:
    """Mark the token revoked (if it belongs to ``tenant``, when given); False if no such
    token. Revoking twice keeps the first time."""
    t = s.tokens
    where = [t.c.token_id == token_id]
    if tenant is not None:
        where.append(t.c.tenant_id == tenant)
    with catalog.engine.connect().execution_options(write=True) as conn, conn.begin():
        found = conn.execute(select(t.c.revoked_time).where(*where)).first()
        if found is None:
            return False
        if found[0] is None:
            conn.execute(update(t).where(*where).values(revoked_time=now_us))
    return True


def token_list(catalog: Catalog, tenant: str | None) -> list[dict[str, Any]]:
    """Tokens (never their hashes), of one tenant or all, by tenant, user and creation."""
    t = s.tokens
    q = select(*(t.c[name] for name in _PUBLIC)).order_by(
        t.c.tenant_id, t.c.user_name, t.c.created_time
    )
    if tenant is not None:
        q = q.where(t.c.tenant_id == tenant)
    return catalog.read(lambda c: [dict(r._mapping) for r in c.execute(q)])
