"""The names Snowflake gives the columns of a query's result.

A column reference is named by its identifier (``SELECT id`` gives ``ID``, ``SELECT "id"``
gives ``id``); any other unaliased expression by its own text, upper-cased except for quoted
identifiers (``SELECT count(*)`` gives ``COUNT(*)``, ``SELECT a+1`` gives ``A+1``). Such an
expression gets that name as an explicit alias, so DuckDB's own naming never shows; column
references are renamed in the result (``rename_result``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import pyarrow as pa
import sqlglot
from sqlglot import exp
from sqlglot.errors import TokenError
from sqlglot.tokens import Token, TokenType

TEXT_KEY = "sql_text"  # the root's meta: the text the tree was parsed from

_OPEN = {TokenType.L_PAREN, TokenType.L_BRACKET, TokenType.L_BRACE}
_CLOSE = {TokenType.R_PAREN, TokenType.R_BRACKET, TokenType.R_BRACE}
# tokens that end a select list (at its own bracket depth)
_END = {
    TokenType.FROM,
    TokenType.WHERE,
    TokenType.GROUP_BY,
    TokenType.HAVING,
    TokenType.QUALIFY,
    TokenType.ORDER_BY,
    TokenType.LIMIT,
    TokenType.FETCH,
    TokenType.OFFSET,
    TokenType.UNION,
    TokenType.EXCEPT,
    TokenType.INTERSECT,
    TokenType.INTO,
    TokenType.WINDOW,
    TokenType.SEMICOLON,
}
_LEADING = {TokenType.DISTINCT, TokenType.ALL}


@dataclass(frozen=True)
class _Span:
    """Projection ``index`` of a select list of ``width`` projections: tokens first..last."""

    index: int
    width: int
    first: int
    last: int


@dataclass
class _List:
    depth: int
    items: list[tuple[int, int]] = field(default_factory=list)
    start: int | None = None


_CACHE_MAX_TEXT = 8192  # as the parse cache: a long text is rarely repeated


def _select_lists(text: str) -> tuple[tuple[Token, ...], tuple[_Span, ...]]:
    """The tokens of ``text`` and the span of every projection of every select list."""
    return _scan(text) if len(text) > _CACHE_MAX_TEXT else _scan_cached(text)


@functools.lru_cache(maxsize=64)
def _scan_cached(text: str) -> tuple[tuple[Token, ...], tuple[_Span, ...]]:
    return _scan(text)


def _scan(text: str) -> tuple[tuple[Token, ...], tuple[_Span, ...]]:
    try:
        tokens = tuple(sqlglot.Dialect.get_or_raise("snowflake").tokenize(text))
    except TokenError:
        return (), ()
    spans: list[_Span] = []
    stack: list[_List] = []

    def close(lst: _List, last: int) -> None:
        if lst.start is not None and lst.start <= last:
            lst.items.append((lst.start, last))
        spans.extend(_Span(i, len(lst.items), a, b) for i, (a, b) in enumerate(lst.items))

    depth = 0
    for i, tok in enumerate(tokens):
        kind = tok.token_type
        top = stack[-1] if stack else None
        if top is not None and top.start == i and kind in _LEADING | {TokenType.TOP}:
            top.start = i + (2 if kind == TokenType.TOP else 1)
            continue
        if kind == TokenType.SELECT:
            stack.append(_List(depth, start=i + 1))
        elif kind in _OPEN:
            depth += 1
        elif kind in _CLOSE:
            depth -= 1
            while stack and stack[-1].depth > depth:
                close(stack.pop(), i - 1)
        elif top is not None and depth == top.depth and kind == TokenType.COMMA:
            if top.start is not None:
                top.items.append((top.start, i - 1))
            top.start = i + 1
        elif top is not None and depth == top.depth and kind in _END:
            close(stack.pop(), i - 1)
    while stack:
        close(stack.pop(), len(tokens) - 1)
    return tokens, tuple(spans)


def _written(node: exp.Expr, index: int, width: int, text: str) -> str | None:
    """The text of projection ``index`` (of ``width``) as the user wrote it, upper-cased
    outside quoted identifiers; None when it cannot be found (a tree not parsed from
    ``text``)."""
    starts = [n.meta["start"] for n in node.walk() if "start" in n.meta]
    ends = [n.meta["end"] for n in node.walk() if "end" in n.meta]
    if not starts:
        return None
    tokens, spans = _select_lists(text)
    lo, hi = min(starts), max(ends)
    fits = [
        s
        for s in spans
        if s.index == index
        and s.width == width
        and tokens[s.first].start <= lo
        and tokens[s.last].end >= hi
    ]
    if not fits:
        return None
    span = min(fits, key=lambda s: tokens[s.last].end - tokens[s.first].start)
    parts, pos = [], tokens[span.first].start
    for tok in tokens[span.first : span.last + 1]:
        parts.append(text[pos : tok.start])
        raw = text[tok.start : tok.end + 1]
        parts.append(raw if tok.token_type == TokenType.IDENTIFIER else raw.upper())
        pos = tok.end + 1
    return "".join(parts)


def output_name(node: exp.Expr, index: int, width: int, text: str | None) -> str | None:
    """Snowflake's name for an unaliased projection other than a column or a star."""
    if isinstance(node, (exp.Star, exp.Column, exp.DynamicIdentifier)):
        return None  # named after the column they are (IDENTIFIER('a') becomes one)
    written = _written(node, index, width, text) if text else None
    return written if written is not None else node.sql("snowflake").upper()


def name_projections(select: exp.Select, text: str | None) -> None:
    """Alias every unaliased expression projection of ``select`` (in place), naming it after
    ``text``, the statement's text.

    Column references keep no alias: DuckDB would read ``b AS "B"`` as a reference to the
    alias itself; ``result_names`` names them in the result instead."""
    width = len(select.expressions)
    named = []
    for i, node in enumerate(select.expressions):
        name = None if isinstance(node, exp.Alias) else output_name(node, i, width, text)
        named.append(node if name is None else exp.alias_(node, name, quoted=True))
    select.set("expressions", named)


def result_names(query: exp.Expr) -> list[str] | None:
    """The names of a query's result columns, or None when a star makes them unknown here."""
    while isinstance(query, (exp.Union, exp.Intersect, exp.Except, exp.Subquery)):
        query = query.this
    if not isinstance(query, exp.Select):
        return None
    names = []
    for node in query.expressions:
        if isinstance(node, exp.Star) or (isinstance(node, exp.Column) and node.is_star):
            return None
        names.append(node.alias_or_name)
    return names


def rename_result(table: pa.Table, names: list[str] | None) -> pa.Table:
    """``table`` with Snowflake's column names (``result_names`` of its query)."""
    if names is None or len(names) != table.num_columns or names == table.column_names:
        return table
    return table.rename_columns(names)
