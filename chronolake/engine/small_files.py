"""Rows of small data files kept in memory, so a state made of many tiny files reads fast.

A table written by many small commits (one Parquet file each) is made of thousands of tiny
files; opening each one costs DuckDB about 0.05 ms per query, which dominates reads of such
states. Data files never change once written, so the rows of a small one can be read once,
mapped to the table's columns (by field id, exactly as the scan maps them), and kept: a
later query of any state that contains the file reads those rows from memory.

The cache is per process, shared by its connections, bounded in bytes (least recently used
entries go first), and keyed by everything the mapped rows depend on: the file's path, its
file id and first row id (a clone shares the path under other ids), and the column list.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence

import pyarrow as pa

from chronolake.catalog.model import DataFile
from chronolake.lru import LRU

# A file is "small" up to this many rows; a state keeps at most this many small-file rows in
# memory (the rest is read from the files as usual).
SMALL_FILE_ROWS = 4_096
MAX_STATE_ROWS = 1_000_000
CACHE_BYTES = 256 * 1024 * 1024
# Each view of a state holds its small-file rows as one table (one copy: DuckDB scans one
# table of few chunks much faster than thousands of one-row ones); a connection's views hold
# at most this many bytes of them, the least recently used views are dropped first.
VIEW_BYTES = 256 * 1024 * 1024
MIN_SMALL_FILES = 8

Loader = Callable[[Sequence[DataFile]], list[pa.Table]]


class SmallFileCache:
    def __init__(self, max_bytes: int = CACHE_BYTES) -> None:
        self.rows: LRU[pa.Table] = LRU(max_bytes, lambda t: t.nbytes)

    def tables(self, files: Sequence[DataFile], shape: Hashable, load: Loader) -> list[pa.Table]:
        """The mapped rows of each of ``files`` (``shape`` identifies the column mapping);
        files not cached yet are read by one call of ``load`` and kept."""
        keys = [(f.path, f.file_id, f.first_row_id or 0, shape) for f in files]
        found = [self.rows.get(k) for k in keys]
        missing = [i for i, t in enumerate(found) if t is None]
        if missing:
            loaded = load([files[i] for i in missing])
            for i, t in zip(missing, loaded, strict=True):
                found[i] = t
                self.rows.put(keys[i], t)
        return [t for t in found if t is not None]

    def __len__(self) -> int:
        return len(self.rows)

    def clear(self) -> None:
        self.rows.clear()


CACHE = SmallFileCache()


def split_small(files: Sequence[DataFile]) -> tuple[list[DataFile], list[DataFile]]:
    """(files read from memory, files read from Parquet): small committed files without
    deletes, up to ``MAX_STATE_ROWS`` rows in all, go to memory."""
    small: list[DataFile] = []
    rest: list[DataFile] = []
    rows = 0
    for f in files:
        fits = rows + f.row_count <= MAX_STATE_ROWS
        if (
            f.delete is None
            and f.first_row_id is not None
            and f.row_count <= SMALL_FILE_ROWS
            and fits
        ):
            small.append(f)
            rows += f.row_count
        else:
            rest.append(f)
    if len(small) < MIN_SMALL_FILES:  # a few small files read about as fast from Parquet
        return [], list(files)
    return small, rest
