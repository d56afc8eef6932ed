"""Orphans of a killed writer (SIGKILLed between writing its files and committing) are removed
by ``remove_orphans``, from a local folder or an S3 prefix; files the catalog references never
are; and the storage steps plug into ``run_maintenance``."""

from __future__ import annotations

import os
import time
from pathlib import Path

from child_events import Child
from lake_forms import LakeSpec

from chronolake.maintenance import purge_steps, remove_orphans, run_maintenance

CHILD = Path(__file__).with_name("stuck_writer.py")


def _age(lake: LakeSpec, seconds: float) -> float | None:
    """Make every stored file ``seconds`` old: the orphan grace to use then. A local folder
    takes the files' mtimes back (the default grace applies); S3 cannot set a modification
    time, so there the grace moves instead: a minute into the future, so that every file is
    old enough whatever the rounding of the server's clock."""
    if lake.form != "local":
        return -60.0
    root = lake.files / "data" / "default"
    long_ago = time.time() - seconds
    for rel in lake.list_files():
        os.utime(root / rel, (long_ago, long_ago))
    return None


def test_killed_writer_orphans_are_removed(lake_spec: LakeSpec, tmp_path: Path) -> None:
    with lake_spec.connect() as con:
        con.execute("CREATE TABLE t (x INT)")
        con.execute("INSERT INTO t VALUES (-1), (-2)")
        con.execute("DELETE FROM t WHERE x = -2")
    committed = set(lake_spec.list_files())
    assert committed
    with Child(CHILD, [lake_spec.to_arg()], tmp_path / "stuck_writer.log") as child:
        assert child.next_event() == {"written": True}
        child.kill()
    orphans = set(lake_spec.list_files()) - committed
    assert orphans  # the killed transaction's data and delete files
    with lake_spec.connect() as con:
        assert remove_orphans(con).files == 0  # younger than the default grace
        grace = _age(lake_spec, 2 * 86_400)  # referenced files just as old: never touched
        dry = remove_orphans(con, grace=grace, dry_run=True)
        assert set(dry.paths) == orphans
        assert set(lake_spec.list_files()) == committed | orphans
        report = remove_orphans(con, grace=grace)
        assert set(report.paths) == orphans and report.bytes_reclaimed > 0
        assert set(lake_spec.list_files()) == committed
        assert con.execute("SELECT x FROM t").fetchall() == [(-1,)]
        run = run_maintenance(con, steps=purge_steps(orphan_grace=0))
        assert set(run.steps) == {"expire", "cleanup", "orphans"}
        assert run.steps["orphans"]["files"] == 0
        assert set(lake_spec.list_files()) == committed
