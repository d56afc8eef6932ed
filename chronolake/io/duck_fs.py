"""The fsspec S3 file system DuckDB reads a tenant's S3 files through.

DuckDB 2.0 has no httpfs offline, so S3 files are read through an ``s3fs`` file system
registered on each engine. Credentials live in that object only, never in SQL text. DuckDB's
``allowed_directories`` (the tenant's ``s3://`` prefix) already refuses any other path; this
file system refuses them too, as a second line: a path with ``.`` or ``..`` segments (which
an HTTP layer could normalise past the prefix) or outside the tenant's root.

Data and delete files are immutable and their paths never reused, so what a HEAD request
says about a file is cached for the process (``_INFO``): a query over files already seen
sends no HEAD request, and none ever lists the bucket (scans name their files). DuckDB asks
for that information through fsspec's sync methods; a cached answer is given on the calling
thread, never through fsspec's event loop (about 0.3 ms a trip, some 250 trips per query
over 60 files). Reads go through the storage's ``BlockCache`` (shared by the Lake's
connections and tenants, the tenant's prefix checked first); one file system per tenant
root is kept by ``TenantFileSystems``, so a new connection does not pay for a new S3 client.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Mapping
from typing import Any

from chronolake.errors import ProgrammingError
from chronolake.io.block_cache import BlockCache
from chronolake.lru import LRU

_INFO: LRU[dict[str, Any]] = LRU(100_000)  # (endpoint, bucket/key) -> s3fs file info
_WILDCARDS = frozenset("*?[")  # what makes fsspec's glob a pattern rather than a path


class TenantFileSystems:
    """The fsspec file systems of one storage, one per tenant root, made on first use and
    kept (a new connection does not pay for a new S3 client); all read through one block
    cache of ``read_cache_bytes`` (0: none). Owned by the storage's FileIO, so the cache
    goes when the Lake does (fsspec's own instance cache would keep it for the process)."""

    def __init__(self, conf: Mapping[str, str | None], read_cache_bytes: int) -> None:
        self._conf = dict(conf)
        self.block_cache = BlockCache(read_cache_bytes) if read_cache_bytes > 0 else None
        self._made: dict[str, Any] = {}
        self._lock = threading.Lock()

    def __call__(self, root: str) -> Any:
        """The file system that serves only the keys below ``root`` (``bucket/prefix``)."""
        with self._lock:
            fs = self._made.get(root)
            if fs is None:
                fs = self._made[root] = tenant_s3fs(self._conf, root, self.block_cache)
            return fs


def tenant_s3fs(
    conf: Mapping[str, str | None], root: str, block_cache: BlockCache | None = None
) -> Any:
    """An s3fs file system with ``conf``'s endpoint and credentials that serves only the
    keys below ``root`` (``bucket/prefix``), reading through ``block_cache`` if given."""
    return _tenant_class()(
        tenant_root=root.strip("/"),
        block_cache=block_cache,
        skip_instance_cache=True,
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

        def __init__(
            self, *args: Any, tenant_root: str, block_cache: BlockCache | None, **kwargs: Any
        ) -> None:
            super().__init__(*args, **kwargs)
            self.tenant_base = tenant_root + "/"
            self.endpoint = str(kwargs.get("endpoint_url") or "")
            self.block_cache = block_cache

        def _open(self, path: str, mode: str = "rb", **kwargs: Any) -> Any:
            if mode != "rb" or self.block_cache is None or kwargs.get("version_id"):
                return super()._open(path, mode, **kwargs)
            # fsspec's own read-ahead off: each read is served by the shared block cache
            return CachedS3File(
                self, path, "rb", block_size=self.block_cache.block_size, cache_type="none"
            )

        def split_path(self, path: str) -> tuple[str, str, str | None]:
            self._inside(path)
            return super().split_path(path)

        def _inside(self, path: str) -> str:
            """``path`` without its protocol; PermissionError if outside the tenant's root."""
            stripped = self._strip_protocol(path)
            parts = stripped.split("/")
            if any(p in (".", "..") for p in parts) or not (stripped + "/").startswith(
                self.tenant_base
            ):
                raise PermissionError(f"Access to {path!r} is outside this tenant's storage.")
            return stripped

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
            name = self._inside(path)
            return {name: found} if kwargs.get("detail") else [name]

        def _known(self, path: str) -> dict[str, Any] | None:
            """The cached information of the file ``path`` (None if not seen yet)."""
            found = _INFO.get((self.endpoint, self._inside(path)))
            return None if found is None else dict(found)

        async def _info(
            self,
            path: str,
            bucket: str | None = None,
            key: str | None = None,
            refresh: bool = False,
            version_id: str | None = None,
        ) -> dict[str, Any]:
            cache_key = (self.endpoint, self._inside(path))
            found = None if refresh or version_id else _INFO.get(cache_key)
            if found is not None:
                return dict(found)
            out: dict[str, Any] = await super()._info(path, bucket, key, refresh, version_id)
            if out.get("type") == "file":
                _INFO.put(cache_key, dict(out))
            return out

    class CachedS3File(s3fs.core.S3File):
        """A file opened for reading whose bytes come through the file system's block cache
        (the path was checked against the tenant's root when the file was opened)."""

        def _fetch_range(self, start: int, end: int) -> bytes:
            cache: BlockCache = self.fs.block_cache
            key = (self.fs.endpoint, self.path)
            return cache.read(key, self.size, start, end, super()._fetch_range)

    return TenantS3FileSystem
