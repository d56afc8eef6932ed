"""Engine, file and Arrow failures as chronolake errors, in words a user can act on.

DuckDB's messages are kept (they say what was wrong) minus what only makes sense inside the
engine: the echo of the internal SQL, internal view and column names, absolute paths of the
lake, and hints to run engine ``SET``/``PRAGMA`` commands, which user SQL cannot run.
"""

from __future__ import annotations

import errno
import re
from pathlib import Path

import duckdb
import pyarrow as pa

from chronolake.engine.guard import CANCELED
from chronolake.errors import (
    DatabaseError,
    DataError,
    Error,
    NotSupportedError,
    OperationalError,
    PermissionDenied,
    SqlError,
    StatementCanceled,
)

_INTERNAL = re.compile(r"__cl_v\d+(_r)?")
_MISSING_COLUMN = re.compile(r'Referenced column "([^"]+)" not found')
# the position of a value in chronolake's own INSERT ... SELECT, not a name the user wrote
_SOURCE_ALIAS = re.compile(r" when casting from source column s\d+")
# a sentence that tells the user to run an engine command
_ENGINE_HINT = re.compile(r"\b(SET|PRAGMA|RESET)\s+[\"'`]?[a-z_]{3,}|\bTRY\(")
_SENTENCE_END = re.compile(r"(?<=[.!])\s+")
_TOO_DEEP = re.compile(r"expression depth limit", re.IGNORECASE)
_TEMP_FULL = "max_temp_directory_size"  # named by DuckDB when its spill space is used up
_USED = re.compile(r"\(([\d.]+ \w+/[\d.]+ \w+) used\)")

NESTED_TOO_DEEPLY = (
    "SQL compilation error: the statement is nested too deeply (parentheses, subqueries or "
    "expressions): simplify it, e.g. with a CTE (WITH ...)."
)


def _without_engine_hints(msg: str) -> str:
    lines = []
    for line in msg.splitlines():
        kept = [p for p in _SENTENCE_END.split(line) if not _ENGINE_HINT.search(p)]
        text = " ".join(kept).rstrip()
        if text.strip(" *\t"):
            lines.append(text)
    return "\n".join(lines)


_PYTHON_TRACEBACK = "Traceback (most recent call last):"


def clean_message(msg: str, root: str | Path | None = None) -> str:
    """DuckDB's message without internal SQL, names, paths and engine hints."""
    msg = msg.split("\n\nLINE ")[0].split("\nLINE ")[0].strip()
    msg = _INTERNAL.sub("table", msg)
    msg = _SOURCE_ALIAS.sub("", msg)
    if root is not None:
        msg = msg.replace(str(root) + "/", "").replace(str(root), ".")
    return _without_engine_hints(msg).strip()


def duck_error(e: duckdb.Error, root: str | Path | None = None) -> Error:
    """The chronolake error for a DuckDB error, by its type."""
    msg = clean_message(str(e), root)
    missing = _MISSING_COLUMN.search(msg)
    if missing:
        return SqlError(f"SQL compilation error: invalid identifier '{missing.group(1)}'")
    if _TOO_DEEP.search(msg):
        return SqlError(NESTED_TOO_DEEPLY)
    if isinstance(e, duckdb.PermissionException):
        return PermissionDenied(msg)
    if isinstance(
        e, (duckdb.ConversionException, duckdb.OutOfRangeException, duckdb.InvalidInputException)
    ):
        return DataError(msg)
    if isinstance(e, (duckdb.ParserException, duckdb.BinderException, duckdb.CatalogException)):
        return SqlError(f"SQL compilation error: {msg}")
    if isinstance(e, duckdb.ConstraintException):
        return DataError(msg)
    if isinstance(e, duckdb.IOException):
        return OperationalError(
            f"{msg}. A file of the lake could not be read or written: if a data file is "
            "missing, restore the lake's data directory from a backup."
        )
    if isinstance(e, duckdb.OutOfMemoryException) and _TEMP_FULL in str(e):
        used = _USED.search(msg)
        return OperationalError(
            "Out of spill space: the statement needs more temporary disk space than the "
            f"engine may use{f' ({used.group(1)} used)' if used else ''}: raise the "
            "duckdb_temp_limit setting (or free disk space where connections spill), or make "
            "the statement read less."
        )
    if isinstance(e, duckdb.OutOfMemoryException):
        first = msg.splitlines()[0] if msg else "Out of Memory Error"  # the rest tunes DuckDB
        return OperationalError(
            f"{first}. The statement needs more memory than the engine may use: raise the "
            "duckdb_memory_limit setting or make the statement read less."
        )
    if isinstance(e, duckdb.InterruptException):
        return StatementCanceled(CANCELED)
    if msg.startswith(_PYTHON_TRACEBACK):  # raised by a registered (S3) file system
        last = msg.strip().splitlines()[-1].strip()
        return OperationalError(
            f"The lake's storage could not be read ({last}): check that it is reachable, "
            "then run the statement again."
        )
    return DatabaseError(msg)


def os_error(e: OSError, root: str | Path | None = None) -> Error:
    """The chronolake error for a failed file operation of the lake."""
    where = e.filename if isinstance(e.filename, str) else ""
    if root is not None and where.startswith(str(root)):
        where = where[len(str(root)) :].lstrip("/") or "."
    shown = f" ({where})" if where else ""
    if isinstance(e, FileNotFoundError):
        return OperationalError(
            f"A file of the lake is missing{shown}: restore the lake's data directory from a "
            "backup."
        )
    if isinstance(e, PermissionError) or e.errno == errno.EROFS:
        return OperationalError(
            f"The lake cannot be written{shown}: its directory or mount is read-only for this "
            "process. Open it with read_only=True to query it."
        )
    if e.errno == errno.ENOSPC:
        return OperationalError(f"The disk of the lake is full{shown}: free space and retry.")
    return OperationalError(f"A file operation of the lake failed{shown}: {e.strerror or e}.")


def arrow_error(e: pa.ArrowException) -> Error:
    """The chronolake error for a pyarrow error (conversion of user data, mostly)."""
    if isinstance(e, pa.ArrowNotImplementedError):
        return NotSupportedError(f"Not supported for this data: {e}")
    return DataError(f"Invalid data: {e}")


def foreign_error(e: BaseException, root: str | Path | None = None) -> Error | None:
    """What a user should see for an error raised below chronolake; None if it is a bug."""
    if isinstance(e, duckdb.Error):
        return duck_error(e, root)
    if isinstance(e, RecursionError):
        return SqlError(NESTED_TOO_DEEPLY)
    if isinstance(e, pa.ArrowException) and not isinstance(e, OSError):
        return arrow_error(e)
    if isinstance(e, OSError):
        return os_error(e, root)
    if isinstance(e, (ValueError, OverflowError)):
        return DataError(str(e))
    return None
