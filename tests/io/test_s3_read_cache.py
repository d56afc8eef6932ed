"""The S3 read cache of a Lake (SeaweedFS): the engine really reads through it, a second
connection reads what the first fetched without a request, a small bound still answers
right, and another tenant's view is never handed a cached file of this tenant."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.fs as pafs
import pytest
from services.s3 import S3Server

import chronolake
from chronolake.io.block_cache import BlockCache

ROWS = 20_000
QUERY = "SELECT count(*), sum(v), min(s) FROM t WHERE k % 7 = 3"


def _lake(tmp_path: Path, server: S3Server, bucket: str, **settings: Any) -> chronolake.Lake:
    return chronolake.Lake(
        f"sqlite:///{tmp_path / f'catalog-{uuid.uuid4().hex[:6]}.sqlite'}",
        f"s3://{bucket}/{uuid.uuid4().hex[:8]}",
        storage_options=server.options,
        settings=chronolake.Settings(**settings),
    )


def _fill(con: chronolake.Connection, rows: int = ROWS) -> list[tuple[Any, ...]]:
    con.execute("CREATE TABLE t (k BIGINT, v DOUBLE, s VARCHAR)")
    con.execute(
        "INSERT INTO t SELECT range, range * 1.5, 'x' || (range * 7919 % 1000003) "
        f"FROM range({rows})"
    )
    con.execute("DELETE FROM t WHERE k % 10 = 0")
    return [tuple(r) for r in con.execute(QUERY).fetchall()]


def _cache(lake: chronolake.Lake, tenant: str = "default") -> BlockCache:
    storage = lake.layout.storage
    assert storage is not None
    cache = storage.for_tenant(tenant).duck_filesystem().block_cache
    assert isinstance(cache, BlockCache)
    return cache


def _data_file(server: S3Server, lake: chronolake.Lake, tenant: str) -> str:
    """The s3:// URL of one of ``tenant``'s data files."""
    storage = lake.layout.storage
    assert storage is not None
    base = storage.for_tenant(tenant).root
    found = server.filesystem().get_file_info(pafs.FileSelector(base, recursive=True))
    return "s3://" + next(i.path for i in found if i.path.rsplit("/", 1)[-1].startswith("data"))


def test_connections_of_a_lake_share_what_was_read(
    tmp_path: Path, s3_server: S3Server, s3_bucket: str
) -> None:
    with _lake(tmp_path, s3_server, s3_bucket) as lake:
        want = _fill(lake.connect())
        cache = _cache(lake)
        first = lake.connect()
        assert [tuple(r) for r in first.execute(QUERY).fetchall()] == want
        assert cache.fetches > 0  # the engine read through the cache
        fetches, hits = cache.fetches, cache.hits
        second = lake.connect()  # a new engine: DuckDB's own cache of it is empty
        assert [tuple(r) for r in second.execute(QUERY).fetchall()] == want
        assert cache.fetches == fetches and cache.hits > hits  # no request to S3
        assert 0 < cache.held_bytes <= cache.max_bytes


def test_a_small_bound_evicts_and_reads_again(
    tmp_path: Path, s3_server: S3Server, s3_bucket: str
) -> None:
    bound = 1 << 20  # one block; the table's files are several MiB
    with _lake(tmp_path, s3_server, s3_bucket, s3_read_cache_bytes=bound) as lake:
        want = _fill(lake.connect(), rows=600_000)
        cache = _cache(lake)
        assert cache.fetched_bytes > bound
        for _ in range(2):
            fetches = cache.fetches
            with lake.connect() as con:  # a cold engine: every read reaches the cache
                assert [tuple(r) for r in con.execute(QUERY).fetchall()] == want
            assert cache.fetches > fetches  # evicted blocks were fetched again
            assert 0 < cache.held_bytes <= bound
        cache.clear()  # a cold read after everything was dropped
        with lake.connect() as con:
            assert [tuple(r) for r in con.execute(QUERY).fetchall()] == want


def test_a_bound_of_zero_reads_without_a_cache(
    tmp_path: Path, s3_server: S3Server, s3_bucket: str
) -> None:
    with _lake(tmp_path, s3_server, s3_bucket, s3_read_cache_bytes=0) as lake:
        want = _fill(lake.connect())
        storage = lake.layout.storage
        assert storage is not None
        assert storage.for_tenant("default").duck_filesystem().block_cache is None
        assert [tuple(r) for r in lake.connect().execute(QUERY).fetchall()] == want


def test_another_tenant_is_never_handed_cached_bytes(
    tmp_path: Path, s3_server: S3Server, s3_bucket: str
) -> None:
    with _lake(tmp_path, s3_server, s3_bucket) as lake:
        acme = lake.connect(tenant="acme")
        _fill(acme)  # acme's blocks and file information are cached now
        theirs = _data_file(s3_server, lake, "acme")
        cache = _cache(lake, "acme")
        assert acme._session.duck.execute(f"SELECT count(*) FROM '{theirs}'").fetchone()
        other = lake.connect(tenant="other")
        other.execute("CREATE TABLE t (x INT)")
        fs = other._session.io.duck_filesystem()
        assert fs.block_cache is cache  # one cache for the Lake, so the path check matters
        hits = cache.hits
        for call in (fs.info, fs.size, fs.exists, fs.glob, fs.open, fs.cat_file):
            with pytest.raises(PermissionError, match="outside this tenant's storage"):
                call(theirs)
        with pytest.raises(duckdb.Error, match=r"disabled by configuration|outside this"):
            other._session.duck.execute(f"SELECT * FROM read_parquet('{theirs}')").fetchall()
        assert cache.hits == hits


@pytest.mark.parametrize(
    ("bound", "message"),
    [(-1, "must be 0 \\(no cache\\) or more, not -1"), ("1GB", "a whole number of bytes")],
)
def test_a_bad_bound_is_refused_and_creates_nothing(
    tmp_path: Path, s3_server: S3Server, s3_bucket: str, bound: Any, message: str
) -> None:
    with pytest.raises(chronolake.ProgrammingError, match=message):
        _lake(tmp_path, s3_server, s3_bucket, s3_read_cache_bytes=bound)
    assert list(tmp_path.iterdir()) == []
