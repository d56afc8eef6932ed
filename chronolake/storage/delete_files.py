"""Delete files: reading their positions (cached) and writing new versions of them.

A delete file lists the positions (``pos``, sorted) deleted from one data file, each with
``q``, the query id of the statement that deleted it (so one statement can be reverted even
inside a multi-statement transaction). A DML statement that deletes rows of a data file
writes a new delete file for it: the old positions plus the new ones.

Delete files are immutable and never reuse a path, so their contents are cached in memory by
path: a statement reads the positions of the files it touches from the cache (they are
usually the files the previous statement wrote) instead of from disk. Files are written by
pyarrow, one small write per touched data file, completely before any commit names them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from chronolake.catalog.base import new_id
from chronolake.catalog.model import DataFile, DeleteFile
from chronolake.lru import LRU
from chronolake.storage.layout import table_dir

_MAX_CACHED_POSITIONS = 4_000_000  # ~12 bytes each (position, dictionary index of q)

_cache: LRU[pa.Table] = LRU(_MAX_CACHED_POSITIONS, lambda t: t.num_rows)


def positions(root: Path, dl: DeleteFile) -> pa.Table:
    """The (pos, q) rows of a delete file, sorted by pos."""
    path = str(root / dl.path)
    found = _cache.get(path)
    if found is not None:
        return found
    table = pq.read_table(path, columns=["pos", "q"], read_dictionary=["q"])
    table = pa.table({"pos": table.column("pos"), "q": table.column("q")})
    _cache.put(path, table)
    return table


def deleted_positions(root: Path, files: list[DataFile]) -> pa.Table:
    """(f, pos) of every position the delete files of ``files`` list (f: data file id)."""
    parts = []
    for f in files:
        if f.delete is not None:
            pos = positions(root, f.delete).column("pos")
            fid = pa.array(np.full(len(pos), f.file_id, dtype=np.int64))
            parts.append(pa.table({"f": fid, "pos": pos}))
    if not parts:
        return pa.table({"f": pa.array([], pa.int64()), "pos": pa.array([], pa.int64())})
    return pa.concat_tables(parts)


def _merged(root: Path, f: DataFile, new: np.ndarray, query_id: str) -> pa.Table:
    """The old positions of ``f`` plus ``new`` (deleted by ``query_id``), sorted by pos."""
    pos = np.asarray(new, dtype=np.int64)
    codes = np.zeros(len(pos), dtype=np.int32)
    queries = pa.array([query_id])
    if f.delete is not None:
        old = positions(root, f.delete)
        q = old.column("q").combine_chunks()
        known = q.dictionary.to_pylist()
        if query_id in known:
            codes[:] = known.index(query_id)
        else:
            codes[:] = len(known)
            queries = pa.concat_arrays([q.dictionary, queries])
        pos = np.concatenate([old.column("pos").to_numpy(), pos])
        codes = np.concatenate([q.indices.to_numpy(zero_copy_only=False), codes])
    order = np.argsort(pos, kind="stable")
    q_col = pa.DictionaryArray.from_arrays(pa.array(codes[order], pa.int32()), queries)
    return pa.table({"pos": pa.array(pos[order], pa.int64()), "q": q_col})


def write_delete_files(
    root: Path,
    table_id: int,
    files: list[DataFile],
    new_positions: Mapping[int, np.ndarray],
    query_id: str,
) -> dict[int, DeleteFile]:
    """A new delete file for each of ``files``: its old positions plus ``new_positions``
    (by data file id, none of them deleted yet), deleted by ``query_id``."""
    # a fresh directory per statement: creating files in it is several times faster than in
    # the table's directory, which holds every data file
    rel_dir = f"{table_dir(table_id)}/deletes-{uuid.uuid4().hex}"
    (root / rel_dir).mkdir(parents=True, exist_ok=True)
    out = {}
    for f in files:
        merged = _merged(root, f, new_positions[f.file_id], query_id)
        rel = f"{rel_dir}/del-{f.file_id}.parquet"
        path = root / rel
        with open(path, "wb") as sink:
            pq.write_table(
                merged,
                sink,
                # sorted positions delta-encode to a few bits each: smaller than zstd over
                # plain values and twice as fast to write (W1: 340 vs 362 KB, 3.8 vs 8.9 ms
                # for a statement's 60 files)
                compression="none",
                use_dictionary=["q"],
                column_encoding={"pos": "DELTA_BINARY_PACKED"},
                write_statistics=False,
                store_schema=False,
            )
        _cache.put(str(path), merged)
        out[f.file_id] = DeleteFile(new_id(), rel, merged.num_rows, os.path.getsize(path))
    return out
