"""Who a request acts as: resolved from its token, never from the request itself."""

from __future__ import annotations

from dataclasses import dataclass

from chronolake.sql.roles import ROLES as ROLES


@dataclass(frozen=True)
class Principal:
    """A token's owner: the tenant it works on, the user recorded in QUERY_HISTORY, its role."""

    tenant: str
    user: str
    role: str  # one of ROLES
    token_id: str
