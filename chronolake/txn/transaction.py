"""A transaction: a read snapshot, plus the namespace and file lists it has changed.

Statements inside it read the snapshot plus their own writes; nothing reaches the catalog
before commit. Each statement works on a savepoint so that a failing statement leaves the
transaction as it was before it.
"""

from __future__ import annotations

import uuid
from collections.abc import Hashable
from dataclasses import dataclass, replace

from chronolake.catalog.base import Catalog
from chronolake.catalog.commit import CommitRequest
from chronolake.catalog.model import DataFile, Namespace, Snapshot, TableDelta, TableInfo
from chronolake.io.file_io import FileIO


@dataclass(frozen=True)
class _State:
    ns: Namespace
    deltas: dict[int, TableDelta]
    ops: dict[int, str]
    written: tuple[str, ...]
    operation: str | None


class Transaction:
    def __init__(self, catalog: Catalog, tenant: str, read: Snapshot, explicit: bool) -> None:
        self.catalog = catalog
        self.tenant = tenant
        self.read = read
        self.explicit = explicit
        self.txn_id = uuid.uuid4().hex
        self.base_ns = catalog.namespace(tenant, read)
        self.ns = self.base_ns
        self.deltas: dict[int, TableDelta] = {}
        self.ops: dict[int, str] = {}
        self.written: tuple[str, ...] = ()  # files this transaction wrote (relative paths)
        self.operation: str | None = None
        self._version = 0
        self._committed: dict[int, tuple[int, tuple[DataFile, ...]]] = {}
        # dropped before the read snapshot and brought back (UNDROP): committed files exist
        self.revived: set[int] = set()

    # -- state ----------------------------------------------------------------------------

    def savepoint(self) -> _State:
        return _State(self.ns, dict(self.deltas), dict(self.ops), self.written, self.operation)

    def restore(self, sp: _State, io: FileIO) -> None:
        """Undo a failed statement, deleting the files only it wrote."""
        for rel in self.written[len(sp.written) :]:
            io.delete(rel)
        self.ns, self.deltas, self.ops = sp.ns, sp.deltas, sp.ops
        self.written, self.operation = sp.written, sp.operation
        self._version += 1

    @property
    def changed(self) -> bool:
        return self.ns != self.base_ns or bool(self.deltas)

    def note(self, operation: str) -> None:
        self.operation = self.operation or operation

    def set_namespace(self, ns: Namespace, operation: str) -> None:
        self.ns = ns
        self.note(operation)

    def set_table(self, table: TableInfo, operation: str) -> None:
        ns = self.ns.copy()
        ns.tables[table.table_id] = table
        self.set_namespace(ns, operation)
        self.ops[table.table_id] = operation

    # -- files ----------------------------------------------------------------------------

    def committed_state(self, table_id: int) -> tuple[int, tuple[DataFile, ...]]:
        """(version, files) of a table at the read snapshot; fixed for the transaction."""
        if table_id not in self.base_ns.tables and table_id not in self.revived:
            return 0, ()
        found = self._committed.get(table_id)
        if found is None:
            found = self.catalog.table_state(self.tenant, table_id, self.read.snapshot_id)
            self._committed[table_id] = found
        return found

    def committed_files(self, table_id: int) -> tuple[DataFile, ...]:
        return self.committed_state(table_id)[1]

    def table_files(self, table_id: int) -> tuple[DataFile, ...]:
        """The table's files as this transaction sees them (read snapshot + own writes)."""
        delta = self.deltas.get(table_id)
        if delta is None:
            return self.committed_files(table_id)
        new = table_id not in self.base_ns.tables and table_id not in self.revived
        if not delta.replaced and not delta.removed and new:
            return delta.added
        return delta.apply(self.committed_files(table_id))

    def _touch(self, table_id: int, delta: TableDelta, operation: str) -> None:
        self.deltas[table_id] = delta
        self.ops[table_id] = operation
        self._version += 1
        self.note(operation)

    def add_files(self, table_id: int, files: tuple[DataFile, ...], operation: str) -> None:
        """Appends need no file list: they never conflict and never read what is there."""
        delta = self.deltas.get(table_id, TableDelta())
        self._touch(table_id, replace(delta, added=delta.added + files), operation)

    def replace_files(self, table_id: int, files: list[DataFile], operation: str) -> None:
        """Swap in new versions (new delete files) of existing files."""
        delta = self.deltas.get(table_id, TableDelta())
        by_id = {f.file_id: f for f in files}
        added = tuple(by_id.pop(f.file_id, f) for f in delta.added)
        replaced = {old.file_id: (old, new) for old, new in delta.replaced}
        for f in self.committed_files(table_id):
            if f.file_id in by_id:
                old = replaced.get(f.file_id, (f, f))[0]
                replaced[f.file_id] = (old, by_id.pop(f.file_id))
        delta = replace(delta, added=added, replaced=tuple(replaced.values()))
        self._touch(table_id, delta, operation)

    def remove_files(self, table_id: int, file_ids: set[int], operation: str) -> None:
        """Make some files invisible (files this transaction added are simply dropped)."""
        delta = self.deltas.get(table_id, TableDelta())
        added = tuple(f for f in delta.added if f.file_id not in file_ids)
        gone = [f for f in self.committed_files(table_id) if f.file_id in file_ids]
        replaced = tuple((o, n) for o, n in delta.replaced if o.file_id not in file_ids)
        removed = delta.removed + tuple(gone)
        self._touch(table_id, TableDelta(added, replaced, removed), operation)

    def remove_all(self, table_id: int, operation: str) -> None:
        """Make every file of the table invisible (TRUNCATE, INSERT OVERWRITE)."""
        committed = self.committed_files(table_id)
        self._touch(table_id, TableDelta(removed=committed), operation)

    def add_written(self, paths: list[str]) -> None:
        self.written = self.written + tuple(paths)

    def view_key(self, table: TableInfo) -> Hashable:
        """Identifies a table state for the view cache."""
        if table.table_id in self.deltas or table.table_id not in self.base_ns.tables:
            return ("txn", self.txn_id, self._version, table.table_id, table.columns)
        return ("c", table.table_id, self.committed_state(table.table_id)[0], table.columns)

    def ensure_row_ids(self, table_id: int) -> None:
        """Give this transaction's new files their row ids now (an UPDATE must keep them)."""
        delta = self.deltas.get(table_id)
        if delta is None or all(f.first_row_id is not None for f in delta.added):
            return
        out = []
        for f in delta.added:
            if f.first_row_id is None:
                first = self.catalog.allocate_row_ids(self.tenant, table_id, f.row_count)
                f = replace(f, first_row_id=first)
            out.append(f)
        self._touch(table_id, replace(delta, added=tuple(out)), self.ops.get(table_id, "INSERT"))

    # -- commit ---------------------------------------------------------------------------

    def commit_request(self, query_id: str, now_us: int) -> CommitRequest:
        return CommitRequest(
            txn_id=self.txn_id,
            query_id=query_id,
            operation=self.operation or "NONE",
            read_snapshot=self.read.snapshot_id,
            now_us=now_us,
            base_ns=self.base_ns,
            new_ns=self.ns,
            deltas=dict(self.deltas),
            explicit=self.explicit,
            table_ops=dict(self.ops),
        )

    def discard_files(self, io: FileIO) -> None:
        """Remove files only this (rolled back) transaction wrote: they are nobody's."""
        for rel in self.written:
            io.delete(rel)
        self.written = ()
