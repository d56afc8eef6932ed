"""DML: INSERT, UPDATE, DELETE, MERGE and TRUNCATE as new files plus positional deletes.

No untouched row is ever rewritten: a DELETE writes, per data file it touches, one new delete
file (old positions plus new ones); an UPDATE also writes the new row images with their row
ids kept. The matching rows are computed once into a DuckDB temporary table, so an UPDATE or
MERGE evaluates its expressions exactly once.

A DELETE or UPDATE without FROM/USING finds its rows through a lean view of all the data files
(``engine/positions.py``), reading only the columns its WHERE and SET need, and drops the
already deleted positions from its matches before any SET expression is evaluated. Statements
with joins, and MERGE, read the target through the scan's row view.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pyarrow as pa
from sqlglot import exp

from chronolake.catalog.model import ColumnInfo, DataFile, TableInfo
from chronolake.engine.positions import all_rows_view
from chronolake.engine.scan import FILE_COL, POS_COL, RID_COL
from chronolake.engine.session import first_row
from chronolake.errors import DataError, SqlError
from chronolake.sql.binding.binder import bind, table_views, view_table
from chronolake.sql.binding.names import find_table, resolve_column, resolve_table
from chronolake.sql.session import Ctx
from chronolake.sql.statements.coerce import to_column
from chronolake.sql.statements.constant_rows import constant_rows
from chronolake.storage.delete_files import deleted_positions, merged, write_delete_file
from chronolake.storage.writer import (
    RID_PHYSICAL,
    physical_name,
    write_data_files,
    write_small_table,
)

WORK = "__cl_work"
FOUND = "__cl_found"
DELETED = "__cl_deleted"


def _default(col: ColumnInfo) -> exp.Expr:
    value = exp.null() if col.default_sql is None else exp.Literal.string(col.default_sql)
    return to_column(value, col)


def _count(table_name: str, n: int, label: str) -> pa.Table:
    return pa.table({f"number of rows {label}": pa.array([n], pa.int64())})


def append_query(ctx: Ctx, table: TableInfo, select_sql: str, op: str, row_ids: bool) -> int:
    """Write the rows of ``select_sql`` (c<id> columns [+ c_rowid]) as new files of ``table``."""
    session = ctx.session
    files = write_data_files(
        session.duck,
        session.io,
        table.table_id,
        table.columns,
        select_sql,
        row_ids,
        session.settings,
        ctx.query_id,
        session.engine_dir,
    )
    return _add_files(ctx, table, files, op)


def _add_files(ctx: Ctx, table: TableInfo, files: Sequence[DataFile], op: str) -> int:
    if not files:
        return 0
    ctx.txn.add_written([f.path for f in files])
    ctx.txn.add_files(table.table_id, tuple(files), op)
    return sum(f.row_count for f in files)


def _insert_names(table: TableInfo, columns: list[str] | None) -> list[str]:
    if columns is None:
        return [c.name for c in table.columns]
    names = [resolve_column(table, n).name for n in columns]
    if len(set(names)) != len(names):
        raise SqlError("Duplicate column name in the INSERT column list.")
    return names


def _insert_constants(
    ctx: Ctx, table: TableInfo, values: exp.Values, names: list[str]
) -> int | None:
    """INSERT ... VALUES of constants of the columns' own types, without DuckDB (see
    ``constant_rows``); None when the statement needs the general path."""
    rows = constant_rows(values, table.columns, names)
    if rows is None:
        return None
    s = ctx.session
    files = write_small_table(s.io, table.table_id, table.columns, rows, False, ctx.query_id)
    return None if files is None else _add_files(ctx, table, files, "INSERT")


def insert_select(ctx: Ctx, table: TableInfo, source: exp.Expr, columns: list[str] | None) -> int:
    """INSERT the rows of ``source`` (a bound query) into ``table``."""
    names = _insert_names(table, columns)
    src_sql = source.sql("duckdb")
    src_types = [str(t) for t in ctx.session.duck.sql(f"SELECT * FROM ({src_sql})").types]
    width = len(src_types)
    if width != len(names):
        raise SqlError(
            f"Insert value list does not match column list expecting {len(names)} but got {width}"
        )
    aliases = [f"s{i}" for i in range(width)]
    pos = {n: i for i, n in enumerate(names)}
    projections = []
    for c in table.columns:
        if c.name in pos:
            i = pos[c.name]
            value: exp.Expr = exp.column(aliases[i], "__cl_src")
            value = to_column(value, c, source_is_text=src_types[i] == "VARCHAR")
        else:
            value = _default(c)
        projections.append(value.as_(physical_name(c.column_id)).sql("duckdb"))
    sql = f"SELECT {', '.join(projections)} FROM ({src_sql}) AS __cl_src({', '.join(aliases)})"
    return append_query(ctx, table, sql, "INSERT", row_ids=False)


def insert(ctx: Ctx, node: exp.Insert) -> pa.Table:
    if node.args.get("overwrite"):
        target_node = node.this.this if isinstance(node.this, exp.Schema) else node.this
        table = resolve_table(ctx.txn.ns, ctx, target_node)
        ctx.txn.remove_all(table.table_id, "INSERT_OVERWRITE")
    target = node.this
    columns = None
    if isinstance(target, exp.Schema):
        columns = [c.name for c in target.expressions]
        target = target.this
    table = resolve_table(ctx.txn.ns, ctx, target)
    if table.view_sql is not None:
        raise SqlError(f"{table.name} is a view: DML statements change base tables only.")
    source = node.expression
    if source is None:
        raise SqlError("INSERT needs VALUES or a query.")
    n = None
    if isinstance(source, exp.Values):
        n = _insert_constants(ctx, table, source, _insert_names(table, columns))
    if n is None:
        if isinstance(source, exp.Values):
            source = exp.select("*").from_(source)
        n = insert_select(ctx, table, bind(ctx, source.copy()), columns)
    ctx.rows_inserted += n
    return _count(table.name, n, "inserted")


def _target_table(ctx: Ctx, node: exp.Expr) -> tuple[TableInfo, str]:
    """(table, alias) of a DML target, its new files given row ids."""
    tnode = node.this
    if not isinstance(tnode, exp.Table):
        raise SqlError("DML target must be a table.")
    if tnode.args.get("when") is not None:
        raise SqlError("AT/BEFORE cannot be used on the target of a DML statement.")
    table = resolve_table(ctx.txn.ns, ctx, tnode)
    if table.view_sql is not None:
        raise SqlError(f"{table.name} is a view: DML statements change base tables only.")
    ctx.txn.ensure_row_ids(table.table_id)
    return table, tnode.alias or table.name


def _target(ctx: Ctx, node: exp.Expr) -> tuple[TableInfo, str, str]:
    """(table, alias, row view) of a DML target."""
    table, alias = _target_table(ctx, node)
    _, row_view = table_views(ctx, table, None)
    return table, alias, row_view


def _find_rows(
    ctx: Ctx, table: TableInfo, alias: str, node: exp.Expr, cols: Sequence[exp.Expr]
) -> str | None:
    """Put the live rows of ``table`` matching the WHERE of ``node`` (projected to ``cols``)
    into a temporary table and name it; None when the table has no files.

    The WHERE is evaluated in one scan of all data files (reading only the columns it needs),
    and the rows already deleted are then dropped from the few matches."""
    txn, duck = ctx.txn, ctx.session.duck
    where = node.args.get("where")
    if where is not None and not _cannot_fail(where.this):
        return None  # it would also run on deleted rows: the row view applies deletes first
    view = all_rows_view(duck, ctx.session.io, table.columns, txn.table_files(table.table_id))
    if view is None:
        return None
    ctx.extra.setdefault("reads", []).append((table.table_id, txn.read.snapshot_id))
    sel = exp.select(*cols).from_(view_table(view, alias))
    if where is not None:
        sel = sel.where(where.this.copy())
    duck.execute(f"CREATE OR REPLACE TEMP TABLE {FOUND} AS {bind(ctx, sel).sql('duckdb')}")
    touched = _touched_files(ctx, table, FOUND)
    if any(f.delete is not None for f in touched):
        duck.register(DELETED, deleted_positions(ctx.session.io, touched))
        try:
            duck.execute(
                f"DELETE FROM {FOUND} USING {DELETED} "
                f"WHERE {FOUND}.{FILE_COL} = {DELETED}.f AND {FOUND}.{POS_COL} = {DELETED}.pos"
            )
        finally:
            duck.unregister(DELETED)
    return FOUND


# Expressions that cannot raise an error whatever the row: a WHERE made only of these may be
# evaluated on rows already deleted (their matches are dropped afterwards); any other WHERE
# (a division, a cast, a function) must see only live rows, as Snowflake evaluates it.
_SAFE = (
    exp.Column,
    exp.Identifier,
    exp.Literal,
    exp.Boolean,
    exp.Null,
    exp.Paren,
    exp.Star,
    exp.And,
    exp.Or,
    exp.Not,
    exp.EQ,
    exp.NEQ,
    exp.GT,
    exp.GTE,
    exp.LT,
    exp.LTE,
    exp.Is,
    exp.In,
    exp.Between,
    exp.Subquery,
    exp.Select,
    exp.From,
    exp.Table,
    exp.TableAlias,
)


def _cannot_fail(where: exp.Expr) -> bool:
    return all(isinstance(node, _SAFE) for node in where.walk())


def _touched_files(ctx: Ctx, table: TableInfo, work: str) -> list[DataFile]:
    """The files of ``table`` with rows in ``work``."""
    duck = ctx.session.duck
    touched = {
        int(fid) for (fid,) in duck.execute(f"SELECT DISTINCT {FILE_COL} FROM {work}").fetchall()
    }
    return [f for f in ctx.txn.table_files(table.table_id) if f.file_id in touched]


def _count_rows(ctx: Ctx, work: str) -> int:
    row = first_row(ctx.session.duck, f"SELECT count(*) FROM {work}")
    return int(row[0]) if row else 0


def _run_work(ctx: Ctx, select: exp.Select) -> int:
    ctx.session.duck.execute(f"CREATE OR REPLACE TEMP TABLE {WORK} AS {select.sql('duckdb')}")
    return _count_rows(ctx, WORK)


def _apply_deletes(ctx: Ctx, table: TableInfo, work: str, where_sql: str, op: str) -> None:
    """Add the positions in ``work`` (rows matching ``where_sql``) to delete files."""
    found = ctx.session.duck.sql(
        f"SELECT {FILE_COL}, {POS_COL} FROM {work} WHERE {where_sql} ORDER BY 1, 2"
    ).to_arrow_table()
    if not found.num_rows:
        return
    fids = found.column(0).to_numpy()
    pos = found.column(1).to_numpy()
    starts = np.flatnonzero(np.r_[True, fids[1:] != fids[:-1]])
    new = {int(fids[a]): pos[a:b] for a, b in zip(starts, [*starts[1:], len(fids)], strict=True)}
    files = [f for f in ctx.txn.table_files(table.table_id) if f.file_id in new]
    io = ctx.session.io
    parts = {f.file_id: merged(io, f, new[f.file_id], ctx.query_id) for f in files}
    written = write_delete_file(io, table.table_id, parts)
    ctx.txn.add_written(sorted({d.path for d in written.values()}))
    out: list[DataFile] = [replace(f, delete=written[f.file_id]) for f in files]
    ctx.txn.replace_files(table.table_id, out, op)


def _from_tables(node: exp.Expr, key: str) -> list[exp.Expr]:
    found = node.args.get(key)
    if not found:
        return []
    if isinstance(found, exp.From):
        return [found.this]
    return list(found)


def delete(ctx: Ctx, node: exp.Delete) -> pa.Table:
    table, alias = _target_table(ctx, node)
    extras = _from_tables(node, "using")
    key = [exp.column(FILE_COL, alias), exp.column(POS_COL, alias)]
    work = None if extras else _find_rows(ctx, table, alias, node, key)
    if work is None:
        _, row_view = table_views(ctx, table, None)
        sel = exp.select(*key).from_(view_table(row_view, alias)).distinct()
        for extra in extras:
            sel = sel.join(extra.copy(), join_type="CROSS")
        where = node.args.get("where")
        if where is not None:
            sel = sel.where(where.this.copy())
        _run_work(ctx, bind(ctx, sel))  # type: ignore[arg-type]
        work = WORK
    n = _count_rows(ctx, work)
    _apply_deletes(ctx, table, work, "true", "DELETE")
    ctx.rows_deleted += n
    return _count(table.name, n, "deleted")


def truncate(ctx: Ctx, node: exp.TruncateTable) -> pa.Table:
    for t in node.expressions:
        found = find_table(ctx.txn.ns, ctx, t)
        if found is None and node.args.get("exists"):
            continue
        table = found or resolve_table(ctx.txn.ns, ctx, t)
        n = sum(f.live_rows for f in ctx.txn.table_files(table.table_id))
        ctx.rows_deleted += n
        ctx.txn.remove_all(table.table_id, "TRUNCATE")
    return pa.table({"status": ["Statement executed successfully."]})


def _image_columns(table: TableInfo, values: dict[int, exp.Expr]) -> list[exp.Expr]:
    return [
        to_column(values[c.column_id], c).as_(physical_name(c.column_id)) for c in table.columns
    ]


def _used_columns(table: TableInfo, values: dict[int, exp.Expr]) -> list[str]:
    """The columns the new images of an UPDATE read (a column set to a constant is not read).

    Any name in the SET expressions that could be a column of the table counts, so the list
    may hold more than needed, never less."""
    names = {c.name.upper(): c.name for c in table.columns}
    used: set[str] = set()
    for value in values.values():
        if next(value.find_all(exp.Star), None) is not None:
            return [c.name for c in table.columns]
        for ident in value.find_all(exp.Identifier):
            found = names.get(ident.name.upper())
            if found is not None:
                used.add(found)
    return [c.name for c in table.columns if c.name in used]


def update(ctx: Ctx, node: exp.Update) -> pa.Table:
    table, alias = _target_table(ctx, node)
    values: dict[int, exp.Expr] = {
        c.column_id: exp.column(c.name, alias, quoted=True) for c in table.columns
    }
    for eq in node.expressions:
        c = resolve_column(table, eq.this.name)
        values[c.column_id] = eq.expression.copy()
    extras = _from_tables(node, "from_") or _from_tables(node, "from")
    found = None
    if not extras:
        keep = [exp.column(FILE_COL, alias), exp.column(POS_COL, alias), exp.column(RID_COL, alias)]
        keep += [exp.column(n, alias, quoted=True) for n in _used_columns(table, values)]
        found = _find_rows(ctx, table, alias, node, keep)
    if found is None:
        _, source = table_views(ctx, table, None)
    else:
        # the new images are computed from the matching live rows only
        source = found
    sel = exp.select(
        exp.column(FILE_COL, alias).as_(FILE_COL),
        exp.column(POS_COL, alias).as_(POS_COL),
        exp.column(RID_COL, alias).as_(RID_COL),
        *_image_columns(table, values),
    ).from_(view_table(source, alias))
    for extra in extras:
        sel = sel.join(extra.copy(), join_type="CROSS")
    where = node.args.get("where")
    if where is not None and found is None:
        sel = sel.where(where.this.copy())
    if extras:
        sel = sel.qualify(
            exp.EQ(
                this=exp.Window(
                    this=exp.RowNumber(),
                    partition_by=[exp.column(RID_COL, alias)],
                ),
                expression=exp.Literal.number(1),
            )
        )
    n = _run_work(ctx, bind(ctx, sel))  # type: ignore[arg-type]
    if found is not None:
        ctx.session.duck.execute(f"DROP TABLE {found}")
    if n:
        cols = ", ".join(physical_name(c.column_id) for c in table.columns)
        append_query(
            ctx, table, f"SELECT {cols}, {RID_COL} AS {RID_PHYSICAL} FROM {WORK}", "UPDATE", True
        )
        _apply_deletes(ctx, table, WORK, "true", "UPDATE")
    ctx.rows_updated += n
    return pa.table(
        {
            "number of rows updated": pa.array([n], pa.int64()),
            "number of multi-joined rows updated": pa.array([0], pa.int64()),
        }
    )


def _clause_rows(table: TableInfo, clauses: list[int], prefix: str) -> tuple[str, str]:
    """(projection, filter) picking each work row's values from the WHEN clause it matched."""
    cols = ", ".join(
        "CASE __cl_action "
        + " ".join(f"WHEN {k} THEN {prefix}{k}_{c.column_id}" for k in clauses)
        + f" END AS {physical_name(c.column_id)}"
        for c in table.columns
    )
    return cols, f"__cl_action IN ({', '.join(map(str, clauses))})"


def merge(ctx: Ctx, node: exp.Merge) -> pa.Table:
    table, alias, row_view = _target(ctx, node)
    source = node.args["using"].copy()
    on = node.args["on"].copy()
    whens = node.args.get("whens")
    clauses = list(whens.expressions) if whens is not None else []
    matched_flag = exp.column(FILE_COL, alias).is_(exp.null()).not_()
    cases = []
    projections: list[exp.Expr] = [
        exp.column(FILE_COL, alias).as_(FILE_COL),
        exp.column(POS_COL, alias).as_(POS_COL),
        exp.column(RID_COL, alias).as_(RID_COL),
    ]
    updates, deletes, inserts = [], [], []
    for k, when in enumerate(clauses, start=1):
        matched = bool(when.args.get("matched"))
        if when.args.get("source"):
            raise SqlError("WHEN NOT MATCHED BY SOURCE is not supported.")
        cond: exp.Expr = matched_flag if matched else matched_flag.copy().not_()
        if when.args.get("condition") is not None:
            cond = exp.and_(cond, exp.paren(when.args["condition"].copy()))
        cases.append((cond, exp.Literal.number(k)))
        then = when.args.get("then")
        if isinstance(then, exp.Update):
            if not matched:
                raise SqlError("UPDATE is only allowed in WHEN MATCHED.")
            values = {c.column_id: exp.column(c.name, alias, quoted=True) for c in table.columns}
            for eq in then.expressions:
                c = resolve_column(table, eq.this.name)
                values[c.column_id] = eq.expression.copy()
            for c in table.columns:
                projections.append(to_column(values[c.column_id], c).as_(f"u{k}_{c.column_id}"))
            updates.append(k)
        elif (isinstance(then, exp.Var) and then.name.upper() == "DELETE") or (
            isinstance(then, exp.Expr) and then.key == "delete"
        ):
            if not matched:
                raise SqlError("DELETE is only allowed in WHEN MATCHED.")
            deletes.append(k)
        elif isinstance(then, exp.Insert):
            if matched:
                raise SqlError("INSERT is only allowed in WHEN NOT MATCHED.")
            cols_node = then.this
            names = _insert_names(
                table,
                [c.name for c in cols_node.expressions]
                if isinstance(cols_node, (exp.Tuple, exp.Schema))
                else None,
            )
            vals_node = then.expression
            vals = list(vals_node.expressions) if isinstance(vals_node, exp.Tuple) else [vals_node]
            if len(vals) != len(names):
                raise SqlError(
                    f"Insert value list does not match column list expecting {len(names)} "
                    f"but got {len(vals)}"
                )
            given = dict(zip(names, vals, strict=True))
            for c in table.columns:
                v = given.get(c.name)
                value = to_column(v.copy(), c) if v is not None else _default(c)
                projections.append(value.as_(f"i{k}_{c.column_id}"))
            inserts.append(k)
        else:
            raise SqlError(f"Unsupported MERGE action: {when.sql('snowflake')}")
    action = exp.Case(ifs=[exp.If(this=c, true=v) for c, v in cases])
    projections.append(action.as_("__cl_action"))
    sel = (
        exp.select(*projections)
        .from_(source)
        .join(view_table(row_view, alias), on=on, join_type="LEFT")
    )
    _run_work(ctx, bind(ctx, sel))  # type: ignore[arg-type]
    duck = ctx.session.duck
    matched_actions = updates + deletes
    if matched_actions:
        dup = first_row(
            duck,
            f"SELECT 1 FROM {WORK} WHERE __cl_action IN ({', '.join(map(str, matched_actions))}) "
            f"GROUP BY {FILE_COL}, {POS_COL} HAVING count(*) > 1 LIMIT 1",
        )
        if dup:
            raise DataError(
                "Duplicate row detected during DML action: a target row matched more than one "
                "source row. Make the MERGE source unique on the join key."
            )
    counts = dict(duck.execute(f"SELECT __cl_action, count(*) FROM {WORK} GROUP BY 1").fetchall())
    n_upd = sum(int(counts.get(k, 0)) for k in updates)
    n_del = sum(int(counts.get(k, 0)) for k in deletes)
    n_ins = sum(int(counts.get(k, 0)) for k in inserts)
    if n_ins:
        cols, where = _clause_rows(table, inserts, "i")
        append_query(ctx, table, f"SELECT {cols} FROM {WORK} WHERE {where}", "MERGE", False)
    if n_upd:
        cols, where = _clause_rows(table, updates, "u")
        append_query(
            ctx,
            table,
            f"SELECT {cols}, {RID_COL} AS {RID_PHYSICAL} FROM {WORK} WHERE {where}",
            "MERGE",
            True,
        )
    if matched_actions and (n_upd or n_del):
        _apply_deletes(
            ctx, table, WORK, f"__cl_action IN ({', '.join(map(str, matched_actions))})", "MERGE"
        )
    ctx.rows_inserted += n_ins
    ctx.rows_updated += n_upd
    ctx.rows_deleted += n_del
    return pa.table(
        {
            "number of rows inserted": pa.array([n_ins], pa.int64()),
            "number of rows updated": pa.array([n_upd], pa.int64()),
            "number of rows deleted": pa.array([n_del], pa.int64()),
        }
    )
