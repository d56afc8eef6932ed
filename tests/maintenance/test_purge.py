"""Expiry, cleanup and orphan removal (issue 4 part 2; ARCHITECTURE.md invariant 7).

The files cleanup deletes are compared with a brute-force reachability computed in the test
from the catalog (every point time travel can name for every live table, the latest states, and
the tables UNDROP can still bring back), and every query at every reachable point must answer
the same after cleanup."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from lake_forms import LakeSpec
from purge_helpers import Clock, answers, brute_needed, build_history, referenced
from sqlalchemy import text

import chronolake
from chronolake.cli.main import cli
from chronolake.maintenance import (
    cleanup,
    expire,
    maintenance_runs,
    purge,
    purge_steps,
    remove_orphans,
    run_maintenance,
)


def _on_disk(root: Path) -> set[str]:
    return {
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and ".tmp" not in p.relative_to(root).parts
    }


def test_expire_and_cleanup_delete_exactly_the_unreachable_files(lake_spec: LakeSpec) -> None:
    clock = Clock()
    con = lake_spec.connect(clock=clock)
    build_history(con, clock)
    cat = con.session.catalog

    def stored() -> set[str]:
        return set(lake_spec.list_files())

    before_disk = stored()
    refs = referenced(cat, "default")
    assert refs <= before_disk
    now = int(clock.now.timestamp() * 1_000_000)
    expected_gone = refs - brute_needed(cat, "default", now)
    assert expected_gone  # the history really has expired files
    before = answers(con, now)

    dry = expire(con, dry_run=True)
    assert set(dry.paths) == expected_gone and dry.files == len(expected_gone)
    assert cleanup(con, grace=0, dry_run=True).files == 0  # nothing marked yet
    assert stored() == before_disk
    with cat.engine.connect() as c:
        assert c.execute(text("SELECT COUNT(*) FROM cl_expired_files")).scalar() == 0

    report = expire(con)
    assert set(report.paths) == expected_gone
    assert expire(con).files == 0  # marks are recorded once
    # inside the grace period nothing goes
    waiting = cleanup(con)
    assert waiting.files == 0 and waiting.pending == len(expected_gone)
    clock.sleep(1.01)
    later = int(clock.now.timestamp() * 1_000_000)
    # cleanup re-checks reachability; only files marked at expiry are candidates
    dry_clean = cleanup(con, dry_run=True)
    assert set(dry_clean.paths) == expected_gone
    assert stored() == before_disk
    done = cleanup(con)
    assert set(done.paths) == expected_gone
    assert done.bytes_reclaimed > 0
    assert stored() == before_disk - expected_gone
    assert cleanup(con).files == 0
    # every query at every point reachable now still answers the same
    after = answers(con, later)
    assert after == {k: v for k, v in before.items() if k in after}
    assert len(after) > 5
    # the dropped table that is still undroppable comes back whole
    con.execute("UNDROP TABLE recent")
    assert con.execute("SELECT * FROM recent").fetchall() == [(7,)]
    con.close()


def test_raised_retention_takes_marks_back(lake_spec: LakeSpec) -> None:
    clock = Clock()
    con = lake_spec.connect(clock=clock)
    build_history(con, clock)
    marked = expire(con)
    assert marked.files
    con.execute("ALTER ACCOUNT SET DATA_RETENTION_TIME_IN_DAYS = 30")
    clock.sleep(1.01)
    # cleanup itself refuses what is needed again, even before expiry takes the mark back
    report = cleanup(con)
    assert report.files == 0 and report.kept > 0
    assert expire(con).unmarked > 0
    con.close()


def test_orphans_removed_referenced_and_outside_files_never(tmp_path: Path) -> None:
    con = chronolake.connect(tmp_path)
    con.execute("CREATE TABLE t (x INT)")
    con.execute("INSERT INTO t VALUES (1), (2)")
    root = con.session.layout.tenant_root(con.tenant)
    refs = _on_disk(root)
    table_dir = next(root.joinpath("tables").iterdir())
    old_orphan = table_dir / "data-crashed.parquet"
    old_orphan.write_bytes(b"x" * 100)
    new_orphan = table_dir / "data-inflight.parquet"
    new_orphan.write_bytes(b"y")
    outside = tmp_path / "data" / "other" / "tables" / "1" / "data-z.parquet"
    outside.parent.mkdir(parents=True)
    outside.write_bytes(b"z")
    link = table_dir / "link.parquet"
    link.symlink_to(outside)
    long_ago = time.time() - 3 * 86_400
    for p in (old_orphan, outside, *(root / r for r in refs)):
        os.utime(p, (long_ago, long_ago))

    dry = remove_orphans(con, dry_run=True)
    assert dry.paths == (old_orphan.relative_to(root).as_posix(),) and dry.bytes_reclaimed == 100
    assert old_orphan.exists()
    report = remove_orphans(con)
    assert report.files == 1 and report.recent == 1
    assert not old_orphan.exists() and new_orphan.exists() and outside.exists()
    assert link.is_symlink()
    assert _on_disk(root) >= refs
    assert con.execute("SELECT COUNT(*) FROM t").fetchone() == (2,)
    con.close()


def test_cli_maintain(lake_spec: LakeSpec) -> None:
    clock = Clock()
    con = lake_spec.connect(clock=clock)
    build_history(con, clock)
    con.close()
    runner = CliRunner()
    lake = lake_spec.cli_args()
    res = runner.invoke(cli, ["maintain", *lake, "--dry-run", "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["dry_run"] is True
    assert set(out["steps"]) == {"expire", "cleanup", "orphans"}
    # the system clock is years after the fake one: everything but latest states is expired
    assert out["steps"]["expire"]["files"] > 0
    res = runner.invoke(cli, ["maintain", *lake, "--cleanup-grace", "0"])
    assert res.exit_code == 0, res.output
    assert "cleanup" in res.output and "reclaimed" in res.output
    with lake_spec.connect() as con2:
        assert con2.execute("SELECT COUNT(*) FROM a").fetchone()[0] > 0
        exp, cln, _ = purge(con2, dry_run=True)
        assert exp.files == 0 and cln.files == 0
        runs = maintenance_runs(con2)  # both CLI runs are recorded, newest first
        assert [r["dry_run"] for r in runs] == [False, True]
        deleted = set(runs[0]["summary"]["steps"]["cleanup"]["paths"])
        assert deleted and not deleted & set(lake_spec.list_files())  # gone from storage


def test_a_busy_catalog_is_a_clear_error_and_changes_nothing(tmp_path: Path) -> None:
    settings = chronolake.Settings(catalog_busy_timeout_s=0.1)
    con = chronolake.connect(tmp_path, settings=settings)
    con.execute("CREATE TABLE t (id INT) DATA_RETENTION_TIME_IN_DAYS = 0")
    con.execute("INSERT INTO t VALUES (1)")
    con.execute("DROP TABLE t")
    lock = sqlite3.connect(tmp_path / "catalog.sqlite", isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")  # another writer holds the catalog
    with pytest.raises(chronolake.CatalogBusy, match="locked by another writer"):
        expire(con)
    with pytest.raises(chronolake.CatalogBusy):  # the run cannot be recorded either
        run_maintenance(con, steps=purge_steps())
    lock.execute("ROLLBACK")
    lock.close()
    assert expire(con).files == 1  # the failed expiry marked nothing
    assert maintenance_runs(con) == []
    con.close()
