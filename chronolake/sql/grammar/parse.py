"""Parsing one statement of chronolake SQL into one normalised sqlglot tree."""

from __future__ import annotations

import functools
import itertools
import logging
from collections.abc import Callable
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers
from sqlglot.tokens import TokenType

from chronolake.errors import SqlError
from chronolake.sql.binding.output_names import TEXT_KEY

# chronolake's statement nodes (defined with their grammar) re-exported for the executor
from chronolake.sql.grammar.dialect import AlterParameters as AlterParameters
from chronolake.sql.grammar.dialect import Chronolake
from chronolake.sql.grammar.dialect import Restore as Restore
from chronolake.sql.grammar.dialect import Revert as Revert
from chronolake.sql.grammar.dialect import Unset as Unset

logging.getLogger("sqlglot").setLevel(logging.ERROR)

DIALECT = "chronolake"


def _normalize_identifiers(tree: exp.Expr) -> exp.Expr:
    """Unquoted identifiers become upper case, as in Snowflake."""
    return normalize_identifiers(tree, dialect=DIALECT)


def _is_order_by_all(node: exp.Expr) -> bool:
    """ORDER BY ALL of a query: every select-list column in order (a quoted "ALL" is a name)."""
    if not (isinstance(node, exp.Column) and not node.table and node.name == "ALL"):
        return False
    ident, ordered = node.this, node.parent
    order = ordered.parent if ordered is not None else None
    return (
        isinstance(ident, exp.Identifier)
        and not ident.quoted
        and isinstance(ordered, exp.Ordered)
        and isinstance(order, exp.Order)
        and isinstance(order.parent, exp.Query)
        and len(order.expressions) == 1
    )


def _order_by_all(tree: exp.Expr) -> exp.Expr:
    """ORDER BY ALL as the keyword it is, not a column named ALL (also in stored views)."""
    for node in list(tree.find_all(exp.Column)):
        if _is_order_by_all(node):
            node.replace(exp.var("ALL"))
    return tree


# Rewrites of every parsed statement, in order: pure Expression -> Expression functions.
RULES: tuple[Callable[[exp.Expr], exp.Expr], ...] = (_normalize_identifiers, _order_by_all)


def _refuse_engine_statement(tree: exp.Expr) -> None:
    """PRAGMA, ATTACH, COPY, ... (read whole by the dialect) are refused by name."""
    from chronolake.sql.binding.sandbox import refuse_statement

    if isinstance(tree, exp.Command) and tree.name.upper() in Chronolake.Parser.ENGINE_STATEMENTS:
        raise refuse_statement(tree.name.upper())


def _refuse_forbidden_calls(text: str, error: ParseError) -> None:
    """A forbidden function the parser reached before the syntax error is refused (its call
    may be what failed to parse); text after the error is only a syntax error."""
    from chronolake.sql.binding.sandbox import deny_function, forbidden_function

    first: dict[str, Any] = (error.errors or [{}])[0]
    stop = first.get("start")
    stop = len(text) if stop is None else stop
    for tok, nxt in itertools.pairwise(Chronolake().tokenize(text)):
        if tok.start > stop:
            break
        if nxt.token_type == TokenType.L_PAREN and forbidden_function(tok.text.lower()):
            raise deny_function(tok.text.lower())


def _line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset in ``text``."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def syntax_error(text: str, e: ParseError | TokenError) -> SqlError:
    """Snowflake's "syntax error line L at position P unexpected 'token'." for ``text``.

    ``SqlError.line`` and ``SqlError.col`` are 1-based; the message's position is 0-based,
    as Snowflake writes it."""
    if isinstance(e, TokenError):
        if e.start is None:  # pragma: no cover - the dialect's tokenizer records every start
            return SqlError(f"SQL compilation error: syntax error: {e}")
        line, col = _line_col(text, e.start)
        opener = text[e.start : e.start + 2]
        opener = opener if opener in ("/*", "$$") else opener[:1]
        what = f"{opener} is never closed" if opener in ("'", '"', "/*", "$$") else str(e)
        return SqlError(
            f"SQL compilation error: syntax error line {line} at position {col - 1}: {what}.",
            line=line,
            col=col,
        )
    first: dict[str, Any] = (e.errors or [{}])[0]
    start = first.get("start")
    if start is None:  # pragma: no cover - the dialect's parser records every start
        return SqlError(f"SQL compilation error: syntax error: {first.get('description') or e}")
    line, col = _line_col(text, start)
    found = "<EOF>" if first.get("at_end") else str(first.get("highlight") or "")
    message = f"SQL compilation error: syntax error line {line} at position {col - 1} "
    message += f"unexpected '{found}'."
    # sqlglot's own words, unless they show Python objects (or only repeat "unexpected")
    description = str(first.get("description") or "").split(" but got ")[0]
    internal = ("<class", "<Token", "Unexpected token")
    if description and not any(word in description for word in internal):
        message += f" {description}."
    return SqlError(message, line=line, col=col)


# Parsed trees by statement text: applications repeat the same text with new parameters.
# Cached trees are never handed out, only copies of them (statements change their tree).
_CACHE_MAX_TEXT = 8192  # a long text is rarely repeated, and its tree costs memory


def parse_statement(text: str) -> exp.Expr:
    """Parse exactly one statement; unquoted identifiers become upper case, as in Snowflake.

    Returns a tree the caller may change: a fresh copy of the cached parse of ``text``.

    >>> parse_statement("restore table t to at(version => 3)").sql(DIALECT)
    'RESTORE TABLE T TO AT (VERSION => 3)'
    >>> try:
    ...     parse_statement("REVERT STATEMENT 'q' FROM t")
    ... except SqlError as e:
    ...     print(e.line, e.col, e)
    1 22 SQL compilation error: syntax error line 1 at position 21 unexpected 'FROM'.
    """
    if len(text) > _CACHE_MAX_TEXT:
        return _parse(text)
    return _parse_cached(text).copy()


@functools.lru_cache(maxsize=256)
def _parse_cached(text: str) -> exp.Expr:
    return _parse(text)


def _parse(text: str) -> exp.Expr:
    try:
        trees = [t for t in sqlglot.parse(text, read=DIALECT) if t is not None]
    except (ParseError, TokenError) as e:
        if isinstance(e, ParseError):
            _refuse_forbidden_calls(text, e)
        raise syntax_error(text, e) from None
    for tree in trees:
        _refuse_engine_statement(tree)
    if not trees:
        raise SqlError("Empty SQL statement.")
    if len(trees) > 1:
        raise SqlError(
            f"Actual statement count {len(trees)} did not match the desired statement count 1: "
            "execute one statement at a time."
        )
    tree = trees[0]
    for rule in RULES:
        tree = rule(tree)
    tree.meta[TEXT_KEY] = text  # result columns are named after the text (output_names)
    return tree
