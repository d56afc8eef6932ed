"""chronolake's dialect: fixture pairs (statement -> node class, normalised SQL), round trips
through the generator, and syntax errors that point into the user's own text."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from chronolake.errors import PermissionDenied, SqlError
from chronolake.sql.grammar import dialect
from chronolake.sql.grammar.parse import DIALECT, parse_statement

FIXTURES = Path(__file__).parent / "fixtures" / "statements.sql"


def _fixtures() -> list[tuple[str, str, str]]:
    blocks = []
    lines = [ln for ln in FIXTURES.read_text().splitlines() if not ln.startswith("#")]
    for block in "\n".join(lines).split("\n\n"):
        rows = [r for r in block.strip().splitlines() if r.strip()]
        if rows:
            assert len(rows) == 3, f"a fixture is three lines: {rows}"
            blocks.append((rows[0], rows[1], rows[2]))
    return blocks


def _node_class(name: str) -> type[exp.Expr]:
    return getattr(dialect, name, None) or getattr(exp, name)


def _parse(text: str) -> exp.Expr:
    """The parser alone (no refusals): what the dialect makes of the text."""
    trees = sqlglot.parse(text, read=DIALECT)
    assert len(trees) == 1 and trees[0] is not None
    return trees[0]


@pytest.mark.parametrize(("text", "node", "expected"), _fixtures(), ids=lambda v: str(v)[:50])
def test_fixture(text: str, node: str, expected: str) -> None:
    cls = _node_class(node)
    if cls is exp.Command:
        tree = _parse(text)
        assert type(tree) is exp.Command
        assert tree.sql(DIALECT) == expected
        return
    tree = parse_statement(text)
    assert type(tree) is cls
    assert tree.sql(DIALECT) == expected
    # the generator's SQL reads back as the same tree, and writes itself again
    again = parse_statement(expected)
    assert again == tree
    assert again.sql(DIALECT) == expected


def test_the_dialect_is_registered_with_sqlglot() -> None:
    tree = sqlglot.parse_one("REVERT STATEMENT 'q'", read="chronolake")
    assert isinstance(tree, dialect.Revert)
    assert type(sqlglot.Dialect.get_or_raise("chronolake")) is dialect.Chronolake


def test_restore_keeps_its_point_on_the_table() -> None:
    tree = parse_statement("RESTORE TABLE s.t TO BEFORE(STATEMENT => $q)")
    assert isinstance(tree, dialect.Restore)
    table = tree.this
    assert isinstance(table, exp.Table)
    assert (table.db, table.name) == ("S", "T")
    when = table.args["when"]
    assert isinstance(when, exp.HistoricalData)
    assert (when.this, when.args["kind"]) == ("BEFORE", "STATEMENT")


def test_alter_parameters_shape() -> None:
    tree = parse_statement("ALTER SCHEMA IF EXISTS d.s SET DATA_RETENTION_TIME_IN_DAYS = -1")
    assert isinstance(tree, dialect.AlterParameters)
    assert tree.args["kind"] == "SCHEMA" and tree.args["exists"] is True
    (prop,) = tree.expressions
    assert isinstance(prop, exp.Property) and prop.name == "DATA_RETENTION_TIME_IN_DAYS"
    assert isinstance(prop.args["value"], exp.Neg)
    unset = parse_statement("ALTER ACCOUNT UNSET MIN_DATA_RETENTION_TIME_IN_DAYS")
    assert isinstance(unset, dialect.AlterParameters) and unset.this is None
    assert [v.name for v in unset.expressions] == ["MIN_DATA_RETENTION_TIME_IN_DAYS"]


def test_set_keeps_a_global_kind_visible() -> None:
    item = parse_statement("SET GLOBAL threads = 1").expressions[0]
    assert item.args["kind"] == "GLOBAL"
    assert parse_statement("SET x = 1").expressions[0].args["kind"] == "VARIABLE"


# (statement, line, column (1-based), the token quoted in the message)
TRAILING = [
    ("REVERT STATEMENT 'x' FROM read_csv('/etc/passwd')", 1, 22, "FROM"),
    ("REVERT STATEMENT 'x' y", 1, 22, "y"),
    ("RESTORE TABLE t TO AT(VERSION => 1) garbage", 1, 37, "garbage"),
    ("RESTORE TABLE t TO AT(VERSION => 1)\n  WHERE x = 1", 2, 3, "WHERE"),
    ("ALTER ACCOUNT SET DATA_RETENTION_TIME_IN_DAYS = 1 FROM t", 1, 51, "FROM"),
    ("ALTER SCHEMA s UNSET DATA_RETENTION_TIME_IN_DAYS junk", 1, 50, "junk"),
    ("UNSET x y", 1, 9, "y"),
    ("UNSET (x) y", 1, 11, "y"),
    ("START TRANSACTION junk", 1, 19, "junk"),
    ("BEGIN junk", 1, 7, "junk"),
    ("UNDROP TABLE t junk", 1, 16, "junk"),
    ("SET x = 1 garbage", 1, 11, "garbage"),
    ("SET x = 1 FROM t", 1, 11, "FROM"),
    ("USE SCHEMA s junk", 1, 14, "junk"),
    ("ALTER SESSION SET TIMEZONE = 'UTC'\n junk", 2, 2, "junk"),
    ("CREATE TABLE t (id INT) junk", 1, 25, "junk"),
    ("TRUNCATE TABLE t\n\tjunk", 2, 2, "junk"),
    ("INSERT INTO t VALUES (1), (2)\n  junk", 2, 3, "junk"),
    # DuckDB's FROM-first queries are no Snowflake grammar (and made this a CTAS)
    ("CREATE TABLE t (id INT)\n  FROM read_csv('/etc/passwd')", 2, 3, "FROM"),
    ("FROM t SELECT id", 1, 1, "FROM"),
]


@pytest.mark.parametrize(("text", "line", "col", "token"), TRAILING, ids=lambda v: str(v)[:40])
def test_trailing_text_is_a_syntax_error_where_it_starts(
    text: str, line: int, col: int, token: str
) -> None:
    with pytest.raises(SqlError) as caught:
        parse_statement(text)
    err = caught.value
    assert (err.line, err.col) == (line, col)
    assert f"syntax error line {line} at position {col - 1} unexpected '{token}'." in str(err)
    # the position is in the user's text: the quoted token starts there
    offset = sum(len(ln) + 1 for ln in text.split("\n")[: line - 1]) + col - 1
    assert text[offset:].startswith(token)


# errors inside the custom statements, in multi-line text
INSIDE = [
    ("RESTORE TABLE t\nTO\n  AT(VERSION => 1", 3, 18, "<EOF>", "Expecting )"),
    ("RESTORE\n  t TO AT(VERSION => 1)", 2, 3, "t", "Expected TABLE"),
    ("RESTORE TABLE t\n  TO NOW", 2, 6, "NOW", "Expected AT(<kind> => <point>)"),
    ("REVERT\n  STMT 'x'", 2, 3, "STMT", "Expected STATEMENT"),
    ("ALTER ACCOUNT\n  SET\n    DATA_RETENTION_TIME_IN_DAYS 1", 3, 33, "1", "Expected ="),
    ("ALTER ACCOUNT acme SET DATA_RETENTION_TIME_IN_DAYS = 1", 1, 15, "acme", "takes no name"),
    ("ALTER SCHEMA s\n  SET DATA_RETENTION_TIME_IN_DAYS =", 2, 36, "<EOF>", "Expected a value"),
    ("UNSET\n  ()", 2, 4, ")", "Expected a variable name"),
    ("RESTORE TABLE t TO\n  AT(FOO => 1)", 2, 6, "FOO", "Expected one of OFFSET, STATEMENT"),
    ("RESTORE TABLE t TO AT(VERSION\n  1)", 2, 3, "1", "Expected =>"),
    ("ALTER DATABASE\n  SET DATA_RETENTION_TIME_IN_DAYS = 1", 2, 3, "SET", "database name"),
    ("ALTER SCHEMA a.b.c SET DATA_RETENTION_TIME_IN_DAYS = 1", 1, 18, "c", "at most 2"),
    ("UNDROP TABLE", 1, 13, "<EOF>", "Expected table name"),
    ("SELECT a,\n       b\n  FROM t WHERE", 3, 15, "<EOF>", ""),
    ("SELECT a,\n  (b FROM t", 2, 6, "FROM", ""),
]


@pytest.mark.parametrize(
    ("text", "line", "col", "token", "detail"), INSIDE, ids=lambda v: str(v)[:40]
)
def test_errors_inside_statements_point_into_the_text(
    text: str, line: int, col: int, token: str, detail: str
) -> None:
    with pytest.raises(SqlError) as caught:
        parse_statement(text)
    err = caught.value
    assert (err.line, err.col) == (line, col), str(err)
    assert f"line {line} at position {col - 1} unexpected '{token}'." in str(err)
    assert detail in str(err)
    assert "<class" not in str(err)


@pytest.mark.parametrize(
    ("text", "line", "col", "what"),
    [
        ("SELECT 1,\n  'it''s", 2, 3, "' is never closed."),
        ('REVERT STATEMENT "x', 1, 18, '" is never closed.'),
        ("SELECT 1 /* note\n", 1, 10, "/* is never closed."),
        ("SELECT $$raw", 1, 8, "$$ is never closed."),
    ],
)
def test_an_unclosed_quote_or_comment_points_at_its_opening(
    text: str, line: int, col: int, what: str
) -> None:
    with pytest.raises(SqlError) as caught:
        parse_statement(text)
    assert (caught.value.line, caught.value.col) == (line, col)
    assert f"syntax error line {line} at position {col - 1}: {what}" in str(caught.value)


@pytest.mark.parametrize(
    "text",
    [
        "PRAGMA database_list",
        "pragma database_list(",
        "COPY t TO '/tmp/x' (FORMAT",
        "  -- a comment first\nATTACH 'x.duckdb' AS x",
        "RESET threads",
        "SELECT 1; LOAD httpfs",
    ],
)
def test_engine_statements_are_refused_whatever_follows(text: str) -> None:
    with pytest.raises(PermissionDenied, match="is not allowed"):
        parse_statement(text)


@pytest.mark.parametrize("text", ['"RESET" x', "'PRAGMA' x", '"RESTORE" TABLE'])
def test_a_quoted_word_never_leads_a_statement(text: str) -> None:
    tree = parse_statement(text)  # an expression (the executor does not run it), not a statement
    assert not isinstance(tree, (exp.Command, dialect.Restore))


def test_a_second_statement_is_refused_not_ignored() -> None:
    with pytest.raises(SqlError, match="statement count 2"):
        parse_statement("ALTER DATABASE d SET DATA_RETENTION_TIME_IN_DAYS = 1;\nDROP TABLE t")


def test_a_forbidden_call_before_the_error_is_refused_one_after_it_is_not() -> None:
    with pytest.raises(PermissionDenied, match="READ_CSV"):
        parse_statement("SELECT * FROM read_csv('/etc/passwd', columns={'a': 1}")
    with pytest.raises(SqlError):
        parse_statement("REVERT STATEMENT 'x' FROM read_csv('/etc/passwd')")


def test_parse_cache_hands_out_copies() -> None:
    text = "RESTORE TABLE t TO AT(VERSION => 1)"
    first = parse_statement(text)
    first.this.set("when", None)
    assert parse_statement(text).this.args["when"] is not None
