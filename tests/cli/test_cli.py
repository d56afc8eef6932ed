"""The ``chronolake`` command line, run through click's CliRunner on a real lake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from chronolake.cli.main import cli


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    return tmp_path / "lake"


def invoke(lake: Path, *args: str, input: str | None = None) -> Result:
    # Plain output whatever the caller's terminal settings; wide enough not to fold query ids.
    runner = CliRunner(env={"FORCE_COLOR": None, "TTY_COMPATIBLE": None, "COLUMNS": "200"})
    command, *rest = args
    return runner.invoke(cli, [command, "--lake", str(lake), *rest], input=input)


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def setup_orders(lake: Path) -> None:
    ok(invoke(lake, "sql", "CREATE TABLE orders (id INT, note VARCHAR)"))
    ok(invoke(lake, "sql", "INSERT INTO orders VALUES (1, 'x,y'), (2, 'semi;colon')"))


def test_sql_runs_one_statement_and_prints_a_table(lake: Path) -> None:
    setup_orders(lake)
    result = ok(invoke(lake, "sql", "SELECT id, note FROM orders ORDER BY id"))
    assert "semi;colon" in result.stdout
    assert "2 rows" in result.stdout
    assert "query_id" in result.stdout
    assert result.stderr == ""


def test_sql_reports_rows_changed_as_snowflake_does(lake: Path) -> None:
    ok(invoke(lake, "sql", "CREATE TABLE t (id INT)"))
    result = ok(invoke(lake, "sql", "--format", "csv", "INSERT INTO t VALUES (1), (2), (3)"))
    assert result.stdout == "number of rows inserted\n3\n"


def test_sql_runs_every_statement_of_a_file_in_one_session(lake: Path, tmp_path: Path) -> None:
    script = tmp_path / "script.sql"
    script.write_text(
        "-- a comment; with a semicolon\n"
        "CREATE TABLE t (id INT, s VARCHAR);\n"
        "INSERT INTO t VALUES (1, 'a;b'), (2, 'c');\n"
        "DELETE FROM t WHERE id = 1;\n"
        "SELECT count(*) AS n FROM t BEFORE(STATEMENT => LAST_QUERY_ID());\n"
        "SELECT s FROM t\n"
    )
    result = ok(invoke(lake, "sql", "--format", "json", "-f", str(script)))
    # One JSON document: an object per statement; DDL and DML return a status row.
    results = json.loads(result.stdout)
    assert [r["statement"] for r in results][1:3] == [
        "INSERT INTO t VALUES (1, 'a;b'), (2, 'c')",
        "DELETE FROM t WHERE id = 1",
    ]
    assert results[2]["rows"] == [{"number of rows deleted": 1}]
    assert results[2]["rowcount"] == 1
    assert all(r["query_id"] for r in results)
    rows = [[{k.lower(): v for k, v in row.items()} for row in r["rows"]] for r in results[3:]]
    assert rows == [[{"n": 2}], [{"s": "c"}]]


def test_sql_file_in_table_format_echoes_each_statement(lake: Path, tmp_path: Path) -> None:
    script = tmp_path / "script.sql"
    script.write_text("CREATE TABLE t (id INT);\nINSERT INTO t VALUES (7);\nSELECT id FROM t;\n")
    result = ok(invoke(lake, "sql", "-f", str(script)))
    assert "> CREATE TABLE t (id INT)" in result.stdout
    assert "> SELECT id FROM t" in result.stdout
    assert "7" in result.stdout


def test_sql_csv_output(lake: Path) -> None:
    setup_orders(lake)
    result = ok(invoke(lake, "sql", "--format", "csv", "SELECT id, note FROM orders ORDER BY id"))
    assert result.stdout.lower() == 'id,note\n1,"x,y"\n2,semi;colon\n'


def test_sql_json_output(lake: Path) -> None:
    setup_orders(lake)
    result = ok(invoke(lake, "sql", "--format", "json", "SELECT id, note FROM orders ORDER BY id"))
    rows = [{k.lower(): v for k, v in row.items()} for row in json.loads(result.stdout)]
    assert rows == [{"id": 1, "note": "x,y"}, {"id": 2, "note": "semi;colon"}]


def test_sql_error_is_one_red_line_and_exit_code_1(lake: Path) -> None:
    result = invoke(lake, "sql", "SELECT * FROM no_such_table")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ")
    assert result.stderr.count("\n") == 1
    assert "NO_SUCH_TABLE" in result.stderr.upper()
    assert "Traceback" not in result.output


def test_sql_stops_at_the_first_error_of_a_file(lake: Path, tmp_path: Path) -> None:
    script = tmp_path / "script.sql"
    script.write_text("CREATE TABLE t (id INT);\nSELECT nope FROM t;\nCREATE TABLE u (id INT);\n")
    result = invoke(lake, "sql", "-f", str(script))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")
    result = invoke(lake, "sql", "SELECT * FROM u")
    assert result.exit_code == 1


def test_sql_needs_exactly_one_source_of_sql(lake: Path, tmp_path: Path) -> None:
    assert invoke(lake, "sql").exit_code == 2
    script = tmp_path / "script.sql"
    script.write_text("SELECT 1;")
    assert invoke(lake, "sql", "-f", str(script), "SELECT 2").exit_code == 2


def test_history_lists_the_snapshots_that_changed_a_table(lake: Path) -> None:
    setup_orders(lake)
    ok(invoke(lake, "sql", "DELETE FROM orders WHERE id = 1"))
    ok(invoke(lake, "sql", "CREATE TABLE other (id INT)"))
    result = ok(invoke(lake, "history", "orders", "--format", "json"))
    entries = json.loads(result.stdout)
    assert len(entries) == 3
    assert set(entries[0]) == {
        "snapshot_id",
        "commit_time",
        "query_id",
        "operation",
        "rows_added",
        "rows_removed",
    }
    assert [(e["rows_added"], e["rows_removed"]) for e in entries[1:]] == [(2, 0), (0, 1)]

    table = ok(invoke(lake, "history", "orders")).stdout
    assert "snapshot_id" in table
    assert "3 snapshots" in table


def test_history_of_a_missing_table_is_an_error(lake: Path) -> None:
    result = invoke(lake, "history", "nothing_here")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")


def test_shell_runs_multi_line_statements_until_exit(lake: Path) -> None:
    session = (
        "CREATE TABLE t (id INT);\n"
        "INSERT INTO t\n"
        "  VALUES (1), (2), (3);\n"
        "SELECT count(*) AS how_many\n"
        "  FROM t;\n"
        "exit\n"
        "DROP TABLE t;\n"
    )
    result = ok(invoke(lake, "shell", input=session))
    assert "chronolake> " in result.stdout
    assert "-> " in result.stdout
    assert "HOW_MANY" in result.stdout.upper()
    assert "3" in result.stdout
    # exit left the shell: the DROP never ran.
    ok(invoke(lake, "sql", "SELECT * FROM t"))


def test_shell_reports_errors_and_goes_on_until_end_of_input(lake: Path) -> None:
    session = "SELECT * FROM missing;\nSELECT 40 + 2 AS answer; SELECT 'no semicolon at the end'"
    result = ok(invoke(lake, "shell", "--format", "csv", input=session))
    assert result.stderr.startswith("Error: ")
    assert "42" in result.stdout
    assert "no semicolon at the end" in result.stdout
