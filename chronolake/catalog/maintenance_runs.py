"""The maintenance-run log (``cl_maintenance_runs``): one row per run, automatic or
``chronolake maintain``, with what each step did as JSON."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import insert, select

from chronolake.catalog import schema as s
from chronolake.catalog.base import Catalog


def record_run(
    catalog: Catalog,
    tenant: str,
    *,
    run_id: str,
    started_us: int,
    seconds: float,
    dry_run: bool,
    bytes_reclaimed: int,
    summary: Mapping[str, Any],
) -> None:
    """Append one run; ``summary`` is stored as JSON (values it cannot encode as strings)."""
    row = {
        "tenant_id": tenant,
        "run_id": run_id,
        "started_time": started_us,
        "seconds": seconds,
        "dry_run": dry_run,
        "bytes_reclaimed": bytes_reclaimed,
        "summary": json.dumps(summary, default=str, sort_keys=True),
    }
    with catalog.engine.connect().execution_options(write=True) as conn, conn.begin():
        conn.execute(insert(s.maintenance_runs).values(**row))


def recent_runs(catalog: Catalog, tenant: str, limit: int) -> list[dict[str, Any]]:
    """The tenant's ``limit`` newest runs, newest first: ``run_id``, ``started_time`` (µs),
    ``seconds``, ``dry_run``, ``bytes_reclaimed`` and the decoded ``summary``."""
    t = s.maintenance_runs
    q = select(t).where(t.c.tenant_id == tenant).order_by(t.c.started_time.desc()).limit(limit)
    with catalog.engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(q)]
    for r in rows:
        r.pop("tenant_id", None)
        r["summary"] = json.loads(r["summary"])
    return rows
