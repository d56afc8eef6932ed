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
each step did, the bytes reclaimed and the seconds taken (``catalog/maintenance_runs.py``).
``MaintenanceTask`` (``task.py``) repeats runs on a background thread, for a server to host.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from chronolake.catalog.maintenance_runs import recent_runs, record_run
from chronolake.errors import Error
from chronolake.maintenance.compaction import compact_table, plan_files
from chronolake.maintenance.target import Target, session_of
from chronolake.sql.session import from_us, to_us
from chronolake.sql.translate import translated

# A storage step: (what run_maintenance was given, dry_run) -> a JSON-able report with
# "bytes_reclaimed".
Step = Callable[[Target, bool], dict[str, Any]]


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


def tables_to_compact(con: Target, policy: MaintenancePolicy) -> list[str]:
    """Fully qualified names of the tables the policy says to compact now."""
    session = session_of(con)
    with translated(session.root):  # catalog and file failures as chronolake errors
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
    con: Target,
    policy: MaintenancePolicy | None = None,
    *,
    dry_run: bool = False,
    steps: dict[str, Step] | None = None,
) -> MaintenanceRun:
    """Compact what the policy picks, run the storage ``steps`` (each is given ``con``, a
    connection or a session), record the run.

    >>> import chronolake
    >>> from chronolake.maintenance import run_maintenance
    >>> con = chronolake.connect(lake)
    >>> _ = con.execute("CREATE TABLE t (id INT)")
    >>> run = run_maintenance(con, dry_run=True)  # a new lake: nothing to compact
    >>> run.dry_run, run.compactions
    (True, [])
    """
    session = session_of(con)
    policy = policy or MaintenancePolicy()
    started = time.monotonic()
    start_us = to_us(session.now())
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
    with translated(session.root):  # a catalog failure as a chronolake error
        record_run(
            session.catalog,
            session.tenant,
            run_id=run.run_id,
            started_us=start_us,
            seconds=run.seconds,
            dry_run=dry_run,
            bytes_reclaimed=reclaimed,
            summary={"compactions": compactions, "steps": results},
        )
    return run


def maintenance_runs(con: Target, limit: int = 50) -> list[dict[str, Any]]:
    """The tenant's recorded maintenance runs, newest first."""
    session = session_of(con)
    with translated(session.root):  # catalog and file failures as chronolake errors
        rows = recent_runs(session.catalog, session.tenant, limit)
        for r in rows:
            r["started_time"] = from_us(int(r["started_time"]))
        return rows
