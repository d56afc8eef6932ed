"""BlockCache: byte ranges of immutable remote files, kept in memory and shared by connections.

A lake's data and delete files never change once written and their paths are never reused,
so a block read once (keyed by file and block number) is right for as long as it is kept. A
read is served from whole blocks: the blocks already held are copied, each run of missing
blocks is fetched with one range request. The cache is bounded in bytes and drops the least
recently used blocks first; it is thread-safe (one per Lake, used by all its connections).

The cache knows nothing of tenants: the file system that owns it refuses any path outside
its tenant's prefix before asking the cache, so one tenant can never be handed another's
bytes (see ``duck_fs``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable

from chronolake.lru import LRU

DEFAULT_BLOCK = 1 << 20  # bytes per block: one range request fetches whole blocks


class BlockCache:
    """At most ``max_bytes`` of file blocks of ``block_size`` bytes each (LRU)."""

    def __init__(self, max_bytes: int, block_size: int = DEFAULT_BLOCK) -> None:
        if max_bytes < 0 or block_size <= 0:
            raise ValueError("BlockCache needs max_bytes >= 0 and block_size > 0.")
        self.max_bytes = max_bytes
        self.block_size = block_size
        self._blocks: LRU[bytes] = LRU(max_bytes, len)
        self._stats_lock = threading.Lock()
        self.hits = 0  # blocks served from memory
        self.fetches = 0  # range requests sent
        self.fetched_bytes = 0

    @property
    def held_bytes(self) -> int:
        """Bytes of blocks held now (never more than ``max_bytes``)."""
        return self._blocks.total

    def read(
        self,
        file: Hashable,
        size: int,
        start: int,
        end: int,
        fetch: Callable[[int, int], bytes],
    ) -> bytes:
        """Bytes ``start`` to ``end`` (exclusive) of ``file`` (``size`` bytes long), missing
        blocks fetched by ``fetch(start, end)`` (one call per run of missing blocks)."""
        end = min(end, size)
        if start >= end:
            return b""
        bs = self.block_size
        first, last = start // bs, (end - 1) // bs
        blocks: dict[int, bytes] = {}
        missing: list[int] = []
        for n in range(first, last + 1):
            got = self._blocks.get((file, n)) if self.max_bytes else None
            if got is None:
                missing.append(n)
            else:
                blocks[n] = got
        self._count(hits=len(blocks))
        for lo, hi in _runs(missing):
            blocks.update(self._fetch_run(file, size, lo, hi, fetch))
        data = b"".join(blocks[n] for n in range(first, last + 1))
        offset = start - first * bs
        return data[offset : offset + end - start]

    def _fetch_run(
        self, file: Hashable, size: int, lo: int, hi: int, fetch: Callable[[int, int], bytes]
    ) -> dict[int, bytes]:
        """Blocks ``lo`` to ``hi`` (inclusive) fetched in one request, and kept."""
        bs = self.block_size
        start, end = lo * bs, min((hi + 1) * bs, size)
        data = fetch(start, end)
        if len(data) != end - start:
            raise OSError(f"Short read: {len(data)} bytes of {end - start} at offset {start}.")
        self._count(fetches=1, fetched=len(data))
        out = {n: data[(n - lo) * bs : (n - lo + 1) * bs] for n in range(lo, hi + 1)}
        if self.max_bytes:
            for n, block in out.items():
                if len(block) <= self.max_bytes:
                    self._blocks.put((file, n), block)
        return out

    def _count(self, hits: int = 0, fetches: int = 0, fetched: int = 0) -> None:
        with self._stats_lock:
            self.hits += hits
            self.fetches += fetches
            self.fetched_bytes += fetched

    def clear(self) -> None:
        self._blocks.clear()


def _runs(numbers: list[int]) -> list[tuple[int, int]]:
    """Ascending ``numbers`` as (first, last) runs of consecutive values."""
    runs: list[tuple[int, int]] = []
    for n in numbers:
        if runs and runs[-1][1] == n - 1:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    return runs
