"""CLI: restore, revert and diff on a real lake."""

from __future__ import annotations

import json

from click.testing import CliRunner
from lake_forms import LakeSpec

from chronolake.cli.main import cli


def _lake(lake: LakeSpec) -> tuple[LakeSpec, str]:
    with lake.connect() as con:
        con.execute("CREATE TABLE t (id INT, v VARCHAR)")
        con.execute("INSERT INTO t VALUES (1, 'a'), (2, 'b')")
        bad = con.execute("UPDATE t SET v = 'zap'").query_id
    return lake, bad


def _rows(lake: LakeSpec) -> list[tuple[object, ...]]:
    with lake.connect() as con:
        return con.execute("SELECT * FROM t ORDER BY id").fetchall()


def test_restore_to_a_version_and_back(lake_spec: LakeSpec) -> None:
    lake, _ = _lake(lake_spec)
    result = CliRunner().invoke(cli, ["restore", "t", "--to", "version:2", *lake.cli_args()])
    assert result.exit_code == 0, result.output
    assert _rows(lake) == [(1, "a"), (2, "b")]
    result = CliRunner().invoke(cli, ["restore", "t", "--to", "3", *lake.cli_args()])
    assert result.exit_code == 0, result.output
    assert _rows(lake) == [(1, "zap"), (2, "zap")]


def test_revert_one_statement(lake_spec: LakeSpec) -> None:
    lake, bad = _lake(lake_spec)
    result = CliRunner().invoke(cli, ["revert", bad, *lake.cli_args(), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [
        {"number of rows restored": 2, "number of rows removed": 2}
    ]
    assert _rows(lake) == [(1, "a"), (2, "b")]


def test_diff_between_two_points_as_json(lake_spec: LakeSpec) -> None:
    lake, bad = _lake(lake_spec)
    args = ["diff", "t", "--from", f"before-statement:{bad}", "--to", f"statement:{bad}"]
    result = CliRunner().invoke(cli, [*args, *lake.cli_args(), "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert sorted((r["ID"], r["V"], r["METADATA$ACTION"]) for r in rows) == [
        (1, "a", "DELETE"),
        (1, "zap", "INSERT"),
        (2, "b", "DELETE"),
        (2, "zap", "INSERT"),
    ]
    assert all(r["METADATA$ISUPDATE"] for r in rows)


def test_a_bad_point_is_one_clear_error(lake_spec: LakeSpec) -> None:
    lake, _ = _lake(lake_spec)
    result = CliRunner().invoke(cli, ["restore", "t", "--to", "yesterday", *lake.cli_args()])
    assert result.exit_code == 1
    assert "Invalid point 'yesterday'" in result.output
    assert "Traceback" not in result.output
