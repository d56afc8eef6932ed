"""Split SQL text into statements at semicolons outside quotes and comments."""

from __future__ import annotations

import sqlglot
from sqlglot.errors import TokenError
from sqlglot.tokens import TokenType


def split_statements(text: str) -> tuple[list[str], str]:
    """Return the complete statements of ``text`` (each ended by ``;``) and the unfinished rest.

    Statements keep their original text (without the ``;``) so that query history records
    what the user typed. The rest is kept verbatim, to be continued by more input; it is ``""``
    when nothing but blanks or comments follows the last ``;``.

    >>> split_statements("SELECT 'a;b'; SELECT 2; SELECT")
    (["SELECT 'a;b'", 'SELECT 2'], ' SELECT')
    >>> split_statements("SELECT 'open")
    ([], "SELECT 'open")
    """
    try:
        tokens = sqlglot.tokenize(text, read="snowflake")
    except TokenError:
        # An open quote or comment: nothing after it can be complete yet.
        return [], text
    statements: list[str] = []
    start = 0
    has_tokens = False
    for token in tokens:
        if token.token_type != TokenType.SEMICOLON:
            has_tokens = True
            continue
        if has_tokens:
            statements.append(text[start : token.start].strip())
        start, has_tokens = token.end + 1, False
    return statements, text[start:] if has_tokens else ""


def all_statements(text: str) -> list[str]:
    """Every statement of ``text``; the last one may lack its ``;``."""
    statements, rest = split_statements(text)
    return [*statements, rest.strip()] if rest else statements
