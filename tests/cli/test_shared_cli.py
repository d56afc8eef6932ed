"""Every command names a shared lake by --catalog and --storage (or the environment), and
copy-lake moves a lake with its history to the shared form and back."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result
from sqlalchemy import make_url

from chronolake.cli.main import cli


def run(*args: str, env: dict[str, str | None] | None = None) -> Result:
    base: dict[str, str | None] = {
        "FORCE_COLOR": None,
        "COLUMNS": "200",
        "CHRONOLAKE_LAKE": None,
        "CHRONOLAKE_CATALOG": None,
        "CHRONOLAKE_STORAGE": None,
    }
    return CliRunner(env={**base, **(env or {})}).invoke(cli, list(args))


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def test_commands_take_a_shared_lake(tmp_path: Path, pg_catalog: str) -> None:
    shared = ["--catalog", pg_catalog, "--storage", str(tmp_path / "files")]
    ok(run("sql", *shared, "CREATE TABLE t (id INT)"))
    ok(run("sql", *shared, "--tenant", "acme", "CREATE TABLE other (id INT)"))
    ok(run("sql", *shared, "INSERT INTO t VALUES (1), (2)"))
    out = ok(run("sql", *shared, "--format", "csv", "SELECT sum(id) FROM t")).stdout
    assert out.splitlines()[-1] == "3"
    env = {"CHRONOLAKE_CATALOG": pg_catalog, "CHRONOLAKE_STORAGE": str(tmp_path / "files")}
    history = ok(run("history", "t", env=env)).stdout
    assert "INSERT" in history
    assert (tmp_path / "files" / "data" / "default").is_dir()
    assert not (tmp_path / "files" / "catalog.sqlite").exists()  # the catalog is PostgreSQL


def test_lake_options_misused(tmp_path: Path, pg_catalog: str) -> None:
    both = run("sql", "--lake", str(tmp_path), "--catalog", pg_catalog, "SELECT 1")
    assert both.exit_code == 2 and "not both" in both.output
    neither = run("sql", "SELECT 1")
    assert neither.exit_code == 2 and "Name the lake" in neither.output
    alone = run("sql", "--catalog", pg_catalog, "SELECT 1")
    assert alone.exit_code == 2 and "--storage" in alone.output
    bad = run("sql", "--lake", str(tmp_path), "--storage-option", "novalue", "SELECT 1")
    assert bad.exit_code == 2 and "KEY=VALUE" in bad.output
    assert "password" not in both.output


def test_copy_lake_to_the_shared_form_and_back(tmp_path: Path, pg_catalog: str) -> None:
    lake, back = tmp_path / "lake", tmp_path / "back"
    ok(run("sql", "--lake", str(lake), "CREATE TABLE t AS SELECT range AS n FROM range(10)"))
    ok(run("sql", "--lake", str(lake), "DELETE FROM t WHERE n < 3"))
    shared = ["--catalog", pg_catalog, "--storage", str(tmp_path / "files")]
    there = ok(run("copy-lake", str(lake), *shared))
    assert "Copied 1 tenant(s)" in there.stdout and "verified" in there.stdout
    password = make_url(pg_catalog).password
    assert password and password not in there.output and "***" in there.stdout
    out = ok(run("sql", *shared, "--format", "csv", "SELECT count(*) FROM t AT(VERSION => 1)"))
    assert out.stdout.splitlines()[-1] == "10"
    ok(
        run(
            "copy-lake",
            "--from-catalog",
            pg_catalog,
            "--from-storage",
            str(tmp_path / "files"),
            "--to",
            str(back),
        )
    )
    out = ok(run("sql", "--lake", str(back), "--format", "csv", "SELECT count(*) FROM t"))
    assert out.stdout.splitlines()[-1] == "7"
    again = run("copy-lake", str(lake), *shared)  # the destination holds a lake now
    assert again.exit_code == 1 and "already holds a lake" in again.stderr
