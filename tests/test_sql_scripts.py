"""One test per SQL script under tests/sql (format: tests/sqllogic/README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqllogic.runner import ScriptFailure, iter_scripts, run_script

SQL_DIR = Path(__file__).parent / "sql"
SCRIPTS = list(iter_scripts(SQL_DIR))


@pytest.mark.parametrize(
    "script", SCRIPTS, ids=[p.relative_to(SQL_DIR).as_posix() for p in SCRIPTS]
)
def test_sql_script(script: Path, tmp_path: Path) -> None:
    shown = script.relative_to(SQL_DIR.parent.parent).as_posix()
    try:
        run_script(script, tmp_path / "lake", display_path=shown)
    except ScriptFailure as failure:
        pytest.fail(str(failure), pytrace=False)
