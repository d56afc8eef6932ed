"""The portable catalog: reads at a snapshot, and commits, in SQLAlchemy Core.

Backends (``sqlite.py``, ``postgres.py``, chosen by URL in ``backends.py``) provide the
engine and a few hooks (``backend.py``); every query lives here.
Reads at a snapshot need no transaction: rows visible at an already committed snapshot
never change (a later commit only sets ``end_snapshot`` to a larger snapshot id).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from sqlalchemy import (
    Connection,
    Engine,
    Executable,
    and_,
    bindparam,
    func,
    insert,
    inspect,
    or_,
    select,
    text,
    update,
)
from sqlalchemy import exc as sa_exc

from chronolake.catalog import schema as s
from chronolake.catalog.backends import backend_of
from chronolake.catalog.errors import (
    CATALOG_ERRORS,
    DRIVER_ERRORS,
    is_connection_lost,
    is_duplicate_key,
)
from chronolake.catalog.fast_insert import first_row
from chronolake.catalog.model import (
    ColumnInfo,
    DatabaseInfo,
    DataFile,
    DeleteFile,
    Namespace,
    SchemaInfo,
    Snapshot,
    TableInfo,
)
from chronolake.errors import NotFound, OperationalError
from chronolake.lru import LRU

T = TypeVar("T")
DEFAULT_DATABASE = "MAIN"
DEFAULT_SCHEMA = "PUBLIC"


def new_id() -> int:
    """A catalog object id: random, so writers need no shared sequence before commit."""
    return secrets.randbits(62) or 1


def _days(value: Any) -> int | None:
    return None if value is None else int(value)


def _add_missing_columns(conn: Connection) -> None:
    """Migration: add the nullable columns a newer schema version introduced."""
    inspector = inspect(conn)
    for table in s.metadata.sorted_tables:
        have = {c["name"] for c in inspector.get_columns(table.name)}
        for col in table.columns:
            if col.name not in have and col.nullable:
                kind = col.type.compile(dialect=conn.dialect)
                conn.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{col.name}" {kind}'))


def _add_missing_indexes(conn: Connection) -> None:
    """Migration: create the indexes a newer schema version introduced on existing tables."""
    for table in s.metadata.sorted_tables:
        for index in table.indexes:
            index.create(conn, checkfirst=True)


def visible(table: Any, snapshot_id: int) -> Any:
    """The interval rule: begin <= S < coalesce(end, infinity)."""
    return and_(
        table.c.begin_snapshot <= snapshot_id,
        or_(table.c.end_snapshot.is_(None), table.c.end_snapshot > snapshot_id),
    )


def column_from_row(r: Any) -> ColumnInfo:
    """A column as a row of the catalog's columns table describes it."""
    return ColumnInfo(
        int(r.column_id),
        r.name,
        r.type,
        int(r.position),
        r.default_sql,
        bool(r.nullable),
    )


# Statements of the per-statement hot path, built once (SQLAlchemy caches their compiled
# form; building them anew costs more than running them).
LATEST = (
    select(
        s.snapshots.c.snapshot_id,
        s.snapshots.c.commit_time,
        s.snapshots.c.schema_snapshot,
    )
    .where(s.snapshots.c.tenant_id == bindparam("tenant"))
    .order_by(s.snapshots.c.snapshot_id.desc())
    .limit(1)
)
_SNAPSHOT = select(
    s.snapshots.c.snapshot_id, s.snapshots.c.commit_time, s.snapshots.c.schema_snapshot
).where(
    s.snapshots.c.tenant_id == bindparam("tenant"),
    s.snapshots.c.snapshot_id == bindparam("snapshot_id"),
)
_TABLE_VERSION = select(func.max(s.table_changes.c.snapshot_id)).where(
    s.table_changes.c.tenant_id == bindparam("tenant"),
    s.table_changes.c.table_id == bindparam("table_id"),
    s.table_changes.c.snapshot_id <= bindparam("snapshot_id"),
)
_ADVANCE_ROW_IDS = (
    update(s.table_row_ids)
    .where(
        s.table_row_ids.c.tenant_id == bindparam("b_tenant"),
        s.table_row_ids.c.table_id == bindparam("b_table"),
    )
    .values(next_row_id=s.table_row_ids.c.next_row_id + bindparam("b_count"))
)
# one round trip: advance the counter and read where it now stands
_ADVANCE_ROW_IDS_RETURNING = _ADVANCE_ROW_IDS.returning(s.table_row_ids.c.next_row_id)


INT64_MAX = 2**63 - 1


class Catalog:
    """Metadata of every tenant of one lake."""

    def __init__(
        self,
        engine: Engine,
        on_step: Callable[[str], None] | None = None,
        db_clock: bool = False,
    ) -> None:
        self.engine = engine
        self.on_step = on_step  # Settings.on_step: the crash tests' hook, called by commit()
        # commit times from the catalog database's clock, where it has one (not a test clock)
        self.db_clock = db_clock
        self._lock = threading.Lock()
        self._namespaces: LRU[Namespace] = LRU(64)
        self._files: LRU[tuple[DataFile, ...]] = LRU(4096)
        # (tenant, table, snapshot) -> table version, for committed snapshots only: the
        # changes up to a committed snapshot are final (ids grow, and rows come in one commit)
        self._versions: LRU[int] = LRU(4096)
        self._snapshots: LRU[Snapshot] = LRU(4096)  # (tenant, id) -> a committed snapshot
        self._committed: dict[str, int] = {}  # tenant -> latest snapshot seen committed
        # (tenant, query id) -> points of a committed statement (final)
        self._statements: LRU[tuple[int | None, int, int]] = LRU(4096)

    # -- reads ----------------------------------------------------------------------------

    def read(self, fn: Callable[[Connection], T]) -> T:
        """``fn`` run on a pooled connection; run again on a new one if that one turned out
        dead (a server restart): a read changes nothing, so it may be repeated, and the
        engine then drops every connection the pool held from before."""
        for attempt in (1, 2):
            with self.engine.connect() as c:
                try:
                    return fn(c)
                except sa_exc.DBAPIError as e:  # SQLAlchemy invalidated the pool already
                    if attempt == 2 or not e.connection_invalidated:
                        raise
                except DRIVER_ERRORS as e:  # from the DBAPI cursor (first_row)
                    if attempt == 2 or not is_connection_lost(e):
                        raise
                    c.invalidate()
                    self.engine.dispose(close=False)  # the pool's others died with it
        raise AssertionError("unreachable")

    def _first(self, statement: Executable, params: dict[str, Any] | None = None) -> Any:
        return self.read(lambda c: c.execute(statement, params).first())

    def _first_fast(self, statement: Executable, params: dict[str, Any]) -> Any:
        """``_first`` through the DBAPI cursor, for statements built once (``first_row``)."""
        return self.read(lambda c: first_row(c, statement, params))

    # -- set-up ---------------------------------------------------------------------------

    def create_all(self) -> None:
        with self.engine.connect().execution_options(write=True) as conn, conn.begin():
            backend_of(conn).lock_catalog(conn)
            s.metadata.create_all(conn)
            row = conn.execute(
                select(s.catalog_meta.c.value).where(s.catalog_meta.c.key == "schema_version")
            ).first()
            if row is None:
                conn.execute(
                    insert(s.catalog_meta).values(
                        key="schema_version", value=str(s.CATALOG_SCHEMA_VERSION)
                    )
                )
            elif int(row[0]) > s.CATALOG_SCHEMA_VERSION:
                raise OperationalError(
                    f"This lake's catalog has schema version {row[0]}, newer than this "
                    f"chronolake understands ({s.CATALOG_SCHEMA_VERSION}). Upgrade chronolake."
                )
            elif int(row[0]) < s.CATALOG_SCHEMA_VERSION:
                _add_missing_columns(conn)
                _add_missing_indexes(conn)
                conn.execute(
                    update(s.catalog_meta)
                    .where(s.catalog_meta.c.key == "schema_version")
                    .values(value=str(s.CATALOG_SCHEMA_VERSION))
                )

    def check_readable(self, tenant: str) -> bool:
        """For a read-only open: the catalog is a chronolake catalog of this version (an older
        one would need an upgrade, which writes); True if it holds ``tenant``."""
        with self.engine.connect() as conn:
            if not inspect(conn).has_table(s.catalog_meta.name):
                if backend_of(conn).name == "sqlite":
                    raise NotFound("This path holds no chronolake catalog: check the lake path.")
                raise NotFound(
                    "This database holds no chronolake catalog: check the catalog URL (opening "
                    "read-only never creates one)."
                )
            row = conn.execute(
                select(s.catalog_meta.c.value).where(s.catalog_meta.c.key == "schema_version")
            ).first()
            version = int(row[0]) if row is not None else 0
            if version != s.CATALOG_SCHEMA_VERSION:
                newer = version > s.CATALOG_SCHEMA_VERSION
                raise OperationalError(
                    f"This lake's catalog has schema version {version}, "
                    + (
                        f"newer than this chronolake understands ({s.CATALOG_SCHEMA_VERSION}). "
                        "Upgrade chronolake."
                        if newer
                        else "older than this chronolake's: open it once without "
                        "read_only=True to upgrade it."
                    )
                )
            found = conn.execute(
                select(s.tenants.c.tenant_id).where(s.tenants.c.tenant_id == tenant)
            ).first()
        return found is not None

    def ensure_tenant(self, tenant: str, now_us: int) -> None:
        """Create the tenant with database MAIN and schema PUBLIC (existing from the start)."""
        with self.engine.connect() as conn:
            found = conn.execute(
                select(s.tenants.c.tenant_id).where(s.tenants.c.tenant_id == tenant)
            ).first()
        if found:
            return
        try:
            self._create_tenant(tenant, now_us)
        except CATALOG_ERRORS as e:
            if not is_duplicate_key(e):  # else another process created it meanwhile
                raise

    def _create_tenant(self, tenant: str, now_us: int) -> None:
        with self.engine.connect().execution_options(write=True) as conn, conn.begin():
            if conn.execute(
                select(s.tenants.c.tenant_id).where(s.tenants.c.tenant_id == tenant)
            ).first():
                return
            conn.execute(insert(s.tenants).values(tenant_id=tenant, created_time=now_us))
            db_id, schema_id = new_id(), new_id()
            conn.execute(
                insert(s.databases).values(
                    tenant_id=tenant,
                    database_id=db_id,
                    begin_snapshot=0,
                    name=DEFAULT_DATABASE,
                )
            )
            conn.execute(
                insert(s.schemas).values(
                    tenant_id=tenant,
                    schema_id=schema_id,
                    begin_snapshot=0,
                    database_id=db_id,
                    name=DEFAULT_SCHEMA,
                )
            )

    # -- snapshots --------------------------------------------------------------------------

    def latest_snapshot(self, tenant: str, conn: Connection | None = None) -> Snapshot:
        params = {"tenant": tenant}
        row = (
            self._first_fast(LATEST, params)
            if conn is None
            else conn.execute(LATEST, params).first()
        )
        if row is None:
            return Snapshot(0, 0, 0)
        snap = Snapshot(int(row[0]), int(row[1]), int(row[2]))
        self.saw_committed(tenant, snap.snapshot_id)
        return snap

    def saw_committed(self, tenant: str, snapshot_id: int) -> None:
        """Note that ``snapshot_id`` of ``tenant`` is committed (what it reads is final)."""
        with self._lock:
            if snapshot_id > self._committed.get(tenant, 0):
                self._committed[tenant] = snapshot_id

    def snapshot(self, tenant: str, snapshot_id: int) -> Snapshot | None:
        if snapshot_id == 0:
            return Snapshot(0, 0, 0)
        if not 0 < snapshot_id <= INT64_MAX:  # no such id; SQLite cannot even bind it
            return None
        key = (tenant, snapshot_id)
        found = self._snapshots.get(key)
        if found is not None:
            return found
        row = self._first_fast(_SNAPSHOT, {"tenant": tenant, "snapshot_id": snapshot_id})
        if row is None:
            return None
        found = Snapshot(int(row[0]), int(row[1]), int(row[2]))
        self._snapshots.put(key, found)  # a committed snapshot's row never changes
        return found

    def snapshot_at_time(self, tenant: str, time_us: int, inclusive: bool) -> int:
        """The latest snapshot committed at (or, not inclusive, before) a time; 0 if none."""
        t = s.snapshots
        time_us = max(-INT64_MAX, min(time_us, INT64_MAX))  # SQLite binds 64-bit integers only
        cond = t.c.commit_time <= time_us if inclusive else t.c.commit_time < time_us
        row = self._first(select(func.max(t.c.snapshot_id)).where(t.c.tenant_id == tenant, cond))
        return int(row[0]) if row and row[0] is not None else 0

    def statement_points(self, tenant: str, query_id: str) -> tuple[int | None, int, int] | None:
        """(snapshot its transaction produced, latest snapshot it saw, its start time).

        Cached once the statement's transaction committed: a statement's row is written once
        and only ever gains its produced snapshot."""
        found = self._statements.get((tenant, query_id))
        if found is not None:
            return found
        t = s.statements
        row = self._first(
            select(t.c.produced_snapshot, t.c.visible_snapshot, t.c.start_time).where(
                t.c.tenant_id == tenant, t.c.query_id == query_id
            )
        )
        if row is None:
            return None
        points = (None if row[0] is None else int(row[0])), int(row[1]), int(row[2])
        if points[0] is not None:
            self._statements.put((tenant, query_id), points)
        return points

    # -- namespace ------------------------------------------------------------------------

    def namespace(self, tenant: str, snap: Snapshot) -> Namespace:
        """Databases, schemas, tables and columns visible at a snapshot (cached per DDL version)."""
        key = (tenant, snap.schema_snapshot)
        cached = self._namespaces.get(key)
        if cached is not None:
            return cached
        sid = snap.schema_snapshot

        def load(c: Connection) -> Namespace:
            dbs = {
                int(r.database_id): DatabaseInfo(
                    int(r.database_id), r.name, _days(r.retention_days)
                )
                for r in c.execute(
                    select(s.databases).where(
                        s.databases.c.tenant_id == tenant, visible(s.databases, sid)
                    )
                )
            }
            scs = {
                int(r.schema_id): SchemaInfo(
                    int(r.schema_id),
                    int(r.database_id),
                    r.name,
                    _days(r.retention_days),
                )
                for r in c.execute(
                    select(s.schemas).where(
                        s.schemas.c.tenant_id == tenant, visible(s.schemas, sid)
                    )
                )
            }
            cols: dict[int, list[ColumnInfo]] = {}
            for r in c.execute(
                select(s.columns).where(s.columns.c.tenant_id == tenant, visible(s.columns, sid))
            ):
                cols.setdefault(int(r.table_id), []).append(column_from_row(r))
            tbls = {}
            for r in c.execute(
                select(s.tables).where(s.tables.c.tenant_id == tenant, visible(s.tables, sid))
            ):
                tcols = tuple(sorted(cols.get(int(r.table_id), []), key=lambda x: x.position))
                tbls[int(r.table_id)] = TableInfo(
                    int(r.table_id),
                    int(r.schema_id),
                    r.name,
                    tcols,
                    int(r.created_snapshot),
                    int(r.next_column_id),
                    r.view_sql,
                    _days(r.retention_days),
                    bool(r.transient),
                )
            ts = s.tenant_settings
            settings = {
                str(r.name): str(r.value)
                for r in c.execute(
                    select(ts.c.name, ts.c.value).where(ts.c.tenant_id == tenant, visible(ts, sid))
                )
            }
            return Namespace(dbs, scs, tbls, settings)

        ns = self.read(load)
        self._namespaces.put(key, ns)
        return ns

    # -- files ----------------------------------------------------------------------------

    def table_version(self, tenant: str, table_id: int, snapshot_id: int) -> int:
        """The last snapshot <= snapshot_id that changed the table (its state is that one's)."""
        key = (tenant, table_id, snapshot_id)
        cached = self._versions.get(key)
        if cached is not None:
            return cached
        with self._lock:
            final = snapshot_id <= self._committed.get(tenant, 0)
        params = {"tenant": tenant, "table_id": table_id, "snapshot_id": snapshot_id}
        row = self._first_fast(_TABLE_VERSION, params)
        version = int(row[0]) if row and row[0] is not None else 0
        if final:
            self._versions.put(key, version)
        return version

    def table_files(self, tenant: str, table_id: int, snapshot_id: int) -> tuple[DataFile, ...]:
        return self.table_state(tenant, table_id, snapshot_id)[1]

    def table_state(
        self, tenant: str, table_id: int, snapshot_id: int
    ) -> tuple[int, tuple[DataFile, ...]]:
        """(table version, data files with their delete file) at a snapshot; cached."""
        version = self.table_version(tenant, table_id, snapshot_id)
        key = (tenant, table_id, version)
        cached = self._files.get(key)
        if cached is not None:
            return version, cached
        f, d = s.data_files, s.delete_files
        q = (
            select(
                f.c.file_id,
                f.c.path,
                f.c.row_count,
                f.c.byte_size,
                f.c.first_row_id,
                f.c.has_row_ids,
                f.c.query_id,
                f.c.cloned_from,
                d.c.delete_file_id,
                d.c.path.label("dpath"),
                d.c.delete_count,
                d.c.byte_size.label("dsize"),
                d.c.part,
            )
            .select_from(
                f.outerjoin(
                    d,
                    and_(
                        d.c.tenant_id == f.c.tenant_id,
                        d.c.data_file_id == f.c.file_id,
                        visible(d, version),
                    ),
                )
            )
            .where(f.c.tenant_id == tenant, f.c.table_id == table_id, visible(f, version))
            .order_by(f.c.begin_snapshot, f.c.file_id)
        )
        out = []
        # unpacked by position: with thousands of small files, access by name shows
        for (
            fid,
            path,
            rows,
            size,
            first,
            has_ids,
            qid,
            cloned,
            did,
            dpath,
            dcount,
            dsize,
            dpart,
        ) in self.read(lambda c: c.execute(q).all()):
            dl = (
                DeleteFile(
                    int(did),
                    dpath,
                    int(dcount),
                    int(dsize),
                    None if dpart is None else int(dpart),
                )
                if did is not None
                else None
            )
            out.append(
                DataFile(
                    int(fid),
                    path,
                    int(rows),
                    int(size),
                    int(first),
                    bool(has_ids),
                    dl,
                    query_id=qid,
                    cloned_from=None if cloned is None else int(cloned),
                )
            )
        files = tuple(out)
        self._files.put(key, files)
        return version, files

    def allocate_row_ids(self, tenant: str, table_id: int, count: int) -> int:
        """Reserve ``count`` row ids now (used inside transactions that need them early)."""
        with self.engine.connect().execution_options(write=True) as conn, conn.begin():
            return self.take_row_ids(conn, tenant, table_id, count)

    @staticmethod
    def take_row_ids(conn: Connection, tenant: str, table_id: int, count: int) -> int:
        start = backend_of(conn).take_row_ids(conn, tenant, table_id, count)
        if start is not None:
            return start
        params = {"b_tenant": tenant, "b_table": table_id, "b_count": count}
        if conn.dialect.update_returning:
            row = conn.execute(_ADVANCE_ROW_IDS_RETURNING, params).first()
        else:  # SQLite before 3.35: read, then advance (the caller holds the write lock)
            t = s.table_row_ids
            row = conn.execute(
                select(t.c.next_row_id + count).where(
                    t.c.tenant_id == tenant, t.c.table_id == table_id
                )
            ).first()
            if row is not None:
                conn.execute(_ADVANCE_ROW_IDS, params)
        if row is not None:
            return int(row[0]) - count
        conn.execute(
            insert(s.table_row_ids),
            [{"tenant_id": tenant, "table_id": table_id, "next_row_id": count}],
        )
        return 0

    # -- history --------------------------------------------------------------------------

    def table_history(self, tenant: str, table_id: int) -> list[dict[str, Any]]:
        tc, sn = s.table_changes, s.snapshots
        q = (
            select(
                tc.c.snapshot_id,
                sn.c.commit_time,
                sn.c.query_id,
                tc.c.operation,
                tc.c.rows_added,
                tc.c.rows_removed,
            )
            .select_from(
                tc.join(
                    sn,
                    and_(
                        sn.c.tenant_id == tc.c.tenant_id,
                        sn.c.snapshot_id == tc.c.snapshot_id,
                    ),
                )
            )
            .where(tc.c.tenant_id == tenant, tc.c.table_id == table_id)
            .order_by(tc.c.snapshot_id)
        )
        return [dict(r._mapping) for r in self.read(lambda c: c.execute(q).all())]

    def insert_statements(
        self, rows: Iterable[dict[str, Any]], access: Iterable[dict[str, Any]] = ()
    ) -> None:
        """Log statements, with their lineage rows (``cl_access``) in the same transaction."""
        rows, access = list(rows), list(access)
        if not rows:
            return
        # write="commit": the backend may send BEGIN, the rows and COMMIT in one round trip
        with (
            self.engine.connect().execution_options(write="commit") as conn,
            conn.begin(),
        ):
            w = backend_of(conn).writes(conn, durable=False)  # history of statements only
            w.insert(s.statements, rows)
            w.insert(s.access, access)
            w.finish(commit=True)
