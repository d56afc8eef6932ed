"""CLI: restore, revert and diff on a real lake."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

import chronolake
from chronolake.cli.main import cli


def _lake(tmp_path: Path) -> tuple[Path, str]:
    lake = tmp_path / "lake"
    with chronolake.connect(lake) as con:
        con.execute("CREATE TABLE t (id INT, v VARCHAR)")
        con.execute("INSERT INTO t VALUES (1, 'a'), (2, 'b')")
        bad = con.execute("UPDATE t SET v = 'zap'").query_id
    return lake, bad


def _rows(lake: Path) -> list[tuple[object, ...]]:
    with chronolake.connect(lake) as con:
        return con.execute("SELECT * FROM t ORDER BY id").fetchall()


def test_restore_to_a_version_and_back(tmp_path: Path) -> None:
    lake, _ = _lake(tmp_path)
    result = CliRunner().invoke(cli, ["restore", "t", "--to", "version:2", "--lake", str(lake)])
    assert result.exit_code == 0, result.output
    assert _rows(lake) == [(1, "a"), (2, "b")]
    result = CliRunner().invoke(cli, ["restore", "t", "--to", "3", "--lake", str(lake)])
    assert result.exit_code == 0, result.output
    assert _rows(lake) == [(1, "zap"), (2, "zap")]


def test_revert_one_statement(tmp_path: Path) -> None:
    lake, bad = _lake(tmp_path)
    result = CliRunner().invoke(cli, ["revert", bad, "--lake", str(lake), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [
        {"number of rows restored": 2, "number of rows removed": 2}
    ]
    assert _rows(lake) == [(1, "a"), (2, "b")]


def test_diff_between_two_points_as_json(tmp_path: Path) -> None:
    lake, bad = _lake(tmp_path)
    args = ["diff", "t", "--from", f"before-statement:{bad}", "--to", f"statement:{bad}"]
    result = CliRunner().invoke(cli, [*args, "--lake", str(lake), "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert sorted((r["ID"], r["V"], r["METADATA$ACTION"]) for r in rows) == [
        (1, "a", "DELETE"),
        (1, "zap", "INSERT"),
        (2, "b", "DELETE"),
        (2, "zap", "INSERT"),
    ]
    assert all(r["METADATA$ISUPDATE"] for r in rows)


def test_a_bad_point_is_one_clear_error(tmp_path: Path) -> None:
    lake, _ = _lake(tmp_path)
    result = CliRunner().invoke(cli, ["restore", "t", "--to", "yesterday", "--lake", str(lake)])
    assert result.exit_code == 1
    assert "Invalid point 'yesterday'" in result.output
    assert "Traceback" not in result.output
