"""The DuckDB session that executes a connection's statements, sandboxed to one tenant.

DuckDB is configured so that, whatever SQL reaches it, it can only touch files below the
tenant's storage prefix: external access off, that one directory allowed, extension
install/load off, and the configuration locked. This is the second line of defence; the
first is the SQL front end, which refuses file functions and engine commands outright.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from chronolake.engine.spill import temp_limit
from chronolake.io.file_io import FileIO
from chronolake.settings import Settings


def open_duck(
    io: FileIO,
    spill_dir: Path,
    settings: Settings,
    timezone: str = "UTC",
    writable: bool = True,
) -> duckdb.DuckDBPyConnection:
    """A sandboxed engine over the tenant's storage ``io`` that spills to ``spill_dir``
    (outside the lake), at most ``temp_limit`` bytes; it creates a local tenant's folder only
    when ``writable``. S3 storage is read through an fsspec file system registered on the
    engine (credentials stay in that object, never in SQL text)."""
    if writable and io.is_local:
        io.local_dir()
    config: dict[str, Any] = {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "python_enable_replacements": False,
    }
    if settings.duckdb_threads:
        config["threads"] = settings.duckdb_threads
    if settings.duckdb_memory_limit:
        config["memory_limit"] = settings.duckdb_memory_limit
    con = duckdb.connect(":memory:", config=config)
    remote = io.duck_filesystem()
    if remote is not None:
        con.register_filesystem(remote)
        # files never change: keep footers and read blocks without asking S3 again
        con.execute("SET parquet_metadata_cache = true")
        con.execute("SET validate_external_file_cache = 'NO_VALIDATION'")
    con.execute("SET TimeZone = ?", [timezone])
    con.execute("SET temp_directory = ?", [str(spill_dir)])
    con.execute("SET max_temp_directory_size = ?", [temp_limit(settings, spill_dir)])
    con.execute("SET allowed_directories = ?", [[io.duck_root(), str(spill_dir) + "/"]])
    # Snowflake fails a division by zero; DuckDB would answer NULL (DIVISOR_MACRO)
    con.execute(
        "CREATE MACRO __cl_divisor(x) AS CASE WHEN x = 0 THEN error('Division by zero') ELSE x END"
    )
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


DIVISOR_MACRO = "__cl_divisor"  # x, or Snowflake's division-by-zero error when x = 0
# chronolake's own pure macros: statements (and stored views) call them after its rewrites
MACROS = frozenset({DIVISOR_MACRO})


def first_row(
    duck: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None
) -> tuple[Any, ...] | None:
    """The first row of a query, reading the result to its end (DuckDB wants it finished)."""
    rows = duck.execute(sql, params).fetchall()
    return rows[0] if rows else None
