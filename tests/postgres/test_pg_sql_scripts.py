"""The SQL scripts of tests/sql, run on a PostgreSQL catalog (data files stay local)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqllogic.runner import Backend, ScriptFailure, iter_scripts, run_script

import chronolake

SQL_DIR = Path(__file__).parent.parent / "sql"
SCRIPTS = list(iter_scripts(SQL_DIR))


@pytest.mark.parametrize(
    "script", SCRIPTS, ids=[p.relative_to(SQL_DIR).as_posix() for p in SCRIPTS]
)
def test_sql_script_on_postgres(script: Path, tmp_path: Path, pg_catalog: str) -> None:
    backend = Backend(
        connect=lambda path, **kw: chronolake.connect(pg_catalog, path, **kw),
        error=chronolake.Error,
        errors=chronolake,
    )
    shown = script.relative_to(SQL_DIR.parent.parent).as_posix()
    try:
        run_script(script, tmp_path / "lake", backend, display_path=shown)
    except ScriptFailure as failure:
        pytest.fail(str(failure), pytrace=False)
