"""The SQL scripts of the features whose files matter, run on a lake whose storage is S3
(SeaweedFS) while its catalog stays SQLite: the same expected results as on local files."""

from __future__ import annotations

import functools
import uuid
from pathlib import Path
from typing import Any

import pytest
from services.s3 import S3Server
from sqllogic.runner import Backend, run_script

import chronolake

SCRIPTS = Path(__file__).parent.parent / "sql"
FEATURES = ("time_travel", "changes", "clone", "dml", "undrop", "restore", "storage", "sandbox")


def _scripts() -> list[Path]:
    return sorted(p for f in FEATURES for p in (SCRIPTS / f).rglob("*.test"))


def _connect(storage: str, options: dict[str, str], path: str, **kwargs: Any) -> Any:
    """A connection whose catalog is SQLite in ``path`` and whose files are on S3."""
    catalog = f"sqlite:///{Path(path) / 'catalog.sqlite'}"
    Path(path).mkdir(parents=True, exist_ok=True)
    return chronolake.connect(catalog, storage, storage_options=options, **kwargs)


@pytest.mark.parametrize("script", _scripts(), ids=lambda p: str(p.relative_to(SCRIPTS)))
def test_sql_script_on_s3(
    script: Path, tmp_path: Path, s3_server: S3Server, s3_bucket: str
) -> None:
    storage = f"s3://{s3_bucket}/{uuid.uuid4().hex[:8]}"
    backend = Backend(
        connect=functools.partial(_connect, storage, s3_server.options),
        error=chronolake.Error,
        errors=chronolake,
    )
    shown = str(script.relative_to(SCRIPTS.parent.parent))
    run_script(script, tmp_path / "catalog", backend, display_path=shown)
