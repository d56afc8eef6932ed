"""The command line behaves like a database client: open transactions are rolled back at the
end, user errors are one ``Error:`` line (never a traceback), read commands never create a
lake, and several statements in JSON are one document."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from chronolake.cli.main import cli

NOTICE = "Notice: the session ended inside a transaction without COMMIT: it was rolled back.\n"


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    path = tmp_path / "lake"
    ok(run("sql", "--lake", str(path), "CREATE TABLE t (id INT); INSERT INTO t VALUES (1)"))
    return path


def run(*args: str, input: str | None = None) -> Result:
    runner = CliRunner(env={"FORCE_COLOR": None, "TTY_COMPATIBLE": None, "COLUMNS": "200"})
    return runner.invoke(cli, list(args), input=input)


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def user_error(result: Result, message: str, code: int = 1) -> None:
    """Exit code, one ``Error:`` line on stderr with ``message``, no traceback."""
    assert result.exit_code == code, (result.output, result.exception)
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    assert f"Error: {message}" in result.stderr, result.stderr


def ids(lake: Path) -> list[int]:
    result = ok(run("sql", "--lake", str(lake), "--format", "csv", "SELECT id FROM t ORDER BY 1"))
    return [int(v) for v in result.stdout.split()[1:]]


# -- rollback at the end of a session ----------------------------------------------------


def test_sql_rolls_back_an_open_transaction(lake: Path) -> None:
    result = ok(run("sql", "--lake", str(lake), "BEGIN; INSERT INTO t VALUES (2)"))
    assert result.stderr == NOTICE
    assert ids(lake) == [1]


def test_sql_file_rolls_back_an_open_transaction(lake: Path, tmp_path: Path) -> None:
    script = tmp_path / "s.sql"
    script.write_text("BEGIN;\nINSERT INTO t VALUES (2);\n")
    result = ok(run("sql", "--lake", str(lake), "-f", str(script)))
    assert result.stderr == NOTICE
    assert ids(lake) == [1]


def test_committed_work_is_kept_and_no_notice(lake: Path) -> None:
    result = ok(run("sql", "--lake", str(lake), "BEGIN; INSERT INTO t VALUES (2); COMMIT"))
    assert result.stderr == ""
    assert ids(lake) == [1, 2]


def test_shell_rolls_back_at_eof_and_survives_errors(lake: Path) -> None:
    text = "BEGIN;\nINSERT INTO t VALUES (2);\nSELECT * FROM nope;\nSELECT (((1;\nSELECT 42;\n"
    result = ok(run("shell", "--lake", str(lake), "--format", "csv", input=text))
    assert "Error: Object 'NOPE' does not exist or not authorized." in result.stderr
    assert "42" in result.stdout  # the shell went on after both errors
    assert result.stderr.endswith(NOTICE)
    assert ids(lake) == [1]


def test_shell_survives_deep_nesting(lake: Path) -> None:
    deep = "SELECT " + "(" * 5000 + "1" + ")" * 5000 + ";\nSELECT 7;\n"
    result = ok(run("shell", "--lake", str(lake), "--format", "csv", input=deep))
    assert "Error: SQL compilation error: the statement is nested too deeply" in result.stderr
    assert "SELECT 7;\n7\n7\n" in result.stdout  # header and value: the shell went on


# -- user errors: one line, no traceback --------------------------------------------------


def test_deep_nesting_is_an_error(lake: Path) -> None:
    deep = "SELECT * FROM " + "(SELECT * FROM " * 2000 + "t" + ")" * 2000
    user_error(run("sql", "--lake", str(lake), deep), "SQL compilation error: the statement")


def test_binary_file(lake: Path, tmp_path: Path) -> None:
    script = tmp_path / "x.bin"
    script.write_bytes(b"\x00\xff\xfe\x01")
    user_error(
        run("sql", "--lake", str(lake), "-f", str(script)),
        f"{script} is not UTF-8 text (byte 0xff at offset 1): give a SQL script.",
    )


def test_diff_with_a_bad_point(lake: Path) -> None:
    user_error(
        run("diff", "--lake", str(lake), "t", "--from", "version:abc"),
        "Invalid point 'version:abc': version takes a whole number.",
    )


def test_history_with_an_unknown_type(lake: Path) -> None:
    result = run("history", "--lake", str(lake), "--type", "INSRET")
    user_error(result, "Invalid value for '--type': unknown statement type 'INSRET'", code=2)
    assert "INSERT" in result.stderr  # the valid types are listed


@pytest.mark.parametrize("command", ["history", "storage", "diff"])
def test_read_commands_never_create_a_lake(tmp_path: Path, command: str) -> None:
    typo = tmp_path / "lakee"
    extra = ["t", "--from", "1"] if command == "diff" else []
    user_error(run(command, "--lake", str(typo), *extra), f"No lake at {typo} (no catalog.sqlite")
    assert not typo.exists()


def test_read_commands_write_nothing(lake: Path) -> None:
    before = {p: p.read_bytes() for p in lake.rglob("*.sqlite")}
    ok(run("history", "--lake", str(lake)))
    ok(run("storage", "--lake", str(lake)))
    assert {p: p.read_bytes() for p in lake.rglob("*.sqlite")} == before


def test_console_script_prints_no_traceback(lake: Path) -> None:
    # The real entry point, as a user runs it.
    args = ["diff", "--lake", str(lake), "t", "--from", "version:x"]
    proc = subprocess.run(
        [sys.executable, "-c", "from chronolake.cli import main; main()", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stderr == "Error: Invalid point 'version:x': version takes a whole number.\n"


# -- JSON and the starting namespace ------------------------------------------------------


def test_json_over_several_statements_is_one_document(lake: Path) -> None:
    result = ok(run("sql", "--lake", str(lake), "--format", "json", "SELECT 1 AS a; SELECT 2 AS b"))
    doc = json.loads(result.stdout)
    assert [(r["statement"], r["rows"], r["rowcount"]) for r in doc] == [
        ("SELECT 1 AS a", [{"A": 1}], 1),
        ("SELECT 2 AS b", [{"B": 2}], 1),
    ]


def test_json_document_stays_valid_when_a_statement_fails(lake: Path) -> None:
    result = run("sql", "--lake", str(lake), "--format", "json", "SELECT 1; SELECT * FROM nope")
    user_error(result, "Object 'NOPE' does not exist or not authorized.")
    doc = json.loads(result.stdout)
    assert doc[1] == {
        "statement": "SELECT * FROM nope",
        "error": {
            "class": "NotFound",
            "message": "Object 'NOPE' does not exist or not authorized.",
        },
    }


def test_json_of_one_statement_is_its_rows(lake: Path) -> None:
    result = ok(run("sql", "--lake", str(lake), "--format", "json", "SELECT id FROM t"))
    assert json.loads(result.stdout) == [{"ID": 1}]


def test_database_and_schema_options(lake: Path) -> None:
    ok(
        run(
            "sql",
            "--lake",
            str(lake),
            "CREATE DATABASE d; CREATE SCHEMA d.s; CREATE TABLE d.s.x (v INT)",
        )
    )
    result = ok(
        run(
            "sql",
            "--lake",
            str(lake),
            "--database",
            "d",
            "--schema",
            "s",
            "--format",
            "csv",
            "SELECT current_database(), current_schema(), count(*) FROM x",
        )
    )
    assert result.stdout.splitlines()[1] == "D,S,0"
    user_error(
        run("sql", "--lake", str(lake), "--database", "nope", "SELECT 1"),
        "Database 'NOPE' does not exist or not authorized.",
    )
    user_error(
        run("history", "--lake", str(lake), "--schema", "nope"),
        "Schema 'MAIN.NOPE' does not exist or not authorized.",
    )
