"""BlockCache on its own: the bytes it returns are the file's, whole blocks are fetched one
request per run of missing blocks, memory stays within the bound, and a read after eviction
fetches again."""

from __future__ import annotations

import random
import threading

import pytest

from chronolake.io.block_cache import BlockCache

DATA = bytes(random.Random(7).randrange(256) for _ in range(10_000))


class Source:
    """A file's bytes, counting the range requests made of it."""

    def __init__(self, data: bytes = DATA) -> None:
        self.data = data
        self.requests: list[tuple[int, int]] = []

    def fetch(self, start: int, end: int) -> bytes:
        self.requests.append((start, end))
        return self.data[start:end]


def test_reads_return_the_files_bytes_and_hits_fetch_nothing() -> None:
    cache, src = BlockCache(max_bytes=100_000, block_size=1000), Source()
    rng = random.Random(1)
    ranges = [sorted(rng.sample(range(len(DATA) + 50), 2)) for _ in range(200)]
    for start, end in ranges:
        assert cache.read("f", len(DATA), start, end, src.fetch) == DATA[start:end]
    fetched = len(src.requests)
    for start, end in ranges:  # every block is held now
        assert cache.read("f", len(DATA), start, end, src.fetch) == DATA[start:end]
    assert len(src.requests) == fetched <= 10
    assert cache.read("f", len(DATA), 20_000, 30_000, src.fetch) == b""  # past the end


def test_one_request_per_run_of_missing_blocks() -> None:
    cache, src = BlockCache(max_bytes=100_000, block_size=1000), Source()
    cache.read("f", len(DATA), 2500, 2600, src.fetch)  # block 2
    cache.read("f", len(DATA), 5100, 5200, src.fetch)  # block 5
    src.requests.clear()
    assert cache.read("f", len(DATA), 500, 9999, src.fetch) == DATA[500:9999]
    # blocks 0-1, 3-4 and 6-9 were missing: three requests of whole blocks
    assert src.requests == [(0, 2000), (3000, 5000), (6000, 10_000)]
    assert cache.fetches == 5 and cache.fetched_bytes == 10_000


def test_files_are_cached_apart() -> None:
    cache = BlockCache(max_bytes=100_000, block_size=1000)
    a, b = Source(DATA), Source(DATA[::-1])
    assert cache.read("a", len(DATA), 0, 3000, a.fetch) == DATA[:3000]
    assert cache.read("b", len(DATA), 0, 3000, b.fetch) == DATA[::-1][:3000]
    assert cache.read("a", len(DATA), 0, 3000, b.fetch) == DATA[:3000]  # a's own bytes


def test_memory_stays_within_the_bound_and_evicted_blocks_are_read_again() -> None:
    cache, src = BlockCache(max_bytes=3000, block_size=1000), Source()
    for start in range(0, len(DATA), 1000):
        assert cache.read("f", len(DATA), start, start + 1000, src.fetch) == DATA[start:][:1000]
        assert cache.held_bytes <= 3000
    src.requests.clear()
    assert cache.read("f", len(DATA), 9000, 9500, src.fetch) == DATA[9000:9500]  # still held
    assert src.requests == []
    assert cache.read("f", len(DATA), 0, 10, src.fetch) == DATA[:10]  # evicted: read again
    assert src.requests == [(0, 1000)]
    assert cache.held_bytes <= 3000


def test_a_bound_of_zero_keeps_nothing() -> None:
    cache, src = BlockCache(max_bytes=0, block_size=1000), Source()
    for _ in range(2):
        assert cache.read("f", len(DATA), 100, 2100, src.fetch) == DATA[100:2100]
    assert len(src.requests) == 2 and cache.held_bytes == 0


def test_a_short_read_is_an_error_and_nothing_is_kept() -> None:
    cache = BlockCache(max_bytes=100_000, block_size=1000)
    with pytest.raises(OSError, match="Short read"):
        cache.read("f", len(DATA), 0, 2000, lambda s, e: DATA[s : e - 1])
    assert cache.held_bytes == 0


def test_threads_share_one_cache() -> None:
    cache, src = BlockCache(max_bytes=6000, block_size=1000), Source()
    wrong: list[tuple[int, int]] = []

    def reader(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(300):
            start, end = sorted(rng.sample(range(len(DATA)), 2))
            if cache.read("f", len(DATA), start, end, src.fetch) != DATA[start:end]:
                wrong.append((start, end))

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == [] and cache.held_bytes <= 6000


def test_bad_bounds_are_refused() -> None:
    with pytest.raises(ValueError, match="max_bytes >= 0"):
        BlockCache(max_bytes=-1)
    with pytest.raises(ValueError, match="block_size > 0"):
        BlockCache(max_bytes=10, block_size=0)
