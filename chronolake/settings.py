"""Configuration: one frozen object passed explicitly (documented in docs/configuration.md)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field


def system_clock() -> dt.datetime:
    """The default clock: the machine's time, as an aware UTC datetime."""
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Settings:
    """Everything a connection can be tuned with; defaults are what benchmarks run with."""

    clock: Callable[[], dt.datetime] = field(default=system_clock)
    user: str = "CHRONOLAKE"
    autocommit_retries: int = 3
    target_file_size: int = 256 * 1024 * 1024
    row_group_size: int = 122_880
    catalog_busy_timeout_s: float = 60.0
    duckdb_threads: int | None = None
    duckdb_memory_limit: str | None = None  # None: DuckDB's default, 80% of the machine's RAM
    # spill space per connection; None: half the spill disk's free space, at most 16 GiB
    duckdb_temp_limit: str | None = None
    # where connections spill (one folder each, removed at close); None: the system temp dir
    spill_dir: str | None = None
    # memory for blocks of files read from S3, shared by a Lake's connections; 0: no cache
    s3_read_cache_bytes: int = 256 * 1024 * 1024
    statement_timeout_s: int = 172_800  # STATEMENT_TIMEOUT_IN_SECONDS unless SQL sets it
    cleanup_grace_s: float = 86_400.0  # expired files are deleted this long after expiry
    orphan_grace_s: float = 86_400.0  # unreferenced files older than this (mtime) are orphans
    # Test hook for crash tests: called with a step name ("commit.begin", "commit.write") at
    # the points a kill is most interesting; None (the default) costs one attribute check.
    on_step: Callable[[str], None] | None = None
