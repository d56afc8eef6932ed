"""Commit: one catalog transaction that re-checks the requirements and appends a snapshot.

A commit is data (``CommitRequest``): the namespace and file lists the transaction started
from, and the ones it ends with. Applying it computes the difference, validates that nobody
else changed the same rows or definitions since the read snapshot, then writes it all and the
new snapshot row at once. Appends never conflict.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    and_,
    bindparam,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)

from chronolake.catalog import schema as s
from chronolake.catalog.backend import CommitStart, Writes
from chronolake.catalog.backends import backend_of
from chronolake.catalog.base import LATEST, Catalog
from chronolake.catalog.errors import CATALOG_ERRORS, catalog_error, is_lost_race
from chronolake.catalog.model import (
    ColumnInfo,
    DataFile,
    Namespace,
    Snapshot,
    TableDelta,
    TableInfo,
)
from chronolake.errors import CatalogUnavailable, ConflictError, OperationalError

# Operations that change how rows are stored, never which rows there are (compaction): their
# snapshots count no rows inserted or deleted.
MAINTENANCE_OPERATIONS = frozenset({"COMPACT"})


@dataclass
class CommitRequest:
    txn_id: str
    query_id: str
    operation: str
    read_snapshot: int
    now_us: int
    base_ns: Namespace
    new_ns: Namespace
    deltas: dict[int, TableDelta]  # table id -> files added, re-deleted, removed
    explicit: bool = False  # BEGIN ... COMMIT (statements logged before the commit)
    table_ops: dict[int, str] = field(default_factory=dict)  # table id -> operation name
    statements: list[dict[str, Any]] = field(default_factory=list)  # log rows of this txn
    access: list[dict[str, Any]] = field(default_factory=list)  # cl_access rows to write

    def is_empty(self) -> bool:
        return self.base_ns == self.new_ns and not self.deltas


def _conflict(table: str, winner: int) -> ConflictError:
    return ConflictError(
        f"Transaction conflict on table {table}: snapshot {winner} changed it first. "
        "Nothing of this transaction was committed; retry it.",
        table=table,
        snapshot=winner,
    )


_ENDS: dict[tuple[str, str], Any] = {}


def _end_statement(table: Any, column: str) -> Any:
    """``UPDATE table SET end_snapshot = :end_snap WHERE <open row> AND column = :key``, built
    once per (table, column) so that many rows end in one executemany."""
    key = (table.name, column)
    stmt = _ENDS.get(key)
    if stmt is None:
        stmt = (
            update(table)
            .where(
                table.c.tenant_id == bindparam("tenant"),
                table.c.end_snapshot.is_(None),
                table.c[column] == bindparam("key"),
            )
            .values(end_snapshot=bindparam("end_snap"))
        )
        _ENDS[key] = stmt
    return stmt


class _Apply:
    def __init__(
        self, conn: Connection, tenant: str, req: CommitRequest, snap: int, start: CommitStart
    ) -> None:
        self.conn, self.tenant, self.req, self.snap = conn, tenant, req, snap
        self.first_row_ids = start.first_row_ids
        self.w: Writes = backend_of(conn).writes(conn)  # reads come first (validate)

    # -- validation -----------------------------------------------------------------------

    def validate(self) -> None:
        req, conn, tenant = self.req, self.conn, self.tenant
        tc = s.table_changes
        ddl_tables = [
            tid
            for tid, t in req.new_ns.tables.items()
            if tid in req.base_ns.tables and req.base_ns.tables[tid] != t
        ] + [tid for tid in req.base_ns.tables if tid not in req.new_ns.tables]
        data_tables = [tid for tid in req.deltas if tid in req.base_ns.tables]
        check = sorted(set(ddl_tables))
        if data_tables:
            t = s.tables
            alive = {
                int(r[0])
                for r in conn.execute(
                    select(t.c.table_id).where(
                        t.c.tenant_id == tenant,
                        t.c.table_id.in_(data_tables),
                        t.c.end_snapshot.is_(None),
                    )
                )
            }
            for tid in data_tables:
                if tid not in alive:
                    winner = conn.execute(
                        select(func.max(tc.c.snapshot_id)).where(
                            tc.c.tenant_id == tenant, tc.c.table_id == tid
                        )
                    ).scalar()
                    raise _conflict(req.base_ns.tables[tid].name, int(winner or 0))
        if check:
            rows = conn.execute(
                select(tc.c.table_id, func.max(tc.c.snapshot_id))
                .where(
                    tc.c.tenant_id == tenant,
                    tc.c.table_id.in_(check),
                    tc.c.snapshot_id > req.read_snapshot,
                    tc.c.ddl.is_(True),
                )
                .group_by(tc.c.table_id)
            ).all()
            for tid, winner in rows:
                raise _conflict(req.base_ns.tables[int(tid)].name, int(winner))
        self._validate_names()
        self._validate_settings()
        self._validate_containers()
        self._validate_files()

    def _validate_settings(self) -> None:
        """Two transactions that change the same tenant parameter conflict."""
        base, new = self.req.base_ns.settings, self.req.new_ns.settings
        names = sorted(n for n in set(base) | set(new) if base.get(n) != new.get(n))
        if not names:
            return
        ts = s.tenant_settings
        row = self.conn.execute(
            select(ts.c.name, func.max(ts.c.begin_snapshot), func.max(ts.c.end_snapshot))
            .where(ts.c.tenant_id == self.tenant, ts.c.name.in_(names))
            .group_by(ts.c.name)
        ).all()
        for name, began, ended in row:
            latest = max(int(began or 0), int(ended or 0))
            if latest > self.req.read_snapshot:
                raise _conflict(f"ACCOUNT parameter {name}", latest)

    def _validate_containers(self) -> None:
        """A database or schema this transaction changed (a parameter) or dropped must not have
        been changed or dropped by another commit since the read: no lost update, and no
        dropped object written back."""
        req, conn, tenant = self.req, self.conn, self.tenant
        for tab, idcol, base, new in (
            (s.databases, "database_id", req.base_ns.databases, req.new_ns.databases),
            (s.schemas, "schema_id", req.base_ns.schemas, req.new_ns.schemas),
        ):
            ids = [oid for oid, obj in base.items() if new.get(oid) != obj]
            if not ids:
                continue
            row = conn.execute(
                select(tab.c[idcol], tab.c.name, tab.c.begin_snapshot, tab.c.end_snapshot).where(
                    tab.c.tenant_id == tenant,
                    tab.c[idcol].in_(ids),
                    or_(
                        tab.c.begin_snapshot > req.read_snapshot,
                        tab.c.end_snapshot > req.read_snapshot,
                    ),
                )
            ).first()
            if row is not None:
                raise _conflict(str(row[1]), max(int(row[2]), int(row[3] or 0)))

    def _validate_names(self) -> None:
        req, conn, tenant = self.req, self.conn, self.tenant
        t = s.tables
        for tid, tbl in req.new_ns.tables.items():
            old = req.base_ns.tables.get(tid)
            if old is not None and (old.name, old.schema_id) == (tbl.name, tbl.schema_id):
                continue
            row = conn.execute(
                select(t.c.table_id, t.c.begin_snapshot).where(
                    t.c.tenant_id == tenant,
                    t.c.schema_id == tbl.schema_id,
                    t.c.name == tbl.name,
                    t.c.end_snapshot.is_(None),
                    t.c.table_id != tid,
                    t.c.begin_snapshot > req.read_snapshot,
                )
            ).first()
            if row is not None:
                raise _conflict(tbl.name, int(row[1]))
        for kind, tab, idcol, base, new in (
            ("database", s.databases, "database_id", req.base_ns.databases, req.new_ns.databases),
            ("schema", s.schemas, "schema_id", req.base_ns.schemas, req.new_ns.schemas),
            ("table", s.tables, "table_id", req.base_ns.tables, req.new_ns.tables),
        ):
            for oid, obj in new.items():
                if oid not in base:  # brought back (UNDROP) by someone else since the read?
                    again = conn.execute(
                        select(tab.c.begin_snapshot).where(
                            tab.c.tenant_id == tenant,
                            tab.c[idcol] == oid,
                            tab.c.begin_snapshot > req.read_snapshot,
                        )
                    ).first()
                    if again is not None:
                        raise _conflict(obj.name, int(again[0]))
                if kind == "table":
                    continue
                if oid in base and base[oid] == obj:
                    continue
                q = select(tab.c.begin_snapshot).where(
                    tab.c.tenant_id == tenant,
                    tab.c.name == obj.name,
                    tab.c.end_snapshot.is_(None),
                    tab.c[idcol] != oid,
                    tab.c.begin_snapshot > req.read_snapshot,
                )
                if kind == "schema":
                    q = q.where(tab.c.database_id == getattr(obj, "database_id", None))
                row = conn.execute(q).first()
                if row is not None:
                    raise _conflict(obj.name, int(row[0]))

    def _validate_files(self) -> None:
        """Deletes from a committed file conflict with any other delete from it since the read."""
        req, conn, tenant = self.req, self.conn, self.tenant
        touched: dict[int, int] = {}
        for tid, delta in req.deltas.items():
            for old, _ in delta.replaced:
                touched[old.file_id] = tid
            for old in delta.removed:
                touched[old.file_id] = tid
        if not touched:
            return
        ids = list(touched)
        d, f = s.delete_files, s.data_files
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            row = conn.execute(
                select(d.c.data_file_id, d.c.begin_snapshot).where(
                    d.c.tenant_id == tenant,
                    d.c.data_file_id.in_(chunk),
                    d.c.begin_snapshot > req.read_snapshot,
                )
            ).first()
            if row is None:
                row = conn.execute(
                    select(f.c.file_id, f.c.end_snapshot).where(
                        f.c.tenant_id == tenant,
                        f.c.file_id.in_(chunk),
                        f.c.end_snapshot.is_not(None),
                    )
                ).first()
            if row is not None:
                tid = touched[int(row[0])]
                tbl = req.base_ns.tables.get(tid) or req.new_ns.tables.get(tid)
                raise _conflict(tbl.name if tbl else str(tid), int(row[1]))

    # -- writes ---------------------------------------------------------------------------

    def _end_many(self, table: Any, column: str, keys: list[Any]) -> None:
        """End the open rows of ``table`` whose ``column`` is one of ``keys``."""
        if keys:
            params = [{"tenant": self.tenant, "key": k, "end_snap": self.snap} for k in keys]
            self.w.execute(_end_statement(table, column), params)

    def _end(self, table: Any, **key: Any) -> None:
        conds = [table.c.tenant_id == self.tenant, table.c.end_snapshot.is_(None)]
        conds += [table.c[k] == v for k, v in key.items()]
        self.w.execute(update(table).where(and_(*conds)).values(end_snapshot=self.snap))

    def apply_namespace(self) -> set[int]:
        """Write DDL differences; return ids of tables whose definition changed."""
        req, tenant, snap = self.req, self.tenant, self.snap
        for oid, db in req.base_ns.databases.items():
            if req.new_ns.databases.get(oid) != db:
                self._end(s.databases, database_id=oid)
        for oid, db in req.new_ns.databases.items():
            if req.base_ns.databases.get(oid) != db:
                row = {
                    "tenant_id": tenant,
                    "database_id": oid,
                    "begin_snapshot": snap,
                    "name": db.name,
                    "retention_days": db.retention_days,
                }
                self.w.insert(s.databases, [row])
        for oid, sc in req.base_ns.schemas.items():
            if req.new_ns.schemas.get(oid) != sc:
                self._end(s.schemas, schema_id=oid)
        for oid, sc in req.new_ns.schemas.items():
            if req.base_ns.schemas.get(oid) != sc:
                row = {
                    "tenant_id": tenant,
                    "schema_id": oid,
                    "begin_snapshot": snap,
                    "database_id": sc.database_id,
                    "name": sc.name,
                    "retention_days": sc.retention_days,
                }
                self.w.insert(s.schemas, [row])
        self._apply_settings()
        changed: set[int] = set()
        for tid, old in req.base_ns.tables.items():
            new = req.new_ns.tables.get(tid)
            if new == old:
                continue
            changed.add(tid)
            if new is None or (
                new.name,
                new.schema_id,
                new.next_column_id,
                new.retention_days,
            ) != (old.name, old.schema_id, old.next_column_id, old.retention_days):
                self._end(s.tables, table_id=tid)
                if new is not None:
                    self._insert_table(new, old.created_snapshot or snap)
            if new is not None:
                self._apply_columns(old, new)
        for tid, new in req.new_ns.tables.items():
            if tid not in req.base_ns.tables:
                changed.add(tid)
                # an undropped table keeps its creation and its (never ended) column rows
                self._insert_table(new, new.created_snapshot or snap)
                self._apply_columns(self._open_table(new) if new.created_snapshot else None, new)
        return changed

    def _apply_settings(self) -> None:
        """Tenant (account) parameters: end changed or unset values, insert new ones."""
        base, new = self.req.base_ns.settings, self.req.new_ns.settings
        for name, value in base.items():
            if new.get(name) != value:
                self._end(s.tenant_settings, name=name)
        rows = [
            {
                "tenant_id": self.tenant,
                "name": name,
                "begin_snapshot": self.snap,
                "value": value,
            }
            for name, value in new.items()
            if base.get(name) != value
        ]
        self.w.insert(s.tenant_settings, rows)

    def _open_table(self, t: TableInfo) -> TableInfo:
        """A dropped table's definition from its open column rows (a drop never ends them)."""
        self.w.flush()
        c = s.columns
        cols = tuple(
            ColumnInfo(
                int(r.column_id), r.name, r.type, int(r.position), r.default_sql, bool(r.nullable)
            )
            for r in self.conn.execute(
                select(c).where(
                    c.c.tenant_id == self.tenant,
                    c.c.table_id == t.table_id,
                    c.c.end_snapshot.is_(None),
                )
            )
        )
        return replace(t, columns=cols)

    def _insert_table(self, t: TableInfo, created: int) -> None:
        row = {
            "tenant_id": self.tenant,
            "table_id": t.table_id,
            "begin_snapshot": self.snap,
            "schema_id": t.schema_id,
            "name": t.name,
            "created_snapshot": created,
            "next_column_id": t.next_column_id,
            "view_sql": t.view_sql,
            "retention_days": t.retention_days,
            "transient": t.transient or None,
        }
        self.w.insert(s.tables, [row])

    def _apply_columns(self, old: TableInfo | None, new: TableInfo) -> None:
        before = {c.column_id: c for c in (old.columns if old else ())}
        after = {c.column_id: c for c in new.columns}
        for cid, c in before.items():
            if after.get(cid) != c:
                self._end(s.columns, table_id=new.table_id, column_id=cid)
        rows = [
            {
                "tenant_id": self.tenant,
                "table_id": new.table_id,
                "column_id": cid,
                "begin_snapshot": self.snap,
                "name": c.name,
                "type": c.type,
                "position": c.position,
                "default_sql": c.default_sql,
                "nullable": c.nullable,
            }
            for cid, c in after.items()
            if before.get(cid) != c
        ]
        self.w.insert(s.columns, rows)

    def apply_files(self) -> dict[int, tuple[int, int, int]]:
        """Write file differences; return per table (rows added, rows removed, bytes added)."""
        req, tenant, snap = self.req, self.tenant, self.snap
        out: dict[int, tuple[int, int, int]] = {}
        for tid, delta in req.deltas.items():
            added = removed = nbytes = 0
            next_rid = self.first_row_ids.get(tid, 0)
            file_rows, stat_rows, del_rows = [], [], []
            del_bytes: dict[str, int] = {}  # delete file path -> bytes
            for f in delta.added:
                first = f.first_row_id
                if first is None:
                    first, next_rid = next_rid, next_rid + f.row_count
                file_rows.append(
                    {
                        "tenant_id": tenant,
                        "file_id": f.file_id,
                        "table_id": tid,
                        "begin_snapshot": snap,
                        "path": f.path,
                        "row_count": f.row_count,
                        "byte_size": f.byte_size,
                        "first_row_id": first,
                        "has_row_ids": f.has_row_ids,
                        "query_id": f.query_id,
                        "cloned_from": f.cloned_from,
                    }
                )
                if f.cloned_from is not None and not f.stats:
                    self._copy_stats(f.cloned_from, f.file_id)
                stat_rows += [
                    {
                        "tenant_id": tenant,
                        "file_id": f.file_id,
                        "column_id": cid,
                        "min_value": lo,
                        "max_value": hi,
                        "null_count": nulls,
                    }
                    for cid, lo, hi, nulls in f.stats
                ]
                added += f.row_count
                nbytes += f.byte_size
                if f.delete is not None:
                    del_rows.append(self._delete_row(tid, f))
                    removed += f.delete.delete_count
                    del_bytes[f.delete.path] = f.delete.byte_size
            ended_deletes = []
            for old, new in delta.replaced:
                if old.delete is not None:
                    ended_deletes.append(old.delete.delete_file_id)
                if new.delete is not None:
                    del_rows.append(self._delete_row(tid, new))
                    del_bytes[new.delete.path] = new.delete.byte_size
                removed += old.live_rows - new.live_rows
            nbytes += sum(del_bytes.values())  # a statement's delete file serves many files
            self._end_many(s.delete_files, "delete_file_id", ended_deletes)
            gone = [old.file_id for old in delta.removed]
            self._end_many(s.data_files, "file_id", gone)
            self._end_many(s.delete_files, "data_file_id", gone)
            removed += sum(old.live_rows for old in delta.removed)
            self.w.insert(s.data_files, file_rows)
            self.w.insert(s.file_column_stats, stat_rows)
            self.w.insert(s.delete_files, del_rows)
            out[tid] = (added, removed, nbytes)
        return out

    def _copy_stats(self, source: int, file_id: int) -> None:
        """A clone's file row shares its file, so it shares the file's column statistics."""
        st = s.file_column_stats
        self.w.execute(
            insert(st).from_select(
                ["tenant_id", "file_id", "column_id", "min_value", "max_value", "null_count"],
                select(
                    st.c.tenant_id,
                    literal(file_id, BigInteger),
                    st.c.column_id,
                    st.c.min_value,
                    st.c.max_value,
                    st.c.null_count,
                ).where(st.c.tenant_id == self.tenant, st.c.file_id == source),
            )
        )

    def _delete_row(self, tid: int, f: DataFile) -> dict[str, Any]:
        assert f.delete is not None
        return {
            "tenant_id": self.tenant,
            "delete_file_id": f.delete.delete_file_id,
            "data_file_id": f.file_id,
            "table_id": tid,
            "begin_snapshot": self.snap,
            "path": f.delete.path,
            "delete_count": f.delete.delete_count,
            "byte_size": f.delete.byte_size,
            "part": f.delete.part,
        }


def commit(catalog: Catalog, tenant: str, req: CommitRequest) -> Snapshot:
    """Validate and write ``req`` as the tenant's next snapshot, atomically.

    A duplicate key means another writer took the same snapshot id (or ids) first, and a
    serialization failure or deadlock that the database chose this commit to lose: those are
    lost races, so a retryable ``ConflictError``. A connection lost during the commit leaves
    its outcome unknown to this process: the catalog is asked again whether the snapshot was
    committed (then it is returned as if nothing had happened) or not (a retryable
    ``CatalogUnavailable``). Other catalog failures are translated by ``catalog_error``."""
    try:
        return _commit(catalog, tenant, req)
    except CATALOG_ERRORS as e:
        if is_lost_race(e):
            raise ConflictError(
                "Transaction conflict: another writer committed the same snapshot first. "
                "Nothing of this transaction was committed; retry it."
            ) from None
        error = catalog_error(e)
        if isinstance(error, CatalogUnavailable):
            found = _committed_after_all(catalog, tenant, req)
            if found is not None:
                return found
        raise error from e


def _committed_after_all(catalog: Catalog, tenant: str, req: CommitRequest) -> Snapshot | None:
    """After a lost connection: the snapshot of ``req``'s transaction if it did commit."""
    sn = s.snapshots
    q = select(sn.c.snapshot_id, sn.c.commit_time, sn.c.schema_snapshot).where(
        sn.c.tenant_id == tenant,
        sn.c.snapshot_id > req.read_snapshot,
        sn.c.txn_id == req.txn_id,
    )
    try:
        row = catalog.read(lambda conn: conn.execute(q).first())
    except CATALOG_ERRORS as e:
        raise OperationalError(
            "The connection to the catalog was lost while committing, and the catalog cannot "
            f"be reached to tell whether the commit happened (transaction {req.txn_id}): look "
            "it up in INFORMATION_SCHEMA.SNAPSHOTS (transaction_id) before retrying."
        ) from e
    return None if row is None else Snapshot(int(row[0]), int(row[1]), int(row[2]))


def _start(catalog: Catalog, conn: Connection, tenant: str, req: CommitRequest) -> CommitStart:
    """Take the tenant's lock, then read its latest snapshot, the clock and the row ids the
    new files need: in one round trip where the backend can, else one step at a time."""
    needs = {
        tid: n
        for tid, delta in req.deltas.items()
        if (n := sum(f.row_count for f in delta.added if f.first_row_id is None))
    }
    backend = backend_of(conn)
    started = backend.start_commit(conn, tenant, LATEST, needs, catalog.db_clock)
    if started is not None:
        catalog.saw_committed(tenant, started.latest.snapshot_id)
        return started
    backend.lock_tenant(conn, tenant)  # taken first: what follows sees every earlier commit
    latest = catalog.latest_snapshot(tenant, conn)
    clock = backend.clock_us(conn) if catalog.db_clock else None
    first = {tid: Catalog.take_row_ids(conn, tenant, tid, n) for tid, n in needs.items()}
    return CommitStart(latest, clock, first)


def _commit(catalog: Catalog, tenant: str, req: CommitRequest) -> Snapshot:
    step = catalog.on_step
    if step is not None:
        step("commit.begin")  # the transaction's files are written; the catalog is untouched
    # write="commit": the backend may send BEGIN with the commit's first statements
    with catalog.engine.connect().execution_options(write="commit") as conn, conn.begin():
        start = _start(catalog, conn, tenant, req)
        latest = start.latest
        snap_id = latest.snapshot_id + 1
        applier = _Apply(conn, tenant, req, snap_id, start)
        if latest.snapshot_id > req.read_snapshot:
            applier.validate()
        # strictly increasing per tenant, whatever the clocks of the nodes say
        now = req.now_us if start.clock_us is None else start.clock_us
        commit_us = max(now, latest.commit_time_us + 1)
        ddl_changed = applier.apply_namespace()
        file_stats = applier.apply_files()
        if req.operation in MAINTENANCE_OPERATIONS:  # rows moved, none inserted or deleted
            file_stats = {tid: (0, 0, b) for tid, (_, _, b) in file_stats.items()}
        schema_snapshot = snap_id if req.base_ns != req.new_ns else latest.schema_snapshot
        total_added = sum(a for a, _, _ in file_stats.values())
        total_removed = sum(r for _, r, _ in file_stats.values())
        w = applier.w
        w.insert(
            s.snapshots,
            [
                {
                    "tenant_id": tenant,
                    "snapshot_id": snap_id,
                    "commit_time": commit_us,
                    "schema_snapshot": schema_snapshot,
                    "txn_id": req.txn_id,
                    "query_id": req.query_id,
                    "operation": req.operation,
                    "rows_inserted": total_added,
                    "rows_deleted": total_removed,
                    "bytes_added": sum(b for _, _, b in file_stats.values()),
                }
            ],
        )
        change_rows = []
        for tid in sorted(ddl_changed | set(file_stats)):
            added, removed, _ = file_stats.get(tid, (0, 0, 0))
            change_rows.append(
                {
                    "tenant_id": tenant,
                    "table_id": tid,
                    "snapshot_id": snap_id,
                    "ddl": tid in ddl_changed,
                    "operation": req.table_ops.get(tid, req.operation),
                    "rows_added": added,
                    "rows_removed": removed,
                }
            )
        w.insert(s.table_changes, change_rows)
        w.insert(s.statements, [dict(r, produced_snapshot=snap_id) for r in req.statements])
        if req.explicit:  # earlier statements of the transaction were logged already
            w.execute(
                update(s.statements)
                .where(s.statements.c.tenant_id == tenant, s.statements.c.txn_id == req.txn_id)
                .values(produced_snapshot=snap_id)
            )
        _write_access(w, tenant, req, snap_id)
        # the COMMIT goes with the writes, unless the crash tests stop between the two
        w.finish(commit=step is None)
        if step is not None:
            step("commit.write")  # every catalog row is written, the transaction not committed
    return Snapshot(snap_id, commit_us, schema_snapshot)


def _write_access(w: Writes, tenant: str, req: CommitRequest, snap_id: int) -> None:
    """Lineage rows of the committing statement; writes get the snapshot they produced."""
    if req.access:
        rows = [dict(r, snapshot_id=snap_id) if r["access"] == "WRITE" else r for r in req.access]
        w.insert(s.access, rows)
    if req.explicit:  # writes of earlier statements of the transaction, logged without one
        st, a = s.statements, s.access
        mine = select(st.c.query_id).where(st.c.tenant_id == tenant, st.c.txn_id == req.txn_id)
        w.execute(
            update(a)
            .where(
                a.c.tenant_id == tenant,
                a.c.access == "WRITE",
                a.c.snapshot_id.is_(None),
                a.c.query_id.in_(mine),
            )
            .values(snapshot_id=snap_id)
        )
