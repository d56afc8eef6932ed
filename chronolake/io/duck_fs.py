"""The fsspec S3 file system DuckDB reads a tenant's S3 files through.

DuckDB 2.0 has no httpfs offline, so S3 files are read through an ``s3fs`` file system
registered on each engine. Credentials live in that object only, never in SQL text. DuckDB's
``allowed_directories`` (the tenant's ``s3://`` prefix) already refuses any other path; this
file system refuses them too, as a second line: a path with ``.`` or ``..`` segments (which
an HTTP layer could normalise past the prefix) or outside the tenant's root.

Data and delete files are immutable and their paths never reused, so what a HEAD request
says about a file is cached for the process (``_INFO``): a query over files already seen
sends no HEAD request, and none ever lists the bucket (scans name their files). One file
system per (endpoint, credentials, tenant root) is kept by fsspec's instance cache, so a new
connection does not pay for a new S3 client.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from chronolake.errors import ProgrammingError
from chronolake.lru import LRU

_INFO: LRU[dict[str, Any]] = LRU(100_000)  # (endpoint, bucket/key) -> s3fs file info
_WILDCARDS = frozenset("*?[")  # what makes fsspec's glob a pattern rather than a path


def tenant_s3fs(conf: Mapping[str, str | None], root: str) -> Any:
    """An s3fs file system with ``conf``'s endpoint and credentials that serves only the
    keys below ``root`` (``bucket/prefix``)."""
    return _tenant_class()(
        tenant_root=root.strip("/"),
        key=conf["access_key_id"],
        secret=conf["secret_access_key"],
        endpoint_url=conf["endpoint_url"],
        client_kwargs={"region_name": conf["region"] or "us-east-1"},
        # fail in seconds, not minutes, when the store is down (as the write path does)
        config_kwargs={"connect_timeout": 10, "retries": {"max_attempts": 2}},
    )


@functools.cache
def _tenant_class() -> type:
    """The s3fs subclass (built on first use: s3fs is an optional dependency)."""
    try:
        import s3fs
        from fsspec.asyn import sync
    except ImportError:
        raise ProgrammingError(
            "Reading s3:// storage needs the s3 extra: pip install 'chronolake[s3]'."
        ) from None

    class TenantS3FileSystem(s3fs.S3FileSystem):
        """s3fs limited to the keys below one prefix (``tenant_root``)."""

        retries = 2  # s3fs's own retries of a failed request (on top of the client's)

        def __init__(self, *args: Any, tenant_root: str, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.tenant_base = tenant_root + "/"
            self.endpoint = str(kwargs.get("endpoint_url") or "")

        def split_path(self, path: str) -> tuple[str, str, str | None]:
            stripped = self._strip_protocol(path)
            parts = stripped.split("/")
            if any(p in (".", "..") for p in parts) or not (stripped + "/").startswith(
                self.tenant_base
            ):
                raise PermissionError(f"Access to {path!r} is outside this tenant's storage.")
            return super().split_path(path)

        # DuckDB calls the sync methods once or more per file per query; a cached answer is
        # given here, on the calling thread (a trip through fsspec's event loop costs ~0.3 ms)
        def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
            found = None if kwargs.get("refresh") or kwargs.get("version_id") else self._known(path)
            if found is not None:
                return found
            return dict(sync(self.loop, self._info, path, **kwargs))

        def size(self, path: str) -> int:
            return int(self.info(path)["size"])

        def exists(self, path: str, **kwargs: Any) -> bool:
            if self._known(path) is not None:
                return True
            return bool(sync(self.loop, self._exists, path, **kwargs))

        def glob(self, path: str, maxdepth: int | None = None, **kwargs: Any) -> Any:
            found = None if _WILDCARDS & set(path) or kwargs.get("refresh") else self._known(path)
            if found is None:
                return sync(self.loop, self._glob, path, maxdepth=maxdepth, **kwargs)
            name = self._strip_protocol(path)
            return {name: found} if kwargs.get("detail") else [name]

        def _known(self, path: str) -> dict[str, Any] | None:
            """The cached information of the file ``path`` (None if not seen yet)."""
            self.split_path(path)  # refuses paths outside the tenant's root
            found = _INFO.get((self.endpoint, self._strip_protocol(path)))
            return None if found is None else dict(found)

        async def _info(
            self,
            path: str,
            bucket: str | None = None,
            key: str | None = None,
            refresh: bool = False,
            version_id: str | None = None,
        ) -> dict[str, Any]:
            self.split_path(path)  # refuses paths outside the tenant's root
            cache_key = (self.endpoint, self._strip_protocol(path))
            found = None if refresh or version_id else _INFO.get(cache_key)
            if found is not None:
                return dict(found)
            out: dict[str, Any] = await super()._info(path, bucket, key, refresh, version_id)
            if out.get("type") == "file":
                _INFO.put(cache_key, dict(out))
            return out

    return TenantS3FileSystem
