"""Where a lake keeps things: the catalog file and one storage prefix per tenant.

The catalog file is local by nature (SQLite); the tenants' files live in the lake's storage
(``chronolake.io``): the lake folder itself by default, or S3-compatible storage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from chronolake.errors import ProgrammingError

if TYPE_CHECKING:
    from chronolake.io.file_io import FileIO

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
    """A lake: ``root`` is its local folder (the embedded catalog's, and the files' unless
    ``storage`` says otherwise); None when the catalog is a database and the files are on
    object storage."""

    root: Path | None
    storage: FileIO | None = None

    @property
    def catalog_path(self) -> Path:
        if self.root is None:
            raise ProgrammingError("This lake has no local folder: its catalog is a database.")
        return self.root / "catalog.sqlite"

    @property
    def where(self) -> str:
        """The files' location, for messages."""
        return str(self.root) if self.storage is None else self.storage.url

    @property
    def io(self) -> FileIO:
        """The lake's storage (its folder when no other storage was given)."""
        if self.storage is not None:
            return self.storage
        if self.root is None:
            raise ProgrammingError("This lake has no storage.")
        from chronolake.io.open_storage import open_storage

        return open_storage(str(self.root))

    def tenant_io(self, tenant: str) -> FileIO:
        """The tenant's storage prefix: every file of the tenant lives below it."""
        return self.io.for_tenant(tenant)

    def tenant_root(self, tenant: str) -> Path:
        """The tenant's local folder (local storage only: tests and tools look inside it)."""
        io = self.tenant_io(tenant)
        if not io.is_local:
            raise ProgrammingError(f"The lake's storage is {io.url}, not a local folder.")
        return Path(io.root)


def table_dir(table_id: int) -> str:
    """A table's folder, relative to the tenant root."""
    return f"tables/{table_id}"
