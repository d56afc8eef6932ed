"""PEP 249 connection to an embedded lake (SQLite catalog + local Parquet)."""

from __future__ import annotations

import datetime as dt
import weakref
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from chronolake.api.opening import start_namespace, table_node
from chronolake.api.points import clause, parse_point
from chronolake.engine.errors import arrow_error
from chronolake.errors import InterfaceError, NotFound, ProgrammingError
from chronolake.settings import Settings
from chronolake.sql.binding.names import resolve_table
from chronolake.sql.executor import Executor
from chronolake.sql.session import Session, to_us
from chronolake.sql.translate import translated
from chronolake.storage.layout import check_tenant

if TYPE_CHECKING:
    from chronolake.api.lake import Lake


def _as_arrow(obj: Any) -> pa.Table:
    if isinstance(obj, pa.Table):
        return obj
    mod = type(obj).__module__.split(".")[0]
    try:
        if isinstance(obj, pa.RecordBatch):
            return pa.Table.from_batches([obj])
        if mod == "pandas":
            return pa.Table.from_pandas(obj, preserve_index=False)
        if mod == "polars":
            return obj.to_arrow()
    except pa.ArrowException as e:
        raise arrow_error(e) from None
    raise ProgrammingError(
        f"Cannot register an object of type {type(obj).__name__}: pass a pyarrow Table, "
        "a pandas DataFrame or a polars DataFrame."
    )


class Connection:
    """A session on one tenant of a lake (in the examples, ``lake`` is an empty directory).

    >>> import chronolake
    >>> with chronolake.connect(lake) as con:
    ...     con.execute("CREATE TABLE t (id INT)").fetchall()
    ...     con.execute("SELECT count(*) FROM t").fetchone()
    [('Table T successfully created.',)]
    (0,)
    """

    def __init__(
        self,
        path: str | Path,
        storage: str | Path | None = None,
        *,
        tenant: str = "default",
        autocommit: bool = True,
        clock: Callable[[], dt.datetime] | None = None,
        settings: Settings | None = None,
        read_only: bool = False,
        database: str | None = None,
        schema: str | None = None,
        storage_options: Mapping[str, Any] | None = None,
    ) -> None:
        from chronolake.api.lake import Lake

        check_tenant(tenant)
        lake = Lake(
            path,
            storage,
            storage_options=storage_options,
            settings=settings,
            clock=clock,
            read_only=read_only,
        )
        try:
            lake._ensure_tenant(tenant)
            self._start(lake, tenant, lake.settings, autocommit, database, schema)
        except BaseException:
            lake.close()
            raise
        self._own_lake: Lake | None = lake  # opened for this connection alone: closed with it
        # a connection dropped without close() still hands its catalog connections back
        weakref.finalize(self, lake.catalog.engine.dispose)

    @classmethod
    def _open(
        cls,
        lake: Lake,
        tenant: str,
        settings: Settings,
        *,
        autocommit: bool,
        database: str | None,
        schema: str | None,
    ) -> Connection:
        """A connection on a shared ``lake`` (``Lake.connect``)."""
        con = cls.__new__(cls)
        con._start(lake, tenant, settings, autocommit, database, schema)
        con._own_lake = None
        return con

    def _start(
        self,
        lake: Lake,
        tenant: str,
        settings: Settings,
        autocommit: bool,
        database: str | None,
        schema: str | None,
    ) -> None:
        with translated(lake.layout.root):  # e.g. the data directory cannot be created
            session = Session(
                lake.layout, lake.catalog, tenant, settings, autocommit, lake.read_only
            )
        try:
            if database is not None or schema is not None:
                start_namespace(session, database, schema)
        except BaseException:
            session.close()
            raise
        self._session = session
        self._executor = Executor(session)
        self._closed = False

    @property
    def tenant(self) -> str:
        return self._session.tenant

    @property
    def session(self) -> Session:
        """The connection's session: its tenant, catalog, file IO, clock and transaction (what
        ``chronolake.maintenance`` works on). An open connection only."""
        self._check()
        return self._session

    @property
    def read_only(self) -> bool:
        """True when opened with ``read_only=True``: nothing is ever written to the lake."""
        return self._session.read_only

    @property
    def in_transaction(self) -> bool:
        """True while a transaction (BEGIN, or a write with autocommit off) is open."""
        return not self._closed and self._session.txn is not None

    @property
    def autocommit(self) -> bool:
        return self._session.autocommit

    @autocommit.setter
    def autocommit(self, value: bool) -> None:
        self._session.autocommit = bool(value)

    def _check(self) -> None:
        if self._closed:
            raise InterfaceError("Connection is closed.")

    def cursor(self) -> Any:
        """A new ``Cursor`` on this connection.

        >>> import chronolake
        >>> cur = chronolake.connect(lake).cursor()
        >>> cur.execute("SELECT 'hello'").fetchone()
        ('hello',)
        """
        from chronolake.api.cursor import Cursor

        self._check()
        return Cursor(self)

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        """Run one statement (``?`` placeholders take ``params``) on a new cursor; returns it.

        >>> import chronolake
        >>> con = chronolake.connect(lake)
        >>> con.execute("SELECT ? + 1 AS n", [41]).fetchall()
        [(42,)]
        """
        return self.cursor().execute(sql, params)

    def commit(self) -> None:
        """Commit the open transaction (``autocommit=False`` or after ``BEGIN``), if any.

        >>> import chronolake
        >>> con = chronolake.connect(lake, autocommit=False)
        >>> _ = con.execute("CREATE TABLE t (id INT)")
        >>> _ = con.execute("INSERT INTO t VALUES (1)")
        >>> con.commit()
        >>> chronolake.connect(lake).execute("SELECT id FROM t").fetchall()
        [(1,)]
        """
        self._check()
        if self._session.txn is not None:
            self._executor.execute("COMMIT")

    def rollback(self) -> None:
        """Discard the open transaction, if any: nothing of it was ever visible to others.

        >>> import chronolake
        >>> con = chronolake.connect(lake)
        >>> _ = con.execute("CREATE TABLE t (id INT)")
        >>> _ = con.execute("BEGIN")
        >>> _ = con.execute("INSERT INTO t VALUES (1)")
        >>> con.rollback()
        >>> con.execute("SELECT count(*) FROM t").fetchone()
        (0,)
        """
        self._check()
        if self._session.txn is not None:
            self._executor.execute("ROLLBACK")

    def cancel(self) -> bool:
        """Stop the statement this connection is running, from another thread: it fails with
        ``StatementCanceled`` and changes nothing. Returns False (and does nothing) when no
        statement is running or it is already committing. Safe to call at any time.

        >>> import chronolake
        >>> chronolake.connect(lake).cancel()
        False
        """
        if self._closed:
            return False
        return self._session.guard.cancel()

    def register(self, name: str, obj: Any) -> None:
        """Make an Arrow table or a pandas/polars DataFrame readable as ``name`` (never stored).

        >>> import chronolake, pyarrow as pa
        >>> con = chronolake.connect(lake)
        >>> con.register("prices", pa.table({"sku": ["a", "b"], "price": [3, 5]}))
        >>> con.execute("SELECT price FROM prices WHERE sku = 'b'").fetchone()
        (5,)
        """
        self._check()
        table = _as_arrow(obj)
        key = name.upper() if name == name.lower() or name == name.upper() else name
        internal = f"__cl_reg_{len(self._session.registered)}_{abs(hash(key)) % 10**8}"
        old = self._session.registered.get(key)
        if old:
            self._session.unregister(old)
        self._session.register(internal, table)
        self._session.registered[key] = internal

    def unregister(self, name: str) -> None:
        """Forget an object ``register`` made readable; ``NotFound`` if there is none."""
        key = name.upper() if name == name.lower() or name == name.upper() else name
        internal = self._session.registered.pop(key, None)
        if internal is None:
            raise NotFound(f"Nothing is registered as '{name}'.")
        self._session.unregister(internal)

    def table_history(self, name: str) -> list[dict[str, Any]]:
        """Snapshots that changed a table: id, commit time, query id, operation, rows.

        >>> import chronolake
        >>> con = chronolake.connect(lake)
        >>> _ = con.execute("CREATE TABLE t (id INT)")
        >>> _ = con.execute("INSERT INTO t VALUES (1), (2)")
        >>> [(h["snapshot_id"], h["operation"], h["rows_added"]) for h in con.table_history("t")]
        [(1, 'CREATE_TABLE', 0), (2, 'INSERT', 2)]
        """
        self._check()

        from chronolake.sql.grammar.parse import DIALECT
        from chronolake.sql.session import from_us

        s = self._session
        node = table_node(name)
        from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

        node = normalize_identifiers(node, dialect=DIALECT)
        with translated(s.root):
            ns = s.catalog.namespace(s.tenant, s.catalog.latest_snapshot(s.tenant))
            table = resolve_table(ns, s, node)
            rows = s.catalog.table_history(s.tenant, table.table_id)
        for r in rows:
            r["commit_time"] = from_us(int(r["commit_time"]))
        return rows

    def restore_table(self, name: str, point: str) -> Any:
        """Restore a table's data to a point (``'version:3'``, ``'before-statement:<id>'``,
        ...) as a new snapshot: metadata only, history kept, itself undoable.

        >>> import chronolake
        >>> con = chronolake.connect(lake)
        >>> _ = con.execute("CREATE TABLE t (id INT)")
        >>> _ = con.execute("INSERT INTO t VALUES (1), (2)")
        >>> _ = con.execute("DELETE FROM t")
        >>> con.restore_table("t", "version:2").fetchall()
        [('Table T restored to snapshot 2: 2 rows.', 2)]
        >>> con.execute("SELECT id FROM t ORDER BY id").fetchall()
        [(1,), (2,)]
        """
        p = parse_point(point)
        return self.execute(f"RESTORE TABLE {_table_sql(name)} TO {clause(p)}", [p[2]])

    def revert_statement(self, query_id: str) -> Any:
        """Undo exactly the row changes of one statement, as a new snapshot.

        >>> import chronolake
        >>> con = chronolake.connect(lake)
        >>> _ = con.execute("CREATE TABLE t (id INT, v VARCHAR)")
        >>> _ = con.execute("INSERT INTO t VALUES (1, 'a'), (2, 'b')")
        >>> oops = con.execute("UPDATE t SET v = 'z'").sfqid
        >>> _ = con.revert_statement(oops)
        >>> con.execute("SELECT id, v FROM t ORDER BY id").fetchall()
        [(1, 'a'), (2, 'b')]
        """
        return self.execute("REVERT STATEMENT ?", [query_id])

    def changes(self, name: str, start: str, end: str | None = None) -> Any:
        """The net CHANGES of a table from ``start`` (excluded) to ``end`` (included; now).

        >>> import chronolake
        >>> con = chronolake.connect(lake)
        >>> _ = con.execute("CREATE TABLE t (id INT)")
        >>> _ = con.execute("INSERT INTO t VALUES (1), (2)")
        >>> _ = con.execute("DELETE FROM t WHERE id = 1")
        >>> [row[:3] for row in con.changes("t", "version:1").fetchall()]
        [(2, 'INSERT', False)]
        """
        p0 = parse_point(start)
        sql = f"SELECT * FROM {_table_sql(name)} CHANGES(INFORMATION => DEFAULT) {clause(p0)}"
        params = [p0[2]]
        if end is not None:
            p1 = parse_point(end)
            if p1[0] == "BEFORE":
                raise ProgrammingError("The end point of a diff is inclusive: use an AT point.")
            sql += f" {clause(p1, 'END')}"
            params.append(p1[2])
        return self.execute(sql + " ORDER BY METADATA$ROW_ID, METADATA$ACTION", params)

    def compact_table(self, name: str, **options: Any) -> Any:
        """Merge small files and rewrite delete-heavy ones as a maintenance snapshot that
        changes no query result and no CHANGES feed; returns a ``CompactionReport``. Options:
        see ``chronolake.maintenance.compact_table``.

        >>> import chronolake
        >>> con = chronolake.connect(lake)
        >>> _ = con.execute("CREATE TABLE t (id INT)")
        >>> for i in range(3):
        ...     _ = con.execute("INSERT INTO t VALUES (?)", [i])
        >>> report = con.compact_table("t", min_age_s=0, min_files=2)
        >>> (report.files_in, report.files_out, report.rows)
        (3, 1, 3)
        >>> con.execute("SELECT count(*) FROM t").fetchone()
        (3,)
        """
        from chronolake.maintenance.compaction import compact_table
        from chronolake.sql.roles import require

        require(self._session.role, "admin", "table compaction")
        return compact_table(self, name, **options)

    def storage_metrics(self) -> Any:
        """How the tenant's file bytes split per table now (by the connection's clock), and
        how storage grew per snapshot: a ``chronolake.catalog.storage_metrics.StorageReport``
        (the data of INFORMATION_SCHEMA.TABLE_STORAGE_METRICS).

        >>> import chronolake
        >>> con = chronolake.connect(lake)
        >>> _ = con.execute("CREATE TABLE t (id INT)")
        >>> _ = con.execute("INSERT INTO t VALUES (1)")
        >>> [(m.name, m.active > 0, m.time_travel) for m in con.storage_metrics().tables]
        [('T', True, 0)]
        """
        self._check()
        from chronolake.catalog.storage_metrics import storage_report

        s = self._session
        with translated(s.root):
            return storage_report(s.catalog, s.tenant, to_us(s.now()))

    def close(self) -> None:
        """Close the connection; an open transaction is rolled back (PEP 249), its files
        removed and nothing of it committed."""
        if not self._closed:
            self._executor.flush_unlogged()
            self._session.close()
            self._closed = True
            if self._own_lake is not None:
                self._own_lake.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        """Leaving a ``with`` block commits an open transaction, or rolls it back when the
        block raised (as sqlite3 does), then closes the connection."""
        if self._session.txn is not None and not self._closed:
            if exc_type is None:
                self.commit()
            else:
                self.rollback()
        self.close()


def _table_sql(name: str) -> str:
    """A table name as the user wrote it (db.schema.table), re-rendered safely by sqlglot."""
    return table_node(name).sql("snowflake")


def connect(
    path: str | Path,
    storage: str | Path | None = None,
    *,
    tenant: str = "default",
    autocommit: bool = True,
    clock: Callable[[], dt.datetime] | None = None,
    settings: Settings | None = None,
    read_only: bool = False,
    database: str | None = None,
    schema: str | None = None,
    storage_options: Mapping[str, Any] | None = None,
) -> Connection:
    """Open (creating if needed) the lake at ``path`` as ``tenant`` (``path`` may also be a
    catalog URL, with ``storage`` the files' location, as for ``chronolake.Lake``): a shortcut for a
    ``Lake`` of that one connection, closed with it (open a ``chronolake.Lake`` once and call
    its ``connect`` when a process opens many connections).

    ``read_only=True`` opens an existing lake without writing anything (writes raise
    ``ReadOnlyError``; statements are not recorded in QUERY_HISTORY); ``database`` and
    ``schema`` pick the starting namespace (default MAIN.PUBLIC). ``storage`` may be
    ``s3://bucket/prefix`` with ``storage_options`` such as ``endpoint_url`` (see
    ``chronolake.io.open_storage``).

    >>> import chronolake
    >>> con = chronolake.connect(lake)
    >>> _ = con.execute("CREATE TABLE orders (id INT, status VARCHAR)")
    >>> _ = con.execute("INSERT INTO orders VALUES (1, 'new')")
    >>> _ = con.execute("UPDATE orders SET status = 'paid'")
    >>> con.execute("SELECT status FROM orders AT(VERSION => 2)").fetchall()
    [('new',)]
    >>> con.execute("SELECT status FROM orders").fetchall()
    [('paid',)]
    """
    return Connection(
        path,
        storage,
        tenant=tenant,
        autocommit=autocommit,
        clock=clock,
        settings=settings,
        read_only=read_only,
        database=database,
        schema=schema,
        storage_options=storage_options,
    )
