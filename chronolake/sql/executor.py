"""Running one statement: parse, check, substitute, dispatch, commit, and log it.

Every statement gets a query id and a row in the statement log (query history and audit
trail), whether it succeeded or not. Autocommitted writes are committed with their log row
in the same catalog transaction, and retried on a conflict (re-read, re-run, re-commit).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from sqlglot import exp

from chronolake.catalog.commit import commit as catalog_commit
from chronolake.catalog.errors import is_duplicate_key
from chronolake.engine.session import first_row
from chronolake.errors import (
    ConflictError,
    Error,
    InternalError,
    NotSupportedError,
    ReadOnlyError,
    SqlError,
)
from chronolake.sql.binding.access import access_rows, read_rows
from chronolake.sql.binding.binder import bind
from chronolake.sql.binding.dynamic_names import resolve_dynamic_names
from chronolake.sql.binding.output_names import rename_result, result_names
from chronolake.sql.binding.sandbox import check, refuse_engine_statement
from chronolake.sql.binding.substitute import substitute as _substitute
from chronolake.sql.grammar.literals import to_literal
from chronolake.sql.grammar.parse import AlterParameters, Restore, Revert, Unset, parse_statement
from chronolake.sql.roles import check_role
from chronolake.sql.session import Ctx, Session, to_us
from chronolake.sql.statements import ddl, dml, restore, temp_undo, temporary
from chronolake.sql.statements.parameters import (
    STATEMENT_TIMEOUT,
    alter_parameters,
    statement_timeout,
    timeout_seconds,
)
from chronolake.sql.statements.show import show
from chronolake.sql.statements.undrop import undrop
from chronolake.sql.translate import to_error


@dataclass
class Result:
    table: pa.Table | None
    rowcount: int
    query_id: str


_READS = (exp.Select, exp.Union, exp.Intersect, exp.Except)


def _query_type(tree: exp.Expr) -> str:
    if isinstance(tree, _READS):
        return "SELECT"
    if isinstance(tree, exp.Create):
        return f"CREATE_{str(tree.args.get('kind') or '').upper()}".rstrip("_")
    if isinstance(tree, exp.Drop):
        return f"DROP_{str(tree.args.get('kind') or '').upper()}".rstrip("_")
    if isinstance(tree, exp.Undrop):
        return f"UNDROP_{str(tree.args.get('kind') or '').upper()}".rstrip("_")
    if isinstance(tree, exp.Show):
        return "SHOW"
    if isinstance(tree, AlterParameters):
        return f"ALTER_{str(tree.args.get('kind') or '').upper()}"
    names = {
        exp.Insert: "INSERT",
        exp.Update: "UPDATE",
        exp.Delete: "DELETE",
        exp.Merge: "MERGE",
        exp.TruncateTable: "TRUNCATE_TABLE",
        exp.Alter: "ALTER_TABLE",
        exp.Use: "USE",
        exp.Transaction: "BEGIN_TRANSACTION",
        exp.Commit: "COMMIT",
        exp.Rollback: "ROLLBACK",
        exp.Set: "SET",
        Unset: "UNSET",
        Restore: "RESTORE_TABLE",
        Revert: "REVERT_STATEMENT",
        exp.Describe: "DESCRIBE",
    }
    for cls, name in names.items():
        if isinstance(tree, cls):
            return name
    return "UNKNOWN"


class Executor:
    def __init__(self, session: Session) -> None:
        self.s = session
        self._running: Ctx | None = None  # the statement being run (its reads, if it fails)
        self._unlogged: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []

    # -- entry ----------------------------------------------------------------------------

    def execute(self, text: str, params: Sequence[Any] | None = None) -> Result:
        return self._execute(text, lambda tree, start: _substitute(self.s, tree, params, start))

    def execute_many(self, text: str, rows: Sequence[Sequence[Any]]) -> Result | None:
        """One statement for many parameter rows: INSERT ... VALUES (?, ...) becomes one
        multi-row INSERT (one snapshot, as the Snowflake connector's bulk binding)."""
        if not rows:
            return None

        def bind_rows(tree: exp.Expr, start: Any) -> exp.Expr:
            values = tree.expression if isinstance(tree, exp.Insert) else None
            if not isinstance(values, exp.Values) or len(values.expressions) != 1:
                raise NotSupportedError(
                    "executemany() takes INSERT ... VALUES (?, ...) with one row of placeholders."
                )
            template = values.expressions[0]
            tuples = [_substitute(self.s, template.copy(), list(r), start) for r in rows]
            values.set("expressions", tuples)
            return _substitute(self.s, tree, [], start)

        return self._execute(text, bind_rows)

    def _execute(self, text: str, substitute: Callable[[exp.Expr, Any], exp.Expr]) -> Result:
        s = self.s
        self.flush_unlogged()
        start = s.now()
        query_id = str(uuid.uuid4())
        qtype = "UNKNOWN"
        ctx: Ctx | None = None
        try:
            refuse_engine_statement(text)
            tree = parse_statement(text)
            qtype = _query_type(tree)
            tree = resolve_dynamic_names(s, tree)
            check(tree, text)
            tree = substitute(tree, start)

            def fresh() -> exp.Expr:  # the statement's tree again, for a re-run (cached parse)
                return substitute(parse_statement(text), start)

            result, ctx = self._dispatch(tree, text, start, query_id, qtype, fresh)
        except Error as e:
            s.guard.finish()
            stopped = s.guard.stopped()
            self._log_failure(text, start, query_id, qtype, stopped or e, ctx)
            if stopped is not None:
                raise stopped from None
            raise
        except Exception as e:  # below chronolake: every failure still gets its history row
            s.guard.finish()
            err = s.guard.stopped() or to_error(e, s.root)
            self._log_failure(text, start, query_id, qtype, err, ctx)
            raise err from (e if isinstance(err, InternalError) else None)
        finally:
            s.guard.finish()
            s.query_ids.append(query_id)
            s.drop_statement_objects()
        return result

    # -- dispatch -------------------------------------------------------------------------

    def _dispatch(
        self,
        tree: exp.Expr,
        text: str,
        start: Any,
        query_id: str,
        qtype: str,
        fresh: Callable[[], exp.Expr],
    ) -> tuple[Result, Ctx]:
        s = self.s
        if isinstance(tree, exp.Transaction):
            return self._begin(text, start, query_id, qtype)
        if isinstance(tree, exp.Commit):
            return self._commit(text, start, query_id, qtype)
        if isinstance(tree, exp.Rollback):
            return self._rollback(text, start, query_id, qtype)
        handler = self._handler(tree)
        writes = not isinstance(
            tree, (*_READS, exp.Set, Unset, exp.Use, exp.Describe, exp.Show)
        ) and not (isinstance(tree, exp.Alter) and str(tree.args.get("kind")).upper() == "SESSION")
        check_role(s.role, tree, writes, qtype)
        if writes and s.read_only:
            raise ReadOnlyError(
                f"This connection is read-only: {qtype.replace('_', ' ')} is not allowed. "
                "Connect without read_only=True to change the lake."
            )
        if s.txn is None and not s.autocommit and writes:
            s.txn = s.begin(explicit=True)  # implicit transaction when autocommit is off
        if s.txn is not None:
            ctx = self._running = Ctx(s, s.txn, start, query_id, qtype)
            sp = s.txn.savepoint()
            self._guard(s.txn.ns.settings)
            try:
                table = handler(ctx, tree)
                s.guard.commit_point()
            except BaseException:
                s.guard.finish()
                s.txn.restore(sp, s.io)
                raise
            self._log(ctx, text, table, s.txn.txn_id, access_rows(ctx, sp.ns, sp.deltas, sp.ops))
            return self._result(table, ctx, query_id), ctx
        attempts = max(0, s.settings.autocommit_retries) + 1
        for attempt in range(attempts):
            txn = s.begin(explicit=False)
            ctx = self._running = Ctx(s, txn, start, query_id, qtype)
            if attempt == 0:
                self._guard(txn.ns.settings)
            else:
                s.guard.resume()
            try:
                # a handler changes its tree: a re-run after a conflict gets a fresh one
                table = handler(ctx, tree if attempt == 0 else fresh())
                access = access_rows(ctx, txn.base_ns, {}, {})
                s.guard.commit_point()  # a deadline or cancel() never cuts the commit
                if not txn.changed:
                    self._log(ctx, text, table, None, access)
                    return self._result(table, ctx, query_id), ctx
                req = txn.commit_request(query_id, to_us(s.now()))
                req.statements.append(self._log_row(ctx, text, table, txn.txn_id, "SUCCESS", None))
                req.access = access
                catalog_commit(s.catalog, s.tenant, req)
                return self._result(table, ctx, query_id), ctx
            except ConflictError:
                txn.discard_files(s.io)
                if attempt + 1 >= attempts:
                    raise
            except BaseException:
                s.guard.finish()
                txn.discard_files(s.io)
                raise
        raise InternalError("unreachable")  # pragma: no cover

    def _guard(self, account: dict[str, str]) -> None:
        """The statement becomes stoppable: by its timeout, or by Connection.cancel()."""
        s = self.s
        s.guard.start(statement_timeout(s, account))
        if s.settings.on_step is not None:
            s.settings.on_step("statement.run")

    def _handler(self, tree: exp.Expr) -> Callable[[Ctx, Any], pa.Table | None]:
        on_temporary = temporary.handler(self.s, tree)
        if on_temporary is not None:
            return on_temporary
        if isinstance(tree, _READS):
            return self._select
        if isinstance(tree, exp.Insert):
            return dml.insert
        if isinstance(tree, exp.Update):
            return dml.update
        if isinstance(tree, exp.Delete):
            return dml.delete
        if isinstance(tree, exp.Merge):
            return dml.merge
        if isinstance(tree, exp.TruncateTable):
            return dml.truncate
        if isinstance(tree, exp.Create):
            return self._create
        if isinstance(tree, exp.Drop):
            return ddl.drop
        if isinstance(tree, exp.Undrop):
            return undrop
        if isinstance(tree, exp.Show):
            return show
        if isinstance(tree, exp.Alter) and str(tree.args.get("kind")).upper() == "SESSION":
            return self._alter_session
        if isinstance(tree, exp.Alter):
            return ddl.alter_table
        if isinstance(tree, exp.Use):
            return ddl.use
        if isinstance(tree, exp.Describe):
            return ddl.describe
        if isinstance(tree, exp.Set):
            return self._set
        if isinstance(tree, Unset):
            return self._unset
        if isinstance(tree, Restore):
            return restore.restore
        if isinstance(tree, Revert):
            return restore.revert
        if isinstance(tree, AlterParameters):
            return alter_parameters
        raise NotSupportedError(f"This statement is not supported: {tree.sql('snowflake')[:80]}")

    # -- handlers -------------------------------------------------------------------------

    def _select(self, ctx: Ctx, tree: exp.Expr) -> pa.Table:
        # one table reference: no join is planned on its row estimate (scan.py, deletes)
        ctx.extra["solo"] = sum(1 for _ in tree.find_all(exp.Table)) == 1
        bound = bind(ctx, tree)
        names = result_names(bound)  # before the generator, which may change the tree
        # the bound tree is used once: the generator may change it rather than copy it first
        table = ctx.session.duck.sql(bound.sql("duckdb", copy=False)).to_arrow_table()
        return rename_result(table, names)

    def _create(self, ctx: Ctx, tree: exp.Create) -> pa.Table:
        kind = str(tree.args.get("kind") or "").upper()
        if kind == "DATABASE":
            return ddl.create_database(ctx, tree)
        if kind == "SCHEMA":
            return ddl.create_schema(ctx, tree)
        if kind == "TABLE":
            table, status = ddl.create_table(ctx, tree)
            if table is not None and tree.expression is not None:
                n = dml.insert_select(ctx, table, ctx.extra["ctas_query"], None)
                ctx.rows_inserted += n
            return status
        if kind == "VIEW":
            return ddl.create_view(ctx, tree)
        raise NotSupportedError(f"CREATE {kind} is not supported.")

    def _set(self, ctx: Ctx, tree: exp.Set) -> pa.Table:
        for item in tree.expressions:
            eq = item.this
            if not isinstance(eq, exp.EQ):
                raise SqlError("SET expects name = value.")
            names = eq.this.expressions if isinstance(eq.this, exp.Tuple) else [eq.this]
            values = (
                eq.expression.expressions
                if isinstance(eq.expression, exp.Tuple)
                else [eq.expression]
            )
            if len(names) != len(values):
                raise SqlError("SET: the number of names and values differ.")
            for name_node, value in zip(names, values, strict=True):
                bound = bind(ctx, exp.select(value.copy()))
                row = first_row(ctx.session.duck, bound.sql("duckdb"))
                ctx.session.variables[name_node.name.upper()] = to_literal(row[0] if row else None)
        return ddl.status("Statement executed successfully.")

    def _alter_session(self, ctx: Ctx, tree: exp.Alter) -> pa.Table:
        for action in tree.args.get("actions") or []:
            unset = bool(action.args.get("unset"))
            for item in action.expressions:
                target = item.this if isinstance(item, exp.SetItem) else item
                if isinstance(target, exp.EQ):
                    name, value = target.this.name.upper(), target.expression
                else:
                    name, value = target.name.upper(), None
                if name == "TIMEZONE":
                    zone = "UTC" if unset or value is None else value.name
                    ctx.session.set_timezone(zone)
                elif name == STATEMENT_TIMEOUT and not unset and value is not None:
                    ctx.session.parameters[name] = str(timeout_seconds(value))
                elif unset:
                    ctx.session.parameters.pop(name, None)
                else:
                    ctx.session.parameters[name] = None if value is None else value.name
        return ddl.status("Statement executed successfully.")

    def _unset(self, ctx: Ctx, tree: Unset) -> pa.Table:
        for ident in tree.expressions:
            ctx.session.variables.pop(ident.name.upper(), None)
        return ddl.status("Statement executed successfully.")

    # -- transactions ---------------------------------------------------------------------

    def _begin(self, text: str, start: Any, query_id: str, qtype: str) -> tuple[Result, Ctx]:
        s = self.s
        if s.txn is None:
            s.txn = s.begin(explicit=True)
        ctx = Ctx(s, s.txn, start, query_id, qtype)
        table = ddl.status("Statement executed successfully.")
        self._log(ctx, text, table, txn_id=None)
        return self._result(table, ctx, query_id), ctx

    def _commit(self, text: str, start: Any, query_id: str, qtype: str) -> tuple[Result, Ctx]:
        s = self.s
        txn = s.txn
        ctx = Ctx(s, txn or s.begin(explicit=False), start, query_id, qtype)
        table = ddl.status("Statement executed successfully.")
        if txn is None or not txn.changed:
            s.txn = None
            temp_undo.end_transaction(s, committed=True)
            self._log(ctx, text, table, txn_id=txn.txn_id if txn else None)
            return self._result(table, ctx, query_id), ctx
        s.txn = None
        req = txn.commit_request(query_id, to_us(s.now()))
        req.statements.append(self._log_row(ctx, text, table, txn.txn_id, "SUCCESS", None))
        try:
            catalog_commit(s.catalog, s.tenant, req)
        except BaseException:
            txn.discard_files(s.io)
            temp_undo.end_transaction(s, committed=False)
            raise
        temp_undo.end_transaction(s, committed=True)
        return self._result(table, ctx, query_id), ctx

    def _rollback(self, text: str, start: Any, query_id: str, qtype: str) -> tuple[Result, Ctx]:
        s = self.s
        txn = s.txn
        s.txn = None
        if txn is not None:
            txn.discard_files(s.io)
        temp_undo.end_transaction(s, committed=False)
        ctx = Ctx(s, txn or s.begin(explicit=False), start, query_id, qtype)
        table = ddl.status("Statement executed successfully.")
        self._log(ctx, text, table, txn_id=txn.txn_id if txn else None)
        return self._result(table, ctx, query_id), ctx

    # -- results and logging --------------------------------------------------------------

    @staticmethod
    def _result(table: pa.Table | None, ctx: Ctx, query_id: str) -> Result:
        if ctx.query_type in ("SELECT", "SHOW") or table is None:
            rowcount = table.num_rows if table is not None else -1
        else:
            rowcount = ctx.rows_inserted + ctx.rows_updated + ctx.rows_deleted
            if ctx.query_type not in ("INSERT", "UPDATE", "DELETE", "MERGE", "TRUNCATE_TABLE"):
                rowcount = ctx.rows_inserted if "ctas_query" in ctx.extra else -1
        return Result(table, rowcount, query_id)

    def _log_row(
        self,
        ctx: Ctx,
        text: str,
        table: pa.Table | None,
        txn_id: str | None,
        status: str,
        error: str | None,
    ) -> dict[str, Any]:
        s = self.s
        end = s.now()
        return {
            "tenant_id": s.tenant,
            "query_id": ctx.query_id,
            "session_id": s.session_id,
            "user_name": s.settings.user,
            "query_text": text,
            "query_type": ctx.query_type,
            "database_name": s.database,
            "schema_name": s.schema,
            "start_time": to_us(ctx.start),
            "end_time": max(to_us(end), to_us(ctx.start)),
            "execution_status": status,
            "error_message": error,
            "txn_id": txn_id,
            "read_snapshot": ctx.txn.read.snapshot_id,
            "produced_snapshot": None,
            "visible_snapshot": ctx.txn.read.snapshot_id,
            "rows_produced": table.num_rows
            if table is not None and ctx.query_type in ("SELECT", "SHOW")
            else 0,
            "rows_inserted": ctx.rows_inserted,
            "rows_updated": ctx.rows_updated,
            "rows_deleted": ctx.rows_deleted,
        }

    def _log(
        self,
        ctx: Ctx,
        text: str,
        table: pa.Table | None,
        txn_id: str | None,
        access: list[dict[str, Any]] | None = None,
    ) -> None:
        if self.s.read_only:  # a read-only connection writes nothing, not even history
            return
        row = self._log_row(ctx, text, table, txn_id, "SUCCESS", None)
        self.s.catalog.insert_statements([row], access or ())

    def _log_failure(
        self, text: str, start: Any, query_id: str, qtype: str, err: Error, ctx: Ctx | None
    ) -> None:
        s = self.s
        if s.read_only:
            return
        txn_id = s.txn.txn_id if s.txn is not None else None
        running = self._running
        # a failed statement changed nothing: only what it read is recorded
        reads = read_rows(running) if running is not None and running.query_id == query_id else []
        try:
            if ctx is None:
                ctx = Ctx(s, s.txn or s.begin(explicit=False), start, query_id, qtype)
            row = self._log_row(ctx, text, None, txn_id, "FAILED_WITH_ERROR", str(err))
        except Exception:  # the catalog cannot even be read: there is no snapshot to log against
            return
        self._unlogged.append((row, reads))
        self.flush_unlogged()

    def flush_unlogged(self) -> None:
        """Write the history rows of failed statements that the catalog could not take when
        they failed (locked, say); kept for the next statement or close() otherwise."""
        if not self._unlogged:
            return
        rows = [r for r, _ in self._unlogged]
        reads = [a for _, access in self._unlogged for a in access]
        try:
            self.s.catalog.insert_statements(rows, reads)
        except Exception as e:
            if not is_duplicate_key(e):  # a duplicate never goes in: drop rather than retry
                return
        self._unlogged.clear()
