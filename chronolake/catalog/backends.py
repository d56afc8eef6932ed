"""Catalog backends chosen by URL: ``sqlite:///path`` (embedded) or
``postgresql+psycopg://user:password@host:port/database`` (shared by many nodes)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from chronolake.catalog.backend import CatalogBackend
from chronolake.catalog.postgres import PostgresBackend, create_postgres_engine
from chronolake.catalog.sqlite import SqliteBackend, create_sqlite_engine
from chronolake.errors import InterfaceError
from chronolake.settings import Settings

_BACKENDS: dict[str, CatalogBackend] = {
    "sqlite": SqliteBackend(),
    "postgresql": PostgresBackend(),
}
_FORMS = "sqlite:///path/to/catalog.sqlite or postgresql+psycopg://user:password@host:port/db"


def backend_of(conn: Connection | Engine) -> CatalogBackend:
    """The hooks of the database behind ``conn``."""
    return _BACKENDS[conn.dialect.name]


def catalog_url(url: str | URL) -> URL:
    """``url`` parsed, or a clear error naming the forms a catalog URL takes."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):  # ValueError: e.g. a port that is not a number
        raise InterfaceError(f"Invalid catalog URL: use {_FORMS}.") from None
    if parsed.get_backend_name() not in _BACKENDS:
        raise InterfaceError(
            f"Unsupported catalog database {parsed.get_backend_name()!r}: use {_FORMS}."
        )
    return parsed


def sqlite_path(url: URL) -> Path | None:
    """The file of an embedded catalog URL; None for other backends."""
    if url.get_backend_name() != "sqlite":
        return None
    if not url.database or url.database == ":memory:":
        raise InterfaceError(f"A SQLite catalog needs a file: use {_FORMS}.")
    return Path(url.database).expanduser().absolute()


def open_catalog_engine(url: str | URL, settings: Settings, read_only: bool) -> Engine:
    """An engine on the catalog that ``url`` names (connected once, so a wrong host, user,
    password or database fails here with a clear error)."""
    parsed = catalog_url(url)
    path = sqlite_path(parsed)
    if path is not None:
        return create_sqlite_engine(path, settings.catalog_busy_timeout_s, read_only)
    return create_postgres_engine(parsed, settings.catalog_busy_timeout_s, read_only)


def safe_url(url: str | URL) -> str:
    """A catalog URL fit to show or log: the password, if any, masked."""
    try:
        return catalog_url(url).render_as_string(hide_password=True)
    except InterfaceError:
        return "<invalid catalog URL>"
