"""Failures below chronolake (catalog, engine, files, Arrow) as chronolake errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from chronolake.catalog.errors import CATALOG_ERRORS, catalog_error
from chronolake.engine.errors import foreign_error
from chronolake.errors import Error, InternalError


def as_error(e: Exception, root: str | Path | None = None) -> Error | None:
    """The chronolake error for ``e``; None when ``e`` is a bug (no user could cause it)."""
    if isinstance(e, Error):
        return e
    if isinstance(e, CATALOG_ERRORS):
        return catalog_error(e)
    return foreign_error(e, root)


def to_error(e: Exception, root: str | Path | None = None) -> Error:
    """``as_error``, or for a bug an ``InternalError`` that says to report it."""
    found = as_error(e, root)
    if found is not None:
        return found
    return InternalError(f"Internal error ({type(e).__name__}: {e}): please report it.")


@contextmanager
def translated(root: str | Path | None = None) -> Iterator[None]:
    """Raise the chronolake error for anything a user can cause in the block."""
    try:
        yield
    except Error:
        raise
    except Exception as e:
        err = as_error(e, root)
        if err is None:
            raise
        raise err from None
