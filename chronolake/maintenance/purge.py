"""Expiry, cleanup and orphan removal together: what ``chronolake maintain`` runs, and the
storage steps ``run_maintenance`` / ``MaintenanceTask`` accept (``purge_steps()``)."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from chronolake.maintenance.cleanup import CleanupReport, cleanup
from chronolake.maintenance.expire import ExpiryReport, expire
from chronolake.maintenance.orphans import OrphanReport, remove_orphans
from chronolake.maintenance.target import Target

if TYPE_CHECKING:
    from chronolake.maintenance.policy import Step


def purge(
    con: Target,
    dry_run: bool = False,
    cleanup_grace: float | None = None,
    orphan_grace: float | None = None,
) -> tuple[ExpiryReport, CleanupReport, OrphanReport]:
    """Expire, then clean up, then remove orphans (each a dry run when ``dry_run``).

    A dry run's cleanup sees only marks earlier expiries wrote, since the dry expiry records
    nothing."""
    return (
        expire(con, dry_run=dry_run),
        cleanup(con, grace=cleanup_grace, dry_run=dry_run),
        remove_orphans(con, grace=orphan_grace, dry_run=dry_run),
    )


def _as_step(report: Any) -> dict[str, Any]:
    out = asdict(report)
    out["bytes_reclaimed"] = report.bytes_reclaimed
    out["paths"] = list(out["paths"])
    return out


def purge_steps(
    cleanup_grace: float | None = None, orphan_grace: float | None = None
) -> dict[str, Step]:
    """The three steps in the form ``run_maintenance(con, steps=...)`` takes."""
    return {
        "expire": lambda con, dry: _as_step(expire(con, dry_run=dry)),
        "cleanup": lambda con, dry: _as_step(cleanup(con, grace=cleanup_grace, dry_run=dry)),
        "orphans": lambda con, dry: _as_step(remove_orphans(con, grace=orphan_grace, dry_run=dry)),
    }
