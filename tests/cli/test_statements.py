"""Splitting SQL text into statements for ``sql -f`` and the shell."""

from __future__ import annotations

import pytest

from chronolake.cli.statements import all_statements, split_statements


@pytest.mark.parametrize(
    ("text", "statements", "rest"),
    [
        ("SELECT 1;", ["SELECT 1"], ""),
        ("SELECT 1; SELECT 2", ["SELECT 1"], " SELECT 2"),
        ("SELECT 'a;b'; SELECT \"c;d\" FROM t;", ["SELECT 'a;b'", 'SELECT "c;d" FROM t'], ""),
        ("SELECT $$a;b$$;", ["SELECT $$a;b$$"], ""),
        ("SELECT 1 -- no; split\n;", ["SELECT 1 -- no; split"], ""),
        ("/* ; */ SELECT 1;", ["/* ; */ SELECT 1"], ""),
        (";; SELECT 1;;", ["SELECT 1"], ""),
        ("SELECT 1; -- only a comment after\n", ["SELECT 1"], ""),
        # An open quote or comment: nothing is complete, everything waits for more input.
        ("SELECT 1; SELECT 'open;", [], "SELECT 1; SELECT 'open;"),
        ("SELECT /* open;", [], "SELECT /* open;"),
    ],
)
def test_split_statements(text: str, statements: list[str], rest: str) -> None:
    assert split_statements(text) == (statements, rest)


def test_a_rest_keeps_its_line_end_so_more_input_continues_it() -> None:
    statements, rest = split_statements("SELECT 1 -- why\n")
    assert (statements, rest) == ([], "SELECT 1 -- why\n")
    assert split_statements(rest + "FROM t;\n") == (["SELECT 1 -- why\nFROM t"], "")


def test_all_statements_keeps_a_last_statement_without_semicolon() -> None:
    assert all_statements("CREATE TABLE t (a INT);\nSELECT a FROM t\n") == [
        "CREATE TABLE t (a INT)",
        "SELECT a FROM t",
    ]
