"""Compaction: merge a table's small files and rewrite files with many deleted rows.

A compaction is a *maintenance snapshot* (operation ``COMPACT``): it makes some visible files
invisible and adds new files holding exactly their live rows, each with its row id stored
explicitly (``has_row_ids``), so

* every query at every snapshot returns what it returned before: older snapshots keep reading
  the old files, which stay on disk (only retention and cleanup may ever remove them);
* every row keeps its row id, and CHANGES see nothing: DEFAULT matches the old and new copy of
  a row on its id and equal values, and APPEND_ONLY never counts files that store row ids
  (and still reports rows inserted inside its window that a compaction moved since);
* the snapshot's row counts are zero: no row was inserted or deleted.

Concurrency: the heavy part (reading and writing Parquet) runs outside any catalog
transaction, and the commit is the ordinary short one, so writers are never blocked. The
compaction commits in its own transaction from its own read snapshot; when a user's
DELETE/UPDATE/MERGE/TRUNCATE touched one of its input files after that snapshot, the commit's
validation raises ``ConflictError`` and the compaction, never the user, gives way: it deletes
the files it wrote and tries again on a fresh snapshot, a few times, then gives up and says so
in its report.

The reverse order (compaction committed first, then a transaction whose read snapshot is older
deletes from a file the compaction removed) makes that *transaction* fail with a retryable
``ConflictError``. Autocommitted statements are re-run on a fresh snapshot automatically
(``Settings.autocommit_retries``), so they go through; an explicit transaction must be
retried. To make this rare, compaction leaves alone files whose data or delete file changed
less than ``min_age_s`` seconds ago (files being written to now are the ones users are about
to touch again).
"""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass, replace
from typing import Any

from sqlglot import exp

from chronolake.catalog.commit import commit as catalog_commit
from chronolake.catalog.model import DataFile, TableInfo, stored_bytes
from chronolake.catalog.recent_files import files_changed_after
from chronolake.engine.scan import RID_COL
from chronolake.errors import (
    ConflictError,
    InternalError,
    ProgrammingError,
    ReadOnlyError,
    SqlError,
)
from chronolake.maintenance.target import Target, session_of
from chronolake.sql.session import Session, to_us
from chronolake.sql.translate import translated
from chronolake.storage.writer import RID_PHYSICAL, physical_name, write_data_files
from chronolake.txn.transaction import Transaction

COMPACT = "COMPACT"


@dataclass(frozen=True)
class CompactionReport:
    """What a compaction did (or, for a dry run, would do)."""

    table: str
    dry_run: bool
    files_in: int  # files rewritten
    files_out: int  # files written (a dry run: 0, the count is known only when writing)
    rows: int  # live rows rewritten
    deleted_rows_purged: int  # rows hidden by deletes that the new files no longer store
    bytes_in: int  # data and delete files of the rewritten files
    bytes_out: int
    snapshot_id: int | None  # the maintenance snapshot committed (None: nothing committed)
    attempts: int  # 1 + retries after losing a conflict to a concurrent writer
    gave_up: bool  # every attempt lost a conflict: nothing was committed
    skipped_recent: int  # candidate files left alone because they changed recently
    message: str


@dataclass(frozen=True)
class _Plan:
    files: tuple[DataFile, ...]
    skipped_recent: int

    @property
    def rows(self) -> int:
        return sum(f.live_rows for f in self.files)

    @property
    def purged(self) -> int:
        return sum(f.row_count - f.live_rows for f in self.files)

    @property
    def bytes_in(self) -> int:
        return stored_bytes(self.files)


def _resolve(session: Session, name: str, ns: Any) -> TableInfo:
    from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

    from chronolake.sql.binding.names import resolve_table
    from chronolake.sql.grammar.parse import DIALECT

    node = normalize_identifiers(exp.to_table(name, dialect=DIALECT), dialect=DIALECT)
    table = resolve_table(ns, session, node)
    if table.view_sql is not None:
        raise SqlError(f"{table.name} is a view: only tables can be compacted.")
    return table


def _recent(session: Session, files: tuple[DataFile, ...], min_age_s: float) -> set[int]:
    """Ids of files whose data file or current delete file was committed recently."""
    if min_age_s <= 0 or not files:
        return set()
    cutoff_us = to_us(session.now()) - int(min_age_s * 1_000_000)
    old = session.catalog.snapshot_at_time(session.tenant, cutoff_us, inclusive=True)
    del_ids = {x.delete.delete_file_id: x.file_id for x in files if x.delete is not None}
    data, deletes = files_changed_after(
        session.catalog, session.tenant, old, [x.file_id for x in files], list(del_ids)
    )
    return data | {del_ids[d] for d in deletes}


# Small files are merged in size tiers (files under TIER_BASE bytes, then each factor of
# TIER_FACTOR above it): a tier is merged once it holds ``min_files`` files, so a big file is
# never rewritten just to take in a few tiny ones, and each row is rewritten about
# log_8(table size / smallest file) times in all, not once per compaction.
TIER_BASE = 1024 * 1024
TIER_FACTOR = 8


def size_tier(byte_size: int) -> int:
    tier, bound = 0, TIER_BASE
    while byte_size >= bound:
        tier, bound = tier + 1, bound * TIER_FACTOR
    return tier


def plan_files(
    files: tuple[DataFile, ...],
    *,
    min_files: int,
    small_bytes: int,
    max_deleted_ratio: float,
    skip: set[int] | frozenset[int] = frozenset(),
) -> tuple[DataFile, ...]:
    """The files to rewrite: those with a deleted share >= ``max_deleted_ratio`` (always);
    the files under ``small_bytes`` of every size tier holding at least ``min_files`` of
    them; and, when delete-heavy files are being rewritten anyway, the files of the
    smallest tier."""
    pool = [f for f in files if f.file_id not in skip]
    heavy = [
        f
        for f in pool
        if f.delete is not None and f.delete.delete_count >= max_deleted_ratio * f.row_count
    ]
    heavy_ids = {f.file_id for f in heavy}
    tiers: dict[int, list[DataFile]] = {}
    for f in pool:
        if f.file_id not in heavy_ids and f.byte_size < small_bytes:
            tiers.setdefault(size_tier(f.byte_size), []).append(f)
    chosen = list(heavy)
    for tier, members in sorted(tiers.items()):
        if len(members) >= max(min_files, 2) or (heavy and tier == 0):
            chosen += members
    return tuple(chosen)


def _write(
    session: Session, table: TableInfo, txn: Transaction, files: tuple[DataFile, ...], size: int
) -> list[DataFile]:
    """Write the live rows of ``files``, with their row ids, into new files."""
    key = ("compact", txn.txn_id, table.table_id)
    _, rows_view = session.views.views(key, table.columns, files)
    try:
        cols = [
            exp.column(c.name, quoted=True).as_(physical_name(c.column_id)).sql("duckdb")
            for c in table.columns
        ]
        sql = (
            f"SELECT {', '.join([*cols, f'{RID_COL} AS {RID_PHYSICAL}'])} "
            f"FROM {rows_view} ORDER BY {RID_COL}"
        )
        out = write_data_files(
            session.duck,
            session.io,
            table.table_id,
            table.columns,
            sql,
            True,
            replace(session.settings, target_file_size=size),
            None,
            session.engine_dir,
        )
    finally:
        session.views.forget(key)
    txn.add_written([f.path for f in out])
    # the row ids are stored: the file's first row id is never used, so take none from the
    # table's counter
    return [replace(f, first_row_id=0) for f in out]


def _statement_row(
    session: Session, txn: Transaction, table: TableInfo, qid: str, start_us: int, rows: int
) -> dict[str, Any]:
    end_us = max(to_us(session.now()), start_us)
    return {
        "tenant_id": session.tenant,
        "query_id": qid,
        "session_id": session.session_id,
        "user_name": session.settings.user,
        "query_text": f"COMPACT TABLE {exp.to_identifier(table.name).sql('snowflake')}",
        "query_type": COMPACT,
        "database_name": session.database,
        "schema_name": session.schema,
        "start_time": start_us,
        "end_time": end_us,
        "execution_status": "SUCCESS",
        "error_message": None,
        "txn_id": txn.txn_id,
        "read_snapshot": txn.read.snapshot_id,
        "produced_snapshot": None,
        "visible_snapshot": txn.read.snapshot_id,
        "rows_produced": 0,
        "rows_inserted": 0,
        "rows_updated": 0,
        "rows_deleted": 0,
    }


def compact_session(
    session: Session,
    name: str,
    *,
    min_files: int = 2,
    target_file_size: int | None = None,
    max_deleted_ratio: float = 0.2,
    min_age_s: float = 30.0,
    dry_run: bool = False,
    retries: int = 3,
) -> CompactionReport:
    """Compact one table of a session's tenant (see :func:`compact_table`)."""
    if session.txn is not None:
        raise ProgrammingError(
            "Commit or roll back the open transaction before compacting: compaction commits "
            "on its own."
        )
    if min_files < 1 or not 0 < max_deleted_ratio <= 1:
        raise ProgrammingError("compact_table: min_files >= 1 and 0 < max_deleted_ratio <= 1.")
    size = int(target_file_size or session.settings.target_file_size)
    attempts = 0
    while True:
        attempts += 1
        start_us = to_us(session.now())
        txn = session.begin(explicit=False)
        table = _resolve(session, name, txn.base_ns)
        committed = txn.committed_files(table.table_id)
        recent = _recent(session, committed, min_age_s)
        chosen = plan_files(
            committed,
            min_files=min_files,
            small_bytes=size // 2,
            max_deleted_ratio=max_deleted_ratio,
            skip=recent,
        )
        plan = _Plan(chosen, len(recent))
        if dry_run or not chosen:
            what = "would rewrite" if dry_run else "nothing to do:"
            return CompactionReport(
                table.name,
                dry_run,
                len(chosen),
                0,
                plan.rows,
                plan.purged,
                plan.bytes_in,
                0,
                None,
                attempts,
                False,
                plan.skipped_recent,
                f"{what} {len(chosen)} files ({plan.rows} rows)"
                if chosen
                else "nothing to do: no tier of small files to merge and no delete-heavy files",
            )
        try:
            new = _write(session, table, txn, chosen, size)
            if sum(f.row_count for f in new) != plan.rows:  # pragma: no cover - a bug guard
                raise InternalError("compaction wrote another number of rows than it read")
            txn.remove_files(table.table_id, {f.file_id for f in chosen}, COMPACT)
            if new:
                txn.add_files(table.table_id, tuple(new), COMPACT)
            qid = str(uuid.uuid4())
            req = txn.commit_request(qid, to_us(session.now()))
            req.statements.append(_statement_row(session, txn, table, qid, start_us, plan.rows))
            snap = catalog_commit(session.catalog, session.tenant, req)
        except ConflictError as e:
            txn.discard_files(session.io)
            if attempts > retries:
                return CompactionReport(
                    table.name,
                    False,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    None,
                    attempts,
                    True,
                    plan.skipped_recent,
                    f"gave up after {attempts} attempts: concurrent writes kept changing the "
                    f"files ({e})",
                )
            time.sleep(random.uniform(0.0, 0.02 * attempts))
            continue
        except BaseException:
            txn.discard_files(session.io)
            raise
        return CompactionReport(
            table.name,
            False,
            len(chosen),
            len(new),
            plan.rows,
            plan.purged,
            plan.bytes_in,
            sum(f.byte_size for f in new),
            snap.snapshot_id,
            attempts,
            False,
            plan.skipped_recent,
            f"rewrote {len(chosen)} files into {len(new)} ({plan.rows} rows) "
            f"as snapshot {snap.snapshot_id}",
        )


def compact_table(
    con: Target,
    name: str,
    *,
    min_files: int = 2,
    target_file_size: int | None = None,
    max_deleted_ratio: float = 0.2,
    min_age_s: float = 30.0,
    dry_run: bool = False,
    retries: int = 3,
) -> CompactionReport:
    """Compact table ``name`` as one maintenance snapshot (or, ``dry_run``, just say what).

    Rewrites files whose deleted share is at least ``max_deleted_ratio``, and the files
    smaller than half of ``target_file_size`` (default: the connection's
    ``Settings.target_file_size``) of each size tier holding at least ``min_files`` of them
    (:func:`plan_files`), into files of about that size. Files whose data or delete file
    changed less than ``min_age_s`` seconds ago are left alone. Losing a
    conflict to a concurrent writer makes the compaction retry (``retries`` times) and then
    give up, never the writer. Nothing is ever deleted from storage. ``con``: a connection
    or its session.
    """
    session = session_of(con)
    if session.read_only:
        raise ReadOnlyError(
            "This connection is read-only: compaction is not allowed. Connect without "
            "read_only=True to change the lake."
        )
    with translated(session.root):
        return compact_session(
            session,
            name,
            min_files=min_files,
            target_file_size=target_file_size,
            max_deleted_ratio=max_deleted_ratio,
            min_age_s=min_age_s,
            dry_run=dry_run,
            retries=retries,
        )
