"""Where a lake keeps things: the catalog file and one storage prefix per tenant."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from chronolake.errors import ProgrammingError

_TENANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,63}$")


def check_tenant(tenant: str) -> str:
    if not isinstance(tenant, str) or not _TENANT.match(tenant):
        raise ProgrammingError(
            f"Invalid tenant name {tenant!r}: use 1 to 64 letters, digits, '_' or '-', "
            "starting with a letter or digit."
        )
    return tenant


@dataclass(frozen=True)
class LakeLayout:
    root: Path

    @property
    def catalog_path(self) -> Path:
        return self.root / "catalog.sqlite"

    def tenant_root(self, tenant: str) -> Path:
        """The tenant's storage prefix: every file of the tenant lives below it."""
        return self.root / "data" / check_tenant(tenant)


def table_dir(table_id: int) -> str:
    """A table's folder, relative to the tenant root."""
    return f"tables/{table_id}"
