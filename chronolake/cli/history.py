"""``chronolake history``: the snapshots of a table, or of the whole tenant, with filters."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import click

import chronolake

from .options import LakeTarget, format_option, lake_options
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

# statement types and operations that commit snapshots (those seen in the lake count too)
KNOWN_TYPES = frozenset(
    {
        "INSERT",
        "INSERT_OVERWRITE",
        "UPDATE",
        "DELETE",
        "MERGE",
        "TRUNCATE",
        "TRUNCATE_TABLE",
        "COMMIT",
        "CREATE_TABLE",
        "CREATE_VIEW",
        "CREATE_SCHEMA",
        "CREATE_DATABASE",
        "DROP_TABLE",
        "DROP_VIEW",
        "DROP_SCHEMA",
        "DROP_DATABASE",
        "UNDROP_TABLE",
        "UNDROP_SCHEMA",
        "UNDROP_DATABASE",
        "ALTER_TABLE",
        "ALTER_SCHEMA",
        "ALTER_DATABASE",
        "ALTER_ACCOUNT",
        "ADD_COLUMN",
        "DROP_COLUMN",
        "RENAME_COLUMN",
        "RENAME_TABLE",
        "RESTORE",
        "RESTORE_TABLE",
        "REVERT",
        "REVERT_STATEMENT",
        "COMPACT",
    }
)


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
    lake: LakeTarget,
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
    with lake.open(read_only=True) as con:
        needed = table is None or user is not None or stype is not None
        snapshots = _snapshots(con) if needed else []
        if stype is not None:
            _check_type(stype, snapshots)
        if table is None:
            print_snapshots([r for r in snapshots if _keep(r, since, until, user, stype)], fmt)
            return
        entries = con.table_history(table)
    by_snapshot = {r["snapshot_id"]: r for r in snapshots}
    kept = [
        e
        for e in entries
        if _keep({**by_snapshot.get(e["snapshot_id"], {}), **e}, since, until, user, stype)
    ]
    print_history(kept, fmt)


def _check_type(stype: str, snapshots: Sequence[Mapping[str, Any]]) -> None:
    """Refuse a ``--type`` that no statement or operation can have (a typo finds nothing)."""
    seen = {str(r.get(k) or "").upper() for r in snapshots for k in ("query_type", "operation")}
    known = sorted((KNOWN_TYPES | seen) - {""})
    if stype.upper().replace(" ", "_") not in known:
        raise click.BadParameter(
            f"unknown statement type {stype!r}: use one of {', '.join(known)}",
            param_hint="'--type'",
        )


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
