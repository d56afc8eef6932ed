"""A transaction: a read snapshot, plus the namespace and file lists it has changed.

Statements inside it read the snapshot plus their own writes; nothing reaches the catalog
before commit. Each statement works on a savepoint so that a failing statement leaves the
transaction as it was before it.
"""

from __future__ import annotations

import uuid
from collections.abc import Hashable
from dataclasses import dataclass, replace
from pathlib import Path

from chronolake.catalog.base import Catalog
from chronolake.catalog.commit import CommitRequest
from chronolake.catalog.model import DataFile, Namespace, Snapshot, TableInfo


@dataclass(frozen=True)
class _State:
    ns: Namespace
    files: dict[int, tuple[DataFile, ...]]
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
        self.files: dict[int, tuple[DataFile, ...]] = {}
        self.ops: dict[int, str] = {}
        self.written: tuple[str, ...] = ()  # files this transaction wrote (relative paths)
        self.operation: str | None = None
        self._version = 0
        self._committed: dict[int, tuple[int, tuple[DataFile, ...]]] = {}

    # -- state ----------------------------------------------------------------------------

    def savepoint(self) -> _State:
        return _State(self.ns, dict(self.files), dict(self.ops), self.written, self.operation)

    def restore(self, sp: _State) -> None:
        self.ns, self.files, self.ops = sp.ns, sp.files, sp.ops
        self.written, self.operation = sp.written, sp.operation
        self._version += 1

    @property
    def changed(self) -> bool:
        return self.ns != self.base_ns or bool(self.files)

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
        if table_id not in self.base_ns.tables:
            return 0, ()
        found = self._committed.get(table_id)
        if found is None:
            found = self.catalog.table_state(self.tenant, table_id, self.read.snapshot_id)
            self._committed[table_id] = found
        return found

    def committed_files(self, table_id: int) -> tuple[DataFile, ...]:
        return self.committed_state(table_id)[1]

    def table_files(self, table_id: int) -> tuple[DataFile, ...]:
        found = self.files.get(table_id)
        return found if found is not None else self.committed_files(table_id)

    def set_files(self, table_id: int, files: tuple[DataFile, ...], operation: str) -> None:
        self.files[table_id] = files
        self.ops[table_id] = operation
        self._version += 1
        self.note(operation)

    def add_written(self, paths: list[str]) -> None:
        self.written = self.written + tuple(paths)

    def view_key(self, table: TableInfo) -> Hashable:
        """Identifies a table state for the view cache."""
        if table.table_id in self.files or table.table_id not in self.base_ns.tables:
            return ("txn", self.txn_id, self._version, table.table_id, table.columns)
        return ("c", table.table_id, self.committed_state(table.table_id)[0], table.columns)

    def ensure_row_ids(self, table_id: int) -> None:
        """Give this transaction's new files their row ids now (an UPDATE must keep them)."""
        files = self.table_files(table_id)
        if all(f.first_row_id is not None for f in files):
            return
        out = []
        for f in files:
            if f.first_row_id is None:
                first = self.catalog.allocate_row_ids(self.tenant, table_id, f.row_count)
                f = replace(f, first_row_id=first)
            out.append(f)
        self.set_files(table_id, tuple(out), self.ops.get(table_id, "INSERT"))

    # -- commit ---------------------------------------------------------------------------

    def commit_request(self, query_id: str, now_us: int) -> CommitRequest:
        base_files = {tid: self.committed_files(tid) for tid in self.files}
        return CommitRequest(
            txn_id=self.txn_id,
            query_id=query_id,
            operation=self.operation or "NONE",
            read_snapshot=self.read.snapshot_id,
            now_us=now_us,
            base_ns=self.base_ns,
            new_ns=self.ns,
            base_files=base_files,
            new_files=dict(self.files),
            table_ops=dict(self.ops),
        )

    def discard_files(self, root: Path) -> None:
        """Remove files only this (rolled back) transaction wrote: they are nobody's."""
        for rel in self.written:
            try:
                (root / rel).unlink()
            except FileNotFoundError:
                pass
        self.written = ()
