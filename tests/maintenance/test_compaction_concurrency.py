"""Compaction gives way to users' writes, never the reverse (docs/design.md, Maintenance).

* a user's write that commits between the compaction's read and its commit makes the
  compaction retry on a fresh snapshot (or give up), and the user's write stands;
* the files a losing attempt wrote are removed at once, and nothing is ever deleted from
  storage otherwise;
* a writer thread incrementing counters while compactions run in a loop loses no increment;
* the reverse order (compaction first, then a transaction that read older files) is the known
  limit: an autocommitted statement is re-run on its own, an explicit transaction gets a
  retryable ConflictError; recently changed files are left alone to make this rare.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from child_events import SAFETY_TIMEOUT_S
from lake_forms import LakeSpec
from sqlalchemy import text

import chronolake
from chronolake.maintenance import compact_table, compaction


def _stored(lake: LakeSpec) -> set[str]:
    """The tenant's files in storage (a folder, or an S3 prefix)."""
    return set(lake.list_files())


@pytest.fixture
def lake(lake_spec: LakeSpec) -> LakeSpec:
    """A new lake, embedded and shared (PostgreSQL + S3) in turn (lake_forms.py)."""
    return lake_spec


def _referenced(con: Any) -> set[str]:
    sql = text("SELECT path FROM cl_data_files UNION SELECT path FROM cl_delete_files")
    with con.session.catalog.engine.connect() as c:
        return {r[0] for r in c.execute(sql)}


def _setup(lake: LakeSpec, **kw: Any) -> Any:
    con = lake.connect(**kw)
    con.execute("CREATE TABLE c (k INT, val INT)")
    for k in range(4):
        con.execute("INSERT INTO c VALUES (?, 0)", [k])
    return con


def test_compaction_retries_when_a_writer_wins(lake: LakeSpec, monkeypatch: Any) -> None:
    con = _setup(lake)
    other = lake.connect()
    real = compaction._write
    calls = []

    def interfering(*args: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:  # a user's UPDATE commits after the compaction's read snapshot
            other.execute("UPDATE c SET val = val + 1 WHERE k = 2")
        return real(*args)

    monkeypatch.setattr(compaction, "_write", interfering)
    report = compact_table(con, "c", min_age_s=0)
    assert report.attempts == 2 and not report.gave_up and report.snapshot_id is not None
    assert report.files_in == 5  # four inserts and the update's image
    assert con.execute("SELECT k, val FROM c ORDER BY k").fetchall() == [
        (0, 0),
        (1, 0),
        (2, 1),
        (3, 0),
    ]
    assert [r["operation"] for r in con.table_history("c")][-2:] == ["UPDATE", "COMPACT"]
    # the losing attempt's files are gone; everything else is referenced
    assert _stored(lake) == _referenced(con)
    other.close()
    con.close()


def test_compaction_gives_up_and_leaves_nothing(lake: LakeSpec, monkeypatch: Any) -> None:
    con = _setup(lake)
    other = lake.connect()
    real = compaction._write

    def interfering(*args: Any) -> Any:
        other.execute("UPDATE c SET val = val + 1 WHERE k = 1")
        return real(*args)

    monkeypatch.setattr(compaction, "_write", interfering)
    report = compact_table(con, "c", min_age_s=0, retries=2)
    assert report.gave_up and report.attempts == 3 and report.snapshot_id is None
    assert "gave up" in report.message
    assert con.execute("SELECT val FROM c WHERE k = 1").fetchone() == (3,)
    assert "COMPACT" not in [r["operation"] for r in con.table_history("c")]
    assert _stored(lake) == _referenced(con)
    other.close()
    con.close()


def test_dry_run_writes_nothing(lake: LakeSpec) -> None:
    con = _setup(lake)
    files = _stored(lake)
    history = con.table_history("c")
    report = con.compact_table("c", min_age_s=0, dry_run=True)
    assert report.dry_run and report.files_in == 4 and report.rows == 4
    assert report.snapshot_id is None
    assert _stored(lake) == files and con.table_history("c") == history


def test_recent_files_are_left_alone(lake: LakeSpec) -> None:
    now = [dt.datetime(2025, 1, 1, tzinfo=dt.UTC)]

    def clock() -> dt.datetime:
        now[0] += dt.timedelta(milliseconds=1)
        return now[0]

    con = _setup(lake, clock=clock)
    report = compact_table(con, "c")  # default min_age_s: everything was just written
    assert report.snapshot_id is None and report.skipped_recent == 4
    now[0] += dt.timedelta(minutes=5)
    con.execute("UPDATE c SET val = 7 WHERE k = 0")  # recent again: its delete file is new
    report = compact_table(con, "c")
    assert report.skipped_recent == 2  # the file of k = 0 and the update's image
    assert report.files_in == 3 and report.snapshot_id is not None
    assert con.execute("SELECT sum(val), count(*) FROM c").fetchone() == (7, 4)


def test_explicit_transaction_across_a_compaction(lake: LakeSpec) -> None:
    """The known limit: the transaction read files the compaction replaced."""
    con = _setup(lake)
    user = lake.connect()
    user.execute("BEGIN")
    user.execute("UPDATE c SET val = 5 WHERE k = 3")
    assert compact_table(con, "c", min_age_s=0).snapshot_id is not None
    with pytest.raises(chronolake.ConflictError) as err:
        user.execute("COMMIT")
    assert err.value.retryable
    # an autocommitted statement that hits the same race is re-run on a fresh snapshot
    user.execute("UPDATE c SET val = 5 WHERE k = 3")
    assert con.execute("SELECT val FROM c WHERE k = 3").fetchone() == (5,)
    user.close()
    con.close()


def test_writer_thread_loses_nothing(lake: LakeSpec) -> None:
    """A writer thread and a compaction loop run at once; half way, the writer waits until a
    compaction committed, so the two surely interleave however the threads are scheduled."""
    con = _setup(lake)
    n_ops = 60
    errors: list[BaseException] = []
    done = threading.Event()
    compacted = threading.Event()

    def writer() -> None:
        w = lake.connect(settings=chronolake.Settings(autocommit_retries=50))
        try:
            for i in range(n_ops):
                if i == n_ops // 2 and not compacted.wait(SAFETY_TIMEOUT_S):
                    raise AssertionError(f"no compaction committed in {SAFETY_TIMEOUT_S}s")
                if i % 5 == 4:
                    w.execute("INSERT INTO c VALUES (?, 1)", [100 + i])
                else:
                    w.execute("UPDATE c SET val = val + 1 WHERE k = ?", [i % 4])
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)
        finally:
            w.close()
            done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    reports = []
    while not done.is_set():
        report = compact_table(con, "c", min_age_s=0, retries=5)
        reports.append(report)
        if report.snapshot_id is not None:
            compacted.set()
    thread.join()
    assert not errors, errors
    assert compacted.is_set()  # at least one compaction committed while the writer ran
    reports.append(compact_table(con, "c", min_age_s=0))
    increments = [i % 4 for i in range(n_ops) if i % 5 != 4]
    expected = [(k, increments.count(k)) for k in range(4)]
    assert con.execute("SELECT k, val FROM c WHERE k < 4 ORDER BY k").fetchall() == expected
    assert con.execute("SELECT count(*) FROM c WHERE k >= 100").fetchone() == (n_ops // 5,)
    # every value every snapshot shows is still readable, and nothing was deleted from disk
    assert _referenced(con) <= _stored(lake)
    con.close()
