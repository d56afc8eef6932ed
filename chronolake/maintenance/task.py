"""``MaintenanceTask``: maintenance runs for one tenant, repeated on a background thread, for a
server to host. It runs on a ``chronolake.Lake`` of either form (embedded, or a shared
PostgreSQL catalog with S3 storage), or on an embedded lake's folder.

Maintenance never imports the API layer: the lake is used only through its ``connect``
method (``LakeLike``), and a folder becomes a lake through the opener the API registers
(``open_folders_with``; ``chronolake.api.lake`` registers ``Lake``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Protocol

from chronolake.errors import InterfaceError
from chronolake.maintenance.policy import (
    MaintenancePolicy,
    MaintenanceRun,
    Step,
    run_maintenance,
)
from chronolake.maintenance.purge import purge_steps
from chronolake.sql.session import Session


class LakeConnection(Protocol):
    """What a task needs of a connection: its session, and closing it."""

    @property
    def session(self) -> Session: ...

    def close(self) -> None: ...


class LakeLike(Protocol):
    """What a task needs of a lake (a ``chronolake.Lake``): connections on a tenant."""

    def connect(self, tenant: str = ...) -> LakeConnection: ...

    def close(self) -> None: ...


Folder = str | os.PathLike[str]
_folder_opener: Callable[[Folder], LakeLike] | None = None


def open_folders_with(opener: Callable[[Folder], LakeLike]) -> None:
    """Let tasks given a folder open it with ``opener`` (the API registers ``Lake``)."""
    global _folder_opener
    _folder_opener = opener


def _open_folder(path: Folder) -> LakeLike:
    if _folder_opener is None:  # pragma: no cover - chronolake/__init__ imports the API
        raise InterfaceError("No lake opener is registered: import chronolake first.")
    return _folder_opener(path)


class MaintenanceTask:
    """Runs maintenance for one tenant every ``policy.interval_s`` seconds on a thread.

    ``lake`` is a ``chronolake.Lake`` (either form; it stays the caller's to close) or an
    embedded lake's folder (opened for each run and closed after it). ``steps`` default to
    expiry, cleanup and orphan removal (``purge_steps()``). ``start()`` runs it every
    ``policy.interval_s`` seconds until ``stop()``; ``run_once()`` runs it now.

    >>> import chronolake
    >>> from chronolake.maintenance import MaintenanceTask
    >>> with chronolake.Lake(lake) as shared:
    ...     _ = shared.connect(tenant="acme").execute("CREATE TABLE t (id INT)")
    ...     run = MaintenanceTask(shared, tenant="acme").run_once()
    >>> run.compactions, sorted(run.steps)
    ([], ['cleanup', 'expire', 'orphans'])
    """

    def __init__(
        self,
        lake: LakeLike | Folder,
        tenant: str = "default",
        policy: MaintenancePolicy | None = None,
        steps: dict[str, Step] | None = None,
    ) -> None:
        self._source = lake
        self.tenant = tenant
        self.policy = policy or MaintenancePolicy()
        self.steps = steps if steps is not None else purge_steps()
        self.runs: list[MaintenanceRun] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name="chronolake-maintenance", daemon=True
        )

    def start(self) -> MaintenanceTask:
        self._thread.start()
        return self

    def stop(self, timeout: float | None = 30.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    @property
    def lake(self) -> LakeLike | None:
        """The lake the task was given (None: it was given a folder)."""
        return None if isinstance(self._source, str | os.PathLike) else self._source

    @property
    def path(self) -> Folder | None:
        """The folder the task was given (None: it was given a lake)."""
        return self._source if isinstance(self._source, str | os.PathLike) else None

    def run_once(self) -> MaintenanceRun:
        """One run now, on the calling thread; recorded in ``runs``."""
        source = self._source
        if isinstance(source, str | os.PathLike):
            lake = _open_folder(source)  # opened for this run alone
            try:
                run = self._run_on(lake)
            finally:
                lake.close()
        else:
            run = self._run_on(source)
        self.runs.append(run)
        return run

    def _run_on(self, lake: LakeLike) -> MaintenanceRun:
        con = lake.connect(tenant=self.tenant)
        try:
            return run_maintenance(con, self.policy, steps=self.steps)
        finally:
            con.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception as e:  # a background task reports, never dies
                self.errors.append(f"{type(e).__name__}: {e}")
            self._stop.wait(self.policy.interval_s)
