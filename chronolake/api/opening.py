"""Opening a lake: checking the path, the catalog (read-write or read-only) and the
starting namespace, each failure as a chronolake error that says what to do."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

from chronolake.catalog.backends import open_catalog_engine
from chronolake.catalog.base import Catalog
from chronolake.catalog.errors import catalog_errors
from chronolake.catalog.sqlite import create_sqlite_engine
from chronolake.errors import (
    InterfaceError,
    NotFound,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
)
from chronolake.io.open_storage import open_storage
from chronolake.settings import Settings, system_clock
from chronolake.sql.binding.names import resolve_database, resolve_schema
from chronolake.sql.session import Session, to_us
from chronolake.storage.layout import LakeLayout


def lake_root(path: object) -> Path:
    """The absolute directory of a lake from what the caller passed as its path."""
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if not isinstance(path, (str, os.PathLike)):
        raise InterfaceError(
            f"The lake path must be a string or a path, not {type(path).__name__}: "
            "e.g. chronolake.connect('./lake')."
        )
    text = os.fspath(path)
    text = os.fsdecode(text) if isinstance(text, bytes) else text
    if not text.strip():
        raise InterfaceError(
            "The lake path is empty: give the lake's directory, e.g. chronolake.connect('./lake') "
            "('.' for the current directory)."
        )
    return Path(text).expanduser().absolute()


def _is_url(location: object) -> bool:
    return isinstance(location, str) and "://" in location


def lake_address(
    location: object,
    storage: object,
    storage_options: Mapping[str, Any] | None = None,
    read_cache_bytes: int = 0,
) -> tuple[LakeLayout, str | None]:
    """(where the files live, the catalog URL or None for the folder's own SQLite file);
    S3 reads go through a block cache of at most ``read_cache_bytes``.

    S3 storage is opened (and its bucket checked) here, before any catalog is touched, so
    that a wrong bucket, credential or endpoint creates nothing."""
    if storage_options and (storage is None or not _is_url(storage)):
        raise ProgrammingError("storage_options go with S3 storage: storage='s3://bucket/prefix'.")
    if not _is_url(location):
        if storage is not None:
            raise ProgrammingError(
                "storage= goes with a catalog URL: give chronolake.Lake('postgresql+psycopg://"
                "...', storage=...), or only the lake's folder for an embedded lake."
            )
        return LakeLayout(lake_root(location)), None
    if storage is None:
        raise ProgrammingError(
            "A lake whose catalog is a database URL needs storage=: the folder (or "
            "s3://bucket/prefix) that holds its files."
        )
    if _is_url(storage) and not str(storage).startswith("file://"):
        if str(storage).split("://")[0].lower() not in ("s3", "s3a"):
            raise NotSupportedError(
                f"Storage {str(storage).split('://')[0]}:// is not supported: give a local "
                "folder or s3://bucket/prefix."
            )
        files = open_storage(str(storage), storage_options, read_cache_bytes)
        return LakeLayout(None, files), str(location)
    text = str(storage).removeprefix("file://") if isinstance(storage, str) else storage
    return LakeLayout(lake_root(text)), str(location)


def _make_root(root: Path) -> None:
    try:
        root.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise ProgrammingError(
            f"Cannot create a lake at {root}: a part of that path is a file. Give a directory."
        ) from None
    except PermissionError:
        raise OperationalError(
            f"Cannot create a lake at {root}: permission denied. Choose a writable directory."
        ) from None
    except OSError as e:
        raise OperationalError(f"Cannot create a lake at {root}: {e.strerror or e}.") from None


def _embedded_engine(layout: LakeLayout, settings: Settings, read_only: bool) -> Engine:
    """The SQLite catalog in the lake's folder (created with it unless ``read_only``)."""
    root = layout.root
    if read_only and not layout.catalog_path.is_file():
        raise NotFound(
            f"No lake at {root} (no catalog.sqlite there): check the path. Opening read-only "
            "never creates a lake."
        )
    if not read_only and root is not None:
        _make_root(root)
    return create_sqlite_engine(layout.catalog_path, settings.catalog_busy_timeout_s, read_only)


def create_catalog(
    layout: LakeLayout, settings: Settings, read_only: bool, catalog_url: str | None = None
) -> Catalog:
    """The lake's catalog; created and upgraded as needed unless ``read_only``, which writes
    nothing and requires an existing lake.

    Without ``catalog_url`` the catalog is the SQLite file in the lake's folder; with one
    (``sqlite:///...`` or ``postgresql+psycopg://...``) it is that database."""
    root = layout.root
    if root is not None and root.exists() and not root.is_dir():
        raise ProgrammingError(
            f"{root} is a file, not a lake: give the lake's directory (or a new path to "
            "create one)."
        )
    if catalog_url is None:
        engine = _embedded_engine(layout, settings, read_only)
    else:  # reached first, so that a wrong URL leaves no folder behind
        engine = open_catalog_engine(catalog_url, settings, read_only)
        if not read_only and root is not None:
            try:
                _make_root(root)
            except BaseException:
                engine.dispose()
                raise
    # a test clock (clock=) decides commit times; else the catalog database's clock does
    catalog = Catalog(engine, on_step=settings.on_step, db_clock=settings.clock is system_clock)
    if not read_only:
        try:
            with catalog_errors():
                catalog.create_all()
        except BaseException:
            engine.dispose()
            raise
    return catalog


def tenant_catalog(
    catalog: Catalog, layout: LakeLayout, tenant: str, settings: Settings, read_only: bool
) -> None:
    """Make sure ``tenant`` exists: created unless ``read_only``, when it must already."""
    with catalog_errors():
        if read_only:
            if not catalog.check_readable(tenant):
                raise NotFound(f"Tenant '{tenant}' does not exist in the lake at {layout.where}.")
        else:
            catalog.ensure_tenant(tenant, to_us(settings.clock()))


def check_clock(settings: Settings) -> None:
    """The clock must tell aware time: every commit time and AT(OFFSET) depends on it."""
    try:
        now = settings.clock()
    except Exception as e:
        raise ProgrammingError(f"The clock failed: {type(e).__name__}: {e}") from e
    if not isinstance(now, dt.datetime) or now.tzinfo is None:
        raise ProgrammingError(
            "The clock must return an aware datetime (with a time zone), e.g. "
            "datetime.now(timezone.utc)."
        )


def table_node(name: object) -> exp.Table:
    """A table name as written in the API (``db.schema.table``, parts quoted as in SQL)."""
    if not isinstance(name, str):
        raise ProgrammingError(
            f"The table name must be a string such as 'orders' or 'db.schema.orders', not "
            f"{type(name).__name__}."
        )
    if not name.strip():
        raise ProgrammingError("The table name is empty: give one such as 'orders'.")
    try:
        return exp.to_table(name, dialect="snowflake")
    except (ParseError, TokenError):
        raise ProgrammingError(
            f"Invalid table name {name!r}: give a name such as 'orders' or 'db.schema.orders' "
            "(double-quote parts with other characters)."
        ) from None


def _name(text: str, what: str) -> str:
    """A database or schema name folded as Snowflake folds identifiers (quoted keeps case)."""
    try:
        ident = exp.parse_identifier(text, dialect="snowflake")
    except ParseError:
        raise ProgrammingError(
            f"Invalid {what} name {text!r}: use an identifier, or double-quote it."
        ) from None
    return normalize_identifiers(ident, dialect="snowflake").name


def start_namespace(session: Session, database: str | None, schema: str | None) -> None:
    """Make ``database`` (default MAIN) and ``schema`` (default PUBLIC) current, as USE does."""
    cat, tenant = session.catalog, session.tenant
    with catalog_errors():
        ns = cat.namespace(tenant, cat.latest_snapshot(tenant))
    db_name = _name(database, "database") if database is not None else session.database
    db = resolve_database(ns, session, db_name)
    sc = resolve_schema(ns, session, db.name, _name(schema, "schema") if schema else "PUBLIC")
    session.database, session.schema = db.name, sc.name
