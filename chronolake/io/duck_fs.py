"""The fsspec S3 file system DuckDB reads a tenant's S3 files through.

DuckDB 2.0 has no httpfs offline, so S3 files are read through an ``s3fs`` file system
registered on each engine. Credentials live in that object only, never in SQL text. DuckDB's
``allowed_directories`` (the tenant's ``s3://`` prefix) already refuses any other path; this
file system refuses them too, as a second line: a path with ``.`` or ``..`` segments (which
an HTTP layer could normalise past the prefix) or outside the tenant's root.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chronolake.errors import ProgrammingError


def tenant_s3fs(conf: Mapping[str, str | None], root: str) -> Any:
    """An s3fs file system with ``conf``'s endpoint and credentials that serves only the
    keys below ``root`` (``bucket/prefix``)."""
    try:
        import s3fs
    except ImportError:
        raise ProgrammingError(
            "Reading s3:// storage needs the s3 extra: pip install 'chronolake[s3]'."
        ) from None

    base = root.strip("/") + "/"

    class TenantS3FileSystem(s3fs.S3FileSystem):
        """s3fs limited to one prefix (``base``)."""

        def split_path(self, path: str) -> tuple[str, str, str | None]:
            stripped = self._strip_protocol(path)
            parts = stripped.split("/")
            if any(p in (".", "..") for p in parts) or not (stripped + "/").startswith(base):
                raise PermissionError(f"Access to {path!r} is outside this tenant's storage.")
            return super().split_path(path)

    return TenantS3FileSystem(
        key=conf["access_key_id"],
        secret=conf["secret_access_key"],
        endpoint_url=conf["endpoint_url"],
        client_kwargs={"region_name": conf["region"] or "us-east-1"},
        skip_instance_cache=True,
    )
