"""Automatic maintenance: the policy picks tables, runs are recorded, a task repeats them on
a lake of either form (or an embedded lake's folder)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from child_events import SAFETY_TIMEOUT_S
from lake_forms import LakeSpec

import chronolake
from chronolake.maintenance import (
    MaintenancePolicy,
    MaintenanceTask,
    expire,
    maintenance_runs,
    purge_steps,
    run_maintenance,
    tables_to_compact,
)

POLICY = MaintenancePolicy(small_file_count=5, min_age_s=0.0, interval_s=0.05)


def _many_small_files(con: chronolake.Connection) -> chronolake.Connection:
    con.execute("CREATE TABLE small (id INT)")
    con.execute("CREATE TABLE quiet (id INT)")
    con.execute("INSERT INTO quiet VALUES (1)")
    for i in range(6):
        con.execute("INSERT INTO small VALUES (?)", [i])
    return con


def _files(con: chronolake.Connection, table: str) -> int:
    sql = "SELECT count(*) FROM INFORMATION_SCHEMA.TABLES WHERE table_name = ?"
    assert con.execute(sql, [table]).fetchone() == (1,)
    s = con.session
    ns = s.catalog.namespace(s.tenant, s.catalog.latest_snapshot(s.tenant))
    (t,) = [t for t in ns.tables.values() if t.name == table]
    return len(
        s.catalog.table_files(s.tenant, t.table_id, s.catalog.latest_snapshot(s.tenant).snapshot_id)
    )


def test_policy_picks_tables_with_many_small_files(tmp_path: Path) -> None:
    con = _many_small_files(chronolake.connect(tmp_path))
    assert tables_to_compact(con, POLICY) == ['"MAIN"."PUBLIC"."SMALL"']
    con.execute("DELETE FROM quiet")  # every row deleted: over the deleted-ratio threshold
    assert sorted(tables_to_compact(con, POLICY)) == [
        '"MAIN"."PUBLIC"."QUIET"',
        '"MAIN"."PUBLIC"."SMALL"',
    ]


def test_a_dry_run_changes_nothing_but_is_recorded(tmp_path: Path) -> None:
    con = _many_small_files(chronolake.connect(tmp_path))
    before = _files(con, "SMALL")
    run = run_maintenance(con, POLICY, dry_run=True)
    assert run.dry_run and len(run.compactions) == 1
    assert _files(con, "SMALL") == before
    (recorded,) = maintenance_runs(con)
    assert recorded["dry_run"] is True and recorded["run_id"] == run.run_id


def test_a_run_compacts_records_and_sums_its_steps(lake_spec: LakeSpec) -> None:
    con = _many_small_files(lake_spec.connect())
    rows = con.execute("SELECT id FROM small ORDER BY id").fetchall()
    given: list[Any] = []

    def step(c: Any, dry_run: bool) -> dict[str, Any]:
        given.append(c)
        return {"bytes_reclaimed": 123, "dry_run": dry_run}

    before = set(lake_spec.list_files())
    run = run_maintenance(con, POLICY, steps={"cleanup": step})
    assert given == [con]  # a step gets what the run was given
    assert _files(con, "SMALL") == 1
    assert set(lake_spec.list_files()) - before  # the merged file was written to storage
    assert con.execute("SELECT id FROM small ORDER BY id").fetchall() == rows
    assert run.bytes_reclaimed == 123
    (recorded,) = maintenance_runs(con)
    assert recorded["bytes_reclaimed"] == 123
    assert recorded["summary"]["steps"]["cleanup"]["dry_run"] is False
    assert recorded["summary"]["compactions"][0]["files_in"] == 6
    assert recorded["seconds"] >= 0
    con.close()


def test_maintenance_takes_a_session_and_refuses_anything_else(tmp_path: Path) -> None:
    con = _many_small_files(chronolake.connect(tmp_path))
    run = run_maintenance(con.session, POLICY, steps=purge_steps())
    assert [c["files_in"] for c in run.compactions] == [6]
    assert [r["run_id"] for r in maintenance_runs(con.session)] == [run.run_id]
    with pytest.raises(chronolake.ProgrammingError, match="runs on a connection"):
        expire(str(tmp_path))  # type: ignore[arg-type]
    con.close()
    with pytest.raises(chronolake.InterfaceError, match="closed"):
        expire(con)


def test_the_background_task_runs_until_stopped(lake_spec: LakeSpec) -> None:
    with lake_spec.connect() as con:
        _many_small_files(con)
    third_run = threading.Event()
    starts: list[bool] = []

    def count(con: Any, dry_run: bool) -> dict[str, Any]:
        starts.append(dry_run)
        if len(starts) == 3:  # two runs are complete (and appended) once the third begins
            third_run.set()
        return {}

    with lake_spec.lake() as lake:  # the task only borrows the lake: it stays open
        task = MaintenanceTask(lake, policy=POLICY, steps={**purge_steps(), "count": count})
        task.start()
        reached = third_run.wait(SAFETY_TIMEOUT_S)
        task.stop(timeout=SAFETY_TIMEOUT_S)
        assert task.errors == []
        assert reached, f"the task did not start a third run within {SAFETY_TIMEOUT_S}s"
        assert len(task.runs) >= 2
        with lake.connect() as con:
            assert len(maintenance_runs(con)) == len(task.runs)
            assert _files(con, "SMALL") == 1


def test_a_task_given_a_folder_opens_it_for_each_run(tmp_path: Path) -> None:
    with chronolake.connect(tmp_path, tenant="acme") as con:
        _many_small_files(con)
    task = MaintenanceTask(tmp_path, tenant="acme", policy=POLICY)
    assert task.path == tmp_path and task.lake is None
    first, second = task.run_once(), task.run_once()
    assert [c["files_in"] for c in first.compactions] == [6] and second.compactions == []
    assert set(first.steps) == {"expire", "cleanup", "orphans"}
    with chronolake.connect(tmp_path, tenant="acme") as con:
        runs = maintenance_runs(con)
        assert [r["run_id"] for r in runs] == [second.run_id, first.run_id]
    with chronolake.connect(tmp_path) as con:  # another tenant: nothing recorded there
        assert maintenance_runs(con) == []
