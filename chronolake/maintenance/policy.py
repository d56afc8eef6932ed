"""Automatic maintenance: a policy decides what to compact; every run is recorded.

The policy's thresholds (documented in docs/configuration.md):

| field | default | meaning |
|---|---|---|
| small_file_count | 8 | compact a table once one size tier holds this many small files |
| small_file_fraction | 0.5 | a file is small below this share of the target file size |
| max_deleted_ratio | 0.2 | compact a table when a file has this share of its rows deleted |
| min_age_s | 30 | leave files changed more recently than this alone |
| interval_s | 300 | how often the background task runs |

A run compacts the tables the policy picks, then runs the storage steps other modules
register (expiry, cleanup, orphan removal) and writes one ``cl_maintenance_runs`` row: what
each step did, the bytes reclaimed and the seconds taken. ``MaintenanceTask`` repeats runs on a
background thread, for a server to host.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select

from chronolake.catalog import schema as s
from chronolake.errors import Error
from chronolake.maintenance.compaction import plan_files
from chronolake.sql.session import from_us, to_us

if TYPE_CHECKING:
    from chronolake.api.connection import Connection

# A storage step: (connection, dry_run) -> a JSON-able report with "bytes_reclaimed".
Step = Callable[["Connection", bool], dict[str, Any]]


@dataclass(frozen=True)
class MaintenancePolicy:
    small_file_count: int = 8
    small_file_fraction: float = 0.5
    max_deleted_ratio: float = 0.2
    min_age_s: float = 30.0
    interval_s: float = 300.0


@dataclass(frozen=True)
class MaintenanceRun:
    run_id: str
    dry_run: bool
    seconds: float
    bytes_reclaimed: int
    compactions: list[dict[str, Any]] = field(default_factory=list)
    steps: dict[str, Any] = field(default_factory=dict)


def tables_to_compact(con: Connection, policy: MaintenancePolicy) -> list[str]:
    """Fully qualified names of the tables the policy says to compact now."""
    session = con._session
    catalog = session.catalog
    snap = catalog.latest_snapshot(session.tenant)
    ns = catalog.namespace(session.tenant, snap)
    small = session.settings.target_file_size * policy.small_file_fraction
    out = []
    for t in ns.tables.values():
        if t.view_sql is not None:
            continue
        files = catalog.table_files(session.tenant, t.table_id, snap.snapshot_id)
        if plan_files(
            files,
            min_files=policy.small_file_count,
            small_bytes=int(small),
            max_deleted_ratio=policy.max_deleted_ratio,
        ):
            sc = ns.schemas[t.schema_id]
            db = ns.databases[sc.database_id]
            out.append(".".join(f'"{x}"' for x in (db.name, sc.name, t.name)))
    return out


def run_maintenance(
    con: Connection,
    policy: MaintenancePolicy | None = None,
    *,
    dry_run: bool = False,
    steps: dict[str, Step] | None = None,
) -> MaintenanceRun:
    """Compact what the policy picks, run the storage ``steps``, record the run.

    >>> import chronolake
    >>> from chronolake.maintenance import run_maintenance
    >>> con = chronolake.connect(lake)
    >>> _ = con.execute("CREATE TABLE t (id INT)")
    >>> run = run_maintenance(con, dry_run=True)  # a new lake: nothing to compact
    >>> run.dry_run, run.compactions
    (True, [])
    """
    from chronolake.maintenance.compaction import compact_table

    policy = policy or MaintenancePolicy()
    started = time.monotonic()
    start_us = to_us(con._session.now())
    compactions = []
    for name in tables_to_compact(con, policy):
        try:
            report = compact_table(
                con,
                name,
                min_files=policy.small_file_count,
                max_deleted_ratio=policy.max_deleted_ratio,
                min_age_s=policy.min_age_s,
                dry_run=dry_run,
            )
            compactions.append(asdict(report))
        except Error as e:  # one table failing must not stop the others
            compactions.append({"table": name, "error": str(e)})
    results: dict[str, Any] = {}
    for step_name, step in (steps or {}).items():
        try:
            results[step_name] = step(con, dry_run)
        except Error as e:
            results[step_name] = {"error": str(e), "bytes_reclaimed": 0}
    reclaimed = sum(int(r.get("bytes_reclaimed", 0)) for r in results.values())
    run = MaintenanceRun(
        run_id=uuid.uuid4().hex,
        dry_run=dry_run,
        seconds=time.monotonic() - started,
        bytes_reclaimed=reclaimed,
        compactions=compactions,
        steps=results,
    )
    session = con._session
    with session.catalog.engine.connect().execution_options(write=True) as conn, conn.begin():
        conn.execute(
            insert(s.maintenance_runs).values(
                tenant_id=session.tenant,
                run_id=run.run_id,
                started_time=start_us,
                seconds=run.seconds,
                dry_run=dry_run,
                bytes_reclaimed=reclaimed,
                summary=json.dumps(
                    {"compactions": compactions, "steps": results}, default=str, sort_keys=True
                ),
            )
        )
    return run


def maintenance_runs(con: Connection, limit: int = 50) -> list[dict[str, Any]]:
    """The tenant's recorded maintenance runs, newest first."""
    t = s.maintenance_runs
    session = con._session
    q = (
        select(t)
        .where(t.c.tenant_id == session.tenant)
        .order_by(t.c.started_time.desc())
        .limit(limit)
    )
    with session.catalog.engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(q)]
    for r in rows:
        r["started_time"] = from_us(int(r["started_time"]))
        r["summary"] = json.loads(r["summary"])
        r.pop("tenant_id", None)
    return rows


class MaintenanceTask:
    """Runs maintenance for one tenant every ``policy.interval_s`` seconds on a thread."""

    def __init__(
        self,
        path: str | Path,
        tenant: str = "default",
        policy: MaintenancePolicy | None = None,
        steps: dict[str, Step] | None = None,
    ) -> None:
        self.path, self.tenant = path, tenant
        from chronolake.maintenance.purge import purge_steps

        self.policy = policy or MaintenancePolicy()
        self.steps = steps if steps is not None else purge_steps()  # expiry, cleanup, orphans
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

    def run_once(self) -> MaintenanceRun:
        import chronolake

        with chronolake.connect(self.path, tenant=self.tenant) as con:
            run = run_maintenance(con, self.policy, steps=self.steps)
        self.runs.append(run)
        return run

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception as e:  # a background task reports, never dies
                self.errors.append(f"{type(e).__name__}: {e}")
            self._stop.wait(self.policy.interval_s)
