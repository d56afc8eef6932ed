"""Orphans of a killed writer (SIGKILLed between writing its files and committing) are removed
by ``remove_orphans``; files the catalog references never are; and the storage steps plug into
``run_maintenance``."""

from __future__ import annotations

import os
import time
from pathlib import Path

from child_events import Child

import chronolake
from chronolake.maintenance import purge_steps, remove_orphans, run_maintenance

CHILD = Path(__file__).with_name("stuck_writer.py")


def _files(root: Path) -> set[str]:
    return {
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and ".tmp" not in p.relative_to(root).parts
    }


def test_killed_writer_orphans_are_removed(tmp_path: Path) -> None:
    with chronolake.connect(tmp_path) as con:
        con.execute("CREATE TABLE t (x INT)")
        con.execute("INSERT INTO t VALUES (-1), (-2)")
        con.execute("DELETE FROM t WHERE x = -2")
        root = con._session.layout.tenant_root(con.tenant)
    committed = _files(root)
    assert committed
    with Child(CHILD, [str(tmp_path)], tmp_path / "stuck_writer.log") as child:
        assert child.next_event() == {"written": True}
        child.kill()
    orphans = _files(root) - committed
    assert orphans  # the killed transaction's data and delete files
    with chronolake.connect(tmp_path) as con:
        assert remove_orphans(con).files == 0  # younger than the default grace
        long_ago = time.time() - 2 * 86_400
        for rel in _files(root):  # referenced files just as old: still never touched
            os.utime(root / rel, (long_ago, long_ago))
        dry = remove_orphans(con, dry_run=True)
        assert set(dry.paths) == orphans and _files(root) == committed | orphans
        report = remove_orphans(con)
        assert set(report.paths) == orphans and report.bytes_reclaimed > 0
        assert _files(root) == committed
        assert con.execute("SELECT x FROM t").fetchall() == [(-1,)]
        run = run_maintenance(con, steps=purge_steps(orphan_grace=0))
        assert set(run.steps) == {"expire", "cleanup", "orphans"}
        assert run.steps["orphans"]["files"] == 0
        assert _files(root) == committed
