"""Automatic maintenance: the policy picks tables, runs are recorded, a task repeats them."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from child_events import SAFETY_TIMEOUT_S

import chronolake
from chronolake.maintenance import (
    MaintenancePolicy,
    MaintenanceTask,
    maintenance_runs,
    purge_steps,
    run_maintenance,
    tables_to_compact,
)

POLICY = MaintenancePolicy(small_file_count=5, min_age_s=0.0, interval_s=0.05)


def _many_small_files(lake: Path) -> chronolake.Connection:
    con = chronolake.connect(lake)
    con.execute("CREATE TABLE small (id INT)")
    con.execute("CREATE TABLE quiet (id INT)")
    con.execute("INSERT INTO quiet VALUES (1)")
    for i in range(6):
        con.execute("INSERT INTO small VALUES (?)", [i])
    return con


def _files(con: chronolake.Connection, table: str) -> int:
    sql = "SELECT count(*) FROM INFORMATION_SCHEMA.TABLES WHERE table_name = ?"
    assert con.execute(sql, [table]).fetchone() == (1,)
    s = con._session
    ns = s.catalog.namespace(s.tenant, s.catalog.latest_snapshot(s.tenant))
    (t,) = [t for t in ns.tables.values() if t.name == table]
    return len(
        s.catalog.table_files(s.tenant, t.table_id, s.catalog.latest_snapshot(s.tenant).snapshot_id)
    )


def test_policy_picks_tables_with_many_small_files(tmp_path: Path) -> None:
    con = _many_small_files(tmp_path)
    assert tables_to_compact(con, POLICY) == ['"MAIN"."PUBLIC"."SMALL"']
    con.execute("DELETE FROM quiet")  # every row deleted: over the deleted-ratio threshold
    assert sorted(tables_to_compact(con, POLICY)) == [
        '"MAIN"."PUBLIC"."QUIET"',
        '"MAIN"."PUBLIC"."SMALL"',
    ]


def test_a_dry_run_changes_nothing_but_is_recorded(tmp_path: Path) -> None:
    con = _many_small_files(tmp_path)
    before = _files(con, "SMALL")
    run = run_maintenance(con, POLICY, dry_run=True)
    assert run.dry_run and len(run.compactions) == 1
    assert _files(con, "SMALL") == before
    (recorded,) = maintenance_runs(con)
    assert recorded["dry_run"] is True and recorded["run_id"] == run.run_id


def test_a_run_compacts_records_and_sums_its_steps(tmp_path: Path) -> None:
    con = _many_small_files(tmp_path)
    rows = con.execute("SELECT id FROM small ORDER BY id").fetchall()

    def step(c: Any, dry_run: bool) -> dict[str, Any]:
        return {"bytes_reclaimed": 123, "dry_run": dry_run}

    run = run_maintenance(con, POLICY, steps={"cleanup": step})
    assert _files(con, "SMALL") == 1
    assert con.execute("SELECT id FROM small ORDER BY id").fetchall() == rows
    assert run.bytes_reclaimed == 123
    (recorded,) = maintenance_runs(con)
    assert recorded["bytes_reclaimed"] == 123
    assert recorded["summary"]["steps"]["cleanup"]["dry_run"] is False
    assert recorded["summary"]["compactions"][0]["files_in"] == 6
    assert recorded["seconds"] >= 0


def test_the_background_task_runs_until_stopped(tmp_path: Path) -> None:
    _many_small_files(tmp_path).close()
    third_run = threading.Event()
    starts: list[bool] = []

    def count(con: Any, dry_run: bool) -> dict[str, Any]:
        starts.append(dry_run)
        if len(starts) == 3:  # two runs are complete (and appended) once the third begins
            third_run.set()
        return {}

    task = MaintenanceTask(tmp_path, policy=POLICY, steps={**purge_steps(), "count": count})
    task.start()
    reached = third_run.wait(SAFETY_TIMEOUT_S)
    task.stop(timeout=SAFETY_TIMEOUT_S)
    assert task.errors == []
    assert reached, f"the task did not start a third run within {SAFETY_TIMEOUT_S}s"
    assert len(task.runs) >= 2
    with chronolake.connect(tmp_path) as con:
        assert len(maintenance_runs(con)) == len(task.runs)
        assert _files(con, "SMALL") == 1
