"""``chronolake history``: the snapshots of a table, or of the whole tenant, with filters."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import click

import chronolake

from .options import connect, format_option, lake_options
from .output import Format, print_history, print_snapshots

# The tenant's snapshots with the user and type of the statement that committed each one
# (a transaction's is its COMMIT; its operation is that of its first change).
SNAPSHOTS_SQL = """
SELECT s.snapshot_id, s.commit_time, s.query_id, q.query_type, q.user_name, s.operation,
       s.tables_changed, s.rows_inserted, s.rows_deleted, s.bytes_added
FROM INFORMATION_SCHEMA.SNAPSHOTS s
LEFT JOIN INFORMATION_SCHEMA.QUERY_HISTORY q ON q.query_id = s.query_id
ORDER BY s.snapshot_id
"""


def _timestamp(_ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    """An ISO 8601 date or timestamp; without an offset it is UTC."""
    if value is None:
        return None
    try:
        t = dt.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO timestamp (e.g. 2024-05-01T12:00:00Z)", param=param
        ) from None
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)


@click.command()
@click.argument("table_arg", metavar="[TABLE]", required=False)
@click.option("--table", "table_opt", metavar="TABLE", help="Only the snapshots that changed it.")
@click.option(
    "--since", callback=_timestamp, help="Committed at or after this ISO timestamp (UTC if bare)."
)
@click.option(
    "--until", callback=_timestamp, help="Committed at or before this ISO timestamp (UTC if bare)."
)
@click.option("--user", help="Committed by a statement of this user.")
@click.option(
    "--type",
    "stype",
    metavar="TYPE",
    help="Statement type or operation: INSERT, UPDATE, DELETE, MERGE, COMMIT, CREATE_TABLE, ...",
)
@lake_options
@format_option
def history(
    table_arg: str | None,
    table_opt: str | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
    user: str | None,
    stype: str | None,
    lake: Path,
    tenant: str,
    fmt: Format,
) -> None:
    """Print the snapshots that changed TABLE, or without one every snapshot of the tenant.

    Any snapshot_id works in AT(VERSION => n), any query_id in AT|BEFORE(STATEMENT => 'id').

    \b
      chronolake history --lake ./lake orders
      chronolake history --lake ./lake --since 2024-05-01T00:00:00Z --type DELETE
    """
    if table_arg is not None and table_opt is not None and table_arg != table_opt:
        raise click.UsageError("give the table once: TABLE or --table")
    table = table_arg if table_arg is not None else table_opt
    if since is not None and until is not None and since > until:
        raise click.UsageError("--since is after --until")
    with connect(lake, tenant) as con:
        if table is None:
            rows = [r for r in _snapshots(con) if _keep(r, since, until, user, stype)]
            print_snapshots(rows, fmt)
            return
        entries = con.table_history(table)
        if user is not None or stype is not None:
            by_snapshot = {r["snapshot_id"]: r for r in _snapshots(con)}
        else:
            by_snapshot = {}
        kept = [
            e
            for e in entries
            if _keep({**by_snapshot.get(e["snapshot_id"], {}), **e}, since, until, user, stype)
        ]
    print_history(kept, fmt)


def _snapshots(con: chronolake.Connection) -> list[dict[str, Any]]:
    cur = con.execute(SNAPSHOTS_SQL)
    names = [str(d[0]).lower() for d in cur.description]
    rows: Sequence[Sequence[Any]] = cur.fetchall()
    return [dict(zip(names, r, strict=True)) for r in rows]


def _keep(
    row: Mapping[str, Any],
    since: dt.datetime | None,
    until: dt.datetime | None,
    user: str | None,
    stype: str | None,
) -> bool:
    t = row["commit_time"]
    if since is not None and t < since:
        return False
    if until is not None and t > until:
        return False
    if user is not None and str(row.get("user_name") or "").upper() != user.upper():
        return False
    if stype is not None:
        wanted = stype.upper().replace(" ", "_")
        kinds = {str(row.get("query_type") or "").upper(), str(row.get("operation") or "").upper()}
        if wanted not in kinds:
            return False
    return True
