"""One test per SQL script under tests/sql (format: tests/sqllogic/README.md), on each form of
lake (lake_forms.py): embedded (SQLite + local files) and shared (PostgreSQL + S3)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lake_forms import LakeSpec
from sqllogic.runner import Backend, ScriptFailure, iter_scripts, run_script

import chronolake

SQL_DIR = Path(__file__).parent / "sql"
SCRIPTS = list(iter_scripts(SQL_DIR))


@pytest.mark.parametrize(
    "script", SCRIPTS, ids=[p.relative_to(SQL_DIR).as_posix() for p in SCRIPTS]
)
def test_sql_script(script: Path, tmp_path: Path, lake_spec: LakeSpec) -> None:
    def connect(_lake_dir: str, **options: Any) -> chronolake.Connection:
        return lake_spec.connect(**options)  # the spec's folder is the runner's lake dir

    backend = Backend(connect=connect, error=chronolake.Error, errors=chronolake)
    shown = script.relative_to(SQL_DIR.parent.parent).as_posix()
    try:
        run_script(script, tmp_path / "lake", backend, display_path=shown)
    except ScriptFailure as failure:
        pytest.fail(str(failure), pytrace=False)
