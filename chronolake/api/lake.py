"""A lake: built once per process, it owns the catalog (engine and caches), the storage and the
settings; ``lake.connect(tenant=...)`` opens a cheap session on one tenant.

Thread safety: a ``Lake`` may be shared by any number of threads, each opening its own
connections (the catalog's engine pools its database connections and its caches are locked).
A ``Connection`` and its cursors belong to one thread at a time (PEP 249 ``threadsafety = 1``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import threading
import weakref
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from chronolake.api.opening import check_clock, create_catalog, lake_address, tenant_catalog
from chronolake.catalog.backends import safe_url
from chronolake.catalog.base import Catalog
from chronolake.errors import InterfaceError, ProgrammingError
from chronolake.maintenance.task import open_folders_with
from chronolake.settings import Settings
from chronolake.sql.roles import check_role_name
from chronolake.storage.layout import check_tenant

if TYPE_CHECKING:
    from chronolake.api.connection import Connection


def _settings(settings: Settings | None, clock: Callable[[], dt.datetime] | None) -> Settings:
    base = settings or Settings()
    if settings is not None and not isinstance(settings, Settings):
        raise ProgrammingError(
            f"settings must be a chronolake.Settings, not {type(settings).__name__}."
        )
    if clock is not None:
        base = dataclasses.replace(base, clock=clock)
    check_clock(base)
    return base


def _user(user: object) -> str | None:
    if user is None:
        return None
    if not isinstance(user, str) or not user.strip():
        raise ProgrammingError(
            f"The user name must be a non-empty string such as 'alice', not {user!r}."
        )
    return user.strip()


class Lake:
    """One lake, opened once per process; connections on its tenants come from ``connect``.

    ``location`` is the lake's folder (embedded: the catalog is ``catalog.sqlite`` in it and
    the data files are below its ``data`` folder), or the URL of a catalog database
    (``postgresql+psycopg://user:password@host:port/db``, or ``sqlite:///path``), in which case
    ``storage`` says where the files live: a folder or ``s3://bucket/prefix``, with
    ``storage_options`` (``endpoint_url``, ``access_key_id``, ``secret_access_key``,
    ``region``; else the AWS_* environment variables). ``read_only=True`` writes nothing, and
    needs an existing lake.

    >>> import chronolake
    >>> with chronolake.Lake(lake) as shared:
    ...     a = shared.connect(tenant="acme")
    ...     b = shared.connect(tenant="globex", user="bob")
    ...     a.execute("CREATE TABLE t (id INT)").fetchall()
    ...     b.execute("SELECT CURRENT_USER()").fetchone()
    [('Table T successfully created.',)]
    ('bob',)
    """

    def __init__(
        self,
        location: str | os.PathLike[str],
        storage: str | os.PathLike[str] | None = None,
        *,
        storage_options: Mapping[str, Any] | None = None,
        settings: Settings | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        read_only: bool = False,
    ) -> None:
        self.settings = _settings(settings, clock)
        self.read_only = bool(read_only)
        self.layout, url = lake_address(
            location, storage, storage_options, self.settings.s3_read_cache_bytes
        )
        self.catalog_url = url
        self.catalog: Catalog = create_catalog(self.layout, self.settings, self.read_only, url)
        self._lock = threading.Lock()
        self._closed = False
        self._tenants: set[str] = set()  # tenants known to exist (checked or created once)
        self._connections: weakref.WeakSet[Connection] = weakref.WeakSet()

    @property
    def location(self) -> str:
        """Where the lake is: its folder, or its catalog URL (password hidden) and storage."""
        if self.catalog_url is None:
            return str(self.layout.root)
        return f"{safe_url(self.catalog_url)} + {self.layout.where}"

    @property
    def closed(self) -> bool:
        return self._closed

    def connect(
        self,
        tenant: str = "default",
        *,
        user: str | None = None,
        autocommit: bool = True,
        database: str | None = None,
        schema: str | None = None,
        role: str | None = None,
    ) -> Connection:
        """A new connection on ``tenant`` (created on first use unless the lake is read-only),
        as ``user`` (default: the settings' user), starting in ``database``.``schema``
        (default MAIN.PUBLIC). ``role`` ('reader', 'writer' or 'admin') limits what it may
        run, as a server token's role does; None allows everything.

        >>> import chronolake
        >>> shared = chronolake.Lake(lake)
        >>> con = shared.connect(tenant="acme", user="alice", schema="PUBLIC")
        >>> con.execute("SELECT CURRENT_USER(), CURRENT_SCHEMA()").fetchone()
        ('alice', 'PUBLIC')
        >>> shared.close()
        """
        from chronolake.api.connection import Connection

        self._check_open()
        check_tenant(tenant)
        role = check_role_name(role)
        settings = self.settings
        name = _user(user)
        if name is not None:
            settings = dataclasses.replace(settings, user=name)
        self._ensure_tenant(tenant)
        con = Connection._open(
            self, tenant, settings, autocommit=autocommit, database=database, schema=schema
        )
        con.session.role = role
        with self._lock:
            self._connections.add(con)
        return con

    def _ensure_tenant(self, tenant: str) -> None:
        with self._lock:
            if tenant in self._tenants:
                return
        tenant_catalog(self.catalog, self.layout, tenant, self.settings, self.read_only)
        with self._lock:
            self._tenants.add(tenant)

    def _check_open(self) -> None:
        if self._closed:
            raise InterfaceError("The lake is closed: open it again with chronolake.Lake(...).")

    def close(self) -> None:
        """Close every connection still open on this lake (rolling back their open
        transactions), then release the catalog."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            open_ = list(self._connections)
        for con in open_:
            con.close()
        self.catalog.engine.dispose()

    def __enter__(self) -> Lake:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("read-only" if self.read_only else "open")
        return f"<chronolake.Lake {self.location!r} {state}>"

    def __reduce__(self) -> Any:
        raise TypeError("A Lake cannot be pickled: open it again in the other process.")


open_folders_with(Lake)  # a MaintenanceTask given a folder opens it as a Lake
