"""CHANGES: the row-level change feed between two snapshots (SEMANTICS.md section 8).

The feed reads only what changed between the two points: files added (and the rows a delete
file change un-hid), files removed (and the rows a delete file change hid). Matching the two
sides on the stable row id gives the *net* change per row: an INSERT only, a DELETE only, an
update pair (both with METADATA$ISUPDATE), or nothing when the values ended where they began.
Its cost therefore grows with the size of the change, not with the size of the table.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import replace

import sqlglot
from sqlglot import exp

from chronolake.catalog.history import compacted_inserts
from chronolake.catalog.model import DataFile, TableInfo
from chronolake.engine.scan import RID_COL
from chronolake.errors import SqlError
from chronolake.sql.binding.timetravel import resolve_point
from chronolake.sql.session import Ctx

ACTION, ISUPDATE, ROW_ID = "METADATA$ACTION", "METADATA$ISUPDATE", "METADATA$ROW_ID"


def _q(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql("duckdb")


def _union(views: list[str]) -> str:
    return " UNION ALL ".join(f"SELECT * FROM {v}" for v in views)


def changes_query(ctx: Ctx, table: TableInfo, changes: exp.Changes) -> exp.Expr:
    """The feed of ``table`` for a CHANGES clause, as a DuckDB query tree."""
    info = changes.args.get("information")
    kind = info.name.upper() if info is not None else "DEFAULT"
    if kind not in ("DEFAULT", "APPEND_ONLY"):
        raise SqlError(f"CHANGES(INFORMATION => {kind}): use DEFAULT or APPEND_ONLY.")
    start = changes.args.get("at_before")
    if start is None:
        raise SqlError("CHANGES needs a start point: CHANGES(...) AT(...) or BEFORE(...).")
    s0 = resolve_point(ctx, table, start)
    end = changes.args.get("end")
    s1 = resolve_point(ctx, table, end) if end is not None else ctx.txn.read.snapshot_id
    if s1 < s0:
        raise SqlError(f"The END of CHANGES on {table.name} is before its start point.")
    session = ctx.session
    v0, f0 = session.catalog.table_state(session.tenant, table.table_id, s0)
    v1, f1 = session.catalog.table_state(session.tenant, table.table_id, s1)
    ctx.extra.setdefault("reads", []).extend([(table.table_id, s0), (table.table_id, s1)])
    by0 = {f.file_id: f for f in f0}
    by1 = {f.file_id: f for f in f1}
    added = [f for f in f1 if f.file_id not in by0]
    key: tuple[Hashable, ...] = ("changes", table.table_id, v0, v1, table.columns)
    cols = [_q(c.name) for c in table.columns]
    views = session.views
    if kind == "APPEND_ONLY":
        inserted = [
            replace(f, delete=None) for f in added if not f.has_row_ids and f.cloned_from is None
        ]
        inserted += compacted_inserts(
            ctx.session.catalog, ctx.session.tenant, table.table_id, s0, s1
        )
        rows = views.views((*key, "append"), table.columns, inserted)[1]
        sql = (
            f"SELECT {', '.join(cols)}, 'INSERT' AS {_q(ACTION)}, false AS {_q(ISUPDATE)}, "
            f"{RID_COL} AS {_q(ROW_ID)} FROM {rows}"
        )
        return sqlglot.parse_one(sql, read="duckdb")
    removed = [f for f in f0 if f.file_id not in by1]
    shared: list[tuple[DataFile, DataFile]] = [
        (by0[f.file_id], f) for f in f1 if f.file_id in by0 and by0[f.file_id].delete != f.delete
    ]
    olds = [o for o, _ in shared]
    old_dels = [o.delete for o, _ in shared]
    new_dels = [n.delete for _, n in shared]
    ins = [
        views.views((*key, "ins"), table.columns, added)[1],
        views.position_rows((*key, "unhidden"), table.columns, olds, old_dels, new_dels),
    ]
    dels = [
        views.views((*key, "del"), table.columns, removed)[1],
        views.position_rows((*key, "hidden"), table.columns, olds, new_dels, old_dels),
    ]
    same = " AND ".join(f"i.{c} IS NOT DISTINCT FROM d.{c}" for c in cols) or "true"
    sql = (
        f"WITH ins AS ({_union(ins)}), del AS ({_union(dels)}) "
        f"SELECT {', '.join('i.' + c for c in cols)}, 'INSERT' AS {_q(ACTION)}, "
        f"d.{RID_COL} IS NOT NULL AS {_q(ISUPDATE)}, i.{RID_COL} AS {_q(ROW_ID)} "
        f"FROM ins AS i LEFT JOIN del AS d ON i.{RID_COL} = d.{RID_COL} "
        f"WHERE d.{RID_COL} IS NULL OR NOT ({same}) "
        "UNION ALL "
        f"SELECT {', '.join('d.' + c for c in cols)}, 'DELETE' AS {_q(ACTION)}, "
        f"i.{RID_COL} IS NOT NULL AS {_q(ISUPDATE)}, d.{RID_COL} AS {_q(ROW_ID)} "
        f"FROM del AS d LEFT JOIN ins AS i ON i.{RID_COL} = d.{RID_COL} "
        f"WHERE i.{RID_COL} IS NULL OR NOT ({same})"
    )
    return sqlglot.parse_one(sql, read="duckdb")
