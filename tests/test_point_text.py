"""Timestamps written as text or numbers (AT/BEFORE points) and result column names taken
from a statement's text: each form with the value Snowflake gives it."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlglot import exp

from chronolake.sql.binding.output_names import TEXT_KEY, name_projections, result_names
from chronolake.sql.binding.timestamp_text import from_epoch, parse_timestamp_text
from chronolake.sql.grammar.parse import parse_statement

UTC = dt.UTC
NOON = dt.datetime(2024, 6, 26, 16, 20, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Wed, 26 Jun 2024 09:20:00 -0700", NOON),
        ("26 Jun 2024 09:20:00 AM -0700", NOON),
        ("Wed Jun 26 09:20:00 -0700 2024", NOON),
        ("2024-06-26T16:20:00Z", NOON),
        ("2024-06-26 18:20:00+02:00", NOON),
        ("2024-06-26 18:20:00 +0200", NOON),
        ("2024-06-26T18:20+02", NOON),
        ("2024-06-26 16:20:00.000000001 +00:00", NOON),
        ("1719418800", NOON),
        ("2024-06-26", dt.datetime(2024, 6, 26)),
        ("26-Jun-2024", dt.datetime(2024, 6, 26)),
        ("06/26/2024", dt.datetime(2024, 6, 26)),
        ("2024-06-26 16:20", dt.datetime(2024, 6, 26, 16, 20)),
    ],
)
def test_timestamp_forms(text: str, expected: dt.datetime) -> None:
    assert parse_timestamp_text(text) == expected


@pytest.mark.parametrize("text", ["", "noon", "2024-13-01", "2024-06-26 25:00", "31/12/2024"])
def test_timestamp_refused(text: str) -> None:
    assert parse_timestamp_text(text) is None


@pytest.mark.parametrize(
    "value", [1719418800, 1719418800_000, 1719418800_000_000, 1719418800_000_000_000]
)
def test_integer_epochs_scale_by_magnitude(value: int) -> None:
    assert from_epoch(value) == NOON


def test_fractional_epoch_is_seconds() -> None:
    assert from_epoch(1.5) == dt.datetime(1970, 1, 1, 0, 0, 1, 500000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("sql", "names"),
    [
        ("SELECT count(*) FROM t", ["COUNT(*)"]),
        ('SELECT a+1, "b" * 2 FROM t', ["A+1", '"b" * 2']),
        ("SELECT DISTINCT coalesce(a, 'x') , b FROM t", ["COALESCE(A, 'X')", "B"]),
        ("SELECT TOP 3 a  -  1 FROM t", ["A  -  1"]),
        ("SELECT cast(a AS int), t.a FROM t", ["CAST(A AS INT)", "A"]),
        ("SELECT (SELECT max(a) FROM u), a AS x FROM t", ["(SELECT MAX(A) FROM U)", "X"]),
    ],
)
def test_result_names_follow_the_text(sql: str, names: list[str]) -> None:
    tree = parse_statement(sql)
    assert tree.meta[TEXT_KEY] == sql
    for select in tree.find_all(exp.Select):
        name_projections(select, sql)
    assert result_names(tree) == names
