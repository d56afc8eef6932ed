"""Parsing Snowflake SQL with sqlglot into one normalised statement tree."""

from __future__ import annotations

import functools
import itertools
import logging
import re

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers
from sqlglot.tokens import Token, TokenType

from chronolake.errors import PermissionDenied, SqlError
from chronolake.sql.binding.output_names import TEXT_KEY

logging.getLogger("sqlglot").setLevel(logging.ERROR)

DIALECT = "snowflake"

# Statements that would reach the engine's files, extensions or settings: refused by name,
# before parsing, so that even SQL sqlglot cannot parse gets the same clear answer.
_FORBIDDEN_LEADS = {
    "ATTACH",
    "DETACH",
    "INSTALL",
    "LOAD",
    "PRAGMA",
    "COPY",
    "EXPORT",
    "IMPORT",
    "CALL",
    "CHECKPOINT",
    "FORCE",
    "VACUUM",
    "RESET",
    "PUT",
    "GET",
    "REMOVE",
    "LIST",
    "ANALYZE",
    "SUMMARIZE",
}
_LEAD = re.compile(r"^(?:\s+|--[^\n]*\n?|/\*.*?\*/)*([A-Za-z_]+)", re.S)
# sqlglot does not tokenize "?::TYPE"; a space keeps the meaning (string literals are skipped)
_PARAM_CAST = re.compile(r"('(?:[^'\\]|''|\\.)*')|\?::")
_START_TXN = re.compile(r"^\s*START\s+TRANSACTION\s*;?\s*$", re.I)
_UNSET = re.compile(r"^\s*UNSET\s+(.+?)\s*;?\s*$", re.I | re.S)


_RESTORE = re.compile(
    r"^\s*RESTORE\s+TABLE\s+(?P<name>.+?)\s+TO\s+(?P<point>(?:AT|BEFORE)\s*\(.*\))\s*;?\s*$",
    re.I | re.S,
)
_REVERT = re.compile(r"^\s*REVERT\s+STATEMENT\s+(?P<q>.+?)\s*;?\s*$", re.I | re.S)
# ALTER ACCOUNT | DATABASE | SCHEMA ... SET | UNSET <parameters> (sqlglot: a Command)
_ALTER_PARAMS = re.compile(
    r"^\s*ALTER\s+(?P<kind>ACCOUNT|DATABASE|SCHEMA)\b\s*(?:(?P<exists>IF\s+EXISTS)\s+)?"
    r"(?P<name>.*?)\s*\b(?P<op>SET|UNSET)\s+(?P<rest>.+?)\s*;?\s*$",
    re.I | re.S,
)
_PARAM_SET = re.compile(r"\s*,?\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*('(?:[^']|'')*'|[^\s,;]+)")
# sqlglot cannot parse "CREATE SCHEMA s DATA_RETENTION_TIME_IN_DAYS = -1": quoting the number
# keeps the statement parseable so the value gets Snowflake's "invalid value" error
_NEGATIVE_DAYS = re.compile(r"\b((?:MIN_)?DATA_RETENTION_TIME_IN_DAYS\s*=\s*)(-\s*\d+)\b", re.I)
_PARAM_NAME = re.compile(r"\s*,?\s*([A-Za-z_][A-Za-z0-9_]*)")


class Restore(exp.Expression):
    """RESTORE TABLE t TO AT|BEFORE(...): the table's data as at a point, as a new snapshot."""

    arg_types = {"this": True}  # noqa: RUF012 - sqlglot's own convention


class Revert(exp.Expression):
    """REVERT STATEMENT '<query id>': undo exactly one statement's row changes."""

    arg_types = {"this": True}  # noqa: RUF012 - sqlglot's own convention


class AlterParameters(exp.Expression):
    """ALTER ACCOUNT | DATABASE | SCHEMA [IF EXISTS] [name] SET p = v [...] | UNSET p [, ...].

    ``kind`` is the object kind, ``this`` the name (an ``exp.Table``; None for ACCOUNT),
    ``expressions`` the parameters: ``exp.Property`` (SET) or ``exp.Var`` (UNSET)."""

    arg_types = {"kind": True, "this": False, "exists": False, "expressions": True}  # noqa: RUF012


def _alter_parameters(m: re.Match[str]) -> AlterParameters:
    kind, name, rest = m["kind"].upper(), m["name"].strip(), m["rest"]
    target: exp.Table | None = None
    if kind == "ACCOUNT":
        if name or m["exists"]:
            raise SqlError("SQL compilation error: syntax error: ALTER ACCOUNT takes no name.")
    else:
        if not name:
            raise SqlError(f"SQL compilation error: syntax error: ALTER {kind} needs a name.")
        target = _parse_one(f"SELECT * FROM {name}").find(exp.Table)
        if target is None:  # pragma: no cover - the query above always has a table
            raise SqlError(f"ALTER {kind} needs a name.")
    items: list[exp.Expr] = []
    pattern = _PARAM_SET if m["op"].upper() == "SET" else _PARAM_NAME
    pos = 0
    while pos < len(rest):
        found = pattern.match(rest, pos)
        if found is None or found.end() == pos:
            raise SqlError(
                f"SQL compilation error: syntax error: unexpected '{rest[pos:].strip()[:40]}'."
            )
        pname = found.group(1).upper()
        if pattern is _PARAM_SET:
            value = _parse_one(f"SELECT {found.group(2)}").expressions[0]
            items.append(exp.Property(this=exp.var(pname), value=value))
        else:
            items.append(exp.var(pname))
        pos = found.end()
    return AlterParameters(kind=kind, this=target, exists=bool(m["exists"]), expressions=items)


def _parse_extension(text: str) -> exp.Expr | None:
    """chronolake's own statements, written with Snowflake's pieces (a table ref, a point)."""
    m = _RESTORE.match(text)
    if m:
        select = _parse_one(f"SELECT * FROM {m['name']} {m['point']}")
        table = select.find(exp.Table)
        if table is None or table.args.get("when") is None:
            raise SqlError("RESTORE TABLE needs: RESTORE TABLE <name> TO AT|BEFORE(<kind> => ...)")
        return Restore(this=table)
    m = _REVERT.match(text)
    if m:
        select = _parse_one(f"SELECT {m['q']}")
        return Revert(this=select.expressions[0])
    m = _ALTER_PARAMS.match(text)
    if m:
        return _alter_parameters(m)
    return None


def _parse_one(text: str) -> exp.Expr:
    try:
        tree = sqlglot.parse_one(text, read=DIALECT)
    except (ParseError, TokenError) as e:
        raise SqlError(f"SQL compilation error: syntax error: {e}") from None
    return normalize_identifiers(tree, dialect=DIALECT)


class Unset(exp.Expression):
    """UNSET name [, ...] (sqlglot has no node for it)."""

    arg_types = {"expressions": True}  # noqa: RUF012 - sqlglot's own convention


def _refuse_forbidden_calls(text: str) -> None:
    """A forbidden function is refused even where sqlglot would fail to parse its call."""
    from chronolake.sql.binding.sandbox import deny_function, forbidden_function

    try:
        tokens = _tokens(text)
    except TokenError:
        return  # the parser reports it
    for tok, nxt in itertools.pairwise(tokens):
        if nxt.token_type == TokenType.L_PAREN and forbidden_function(tok.text.lower()):
            raise deny_function(tok.text.lower())


def _tokens(text: str) -> list[Token]:
    return sqlglot.Dialect.get_or_raise(DIALECT).tokenize(text)


def _lead_word(text: str) -> str:
    m = _LEAD.match(text)
    return m.group(1).upper() if m else ""


# Parsed trees by statement text: applications repeat the same text with new parameters.
# Cached trees are never handed out, only copies of them (statements change their tree).
_CACHE_MAX_TEXT = 8192  # a long text is rarely repeated, and its tree costs memory


def parse_statement(text: str) -> exp.Expr:
    """Parse exactly one statement; unquoted identifiers become upper case, as in Snowflake.

    Returns a tree the caller may change: a fresh copy of the cached parse of ``text``."""
    if len(text) > _CACHE_MAX_TEXT:
        return _parse(text)
    return _parse_cached(text).copy()


@functools.lru_cache(maxsize=256)
def _parse_cached(text: str) -> exp.Expr:
    return _parse(text)


def _parse(text: str) -> exp.Expr:
    lead = _lead_word(text)
    if lead in _FORBIDDEN_LEADS:
        raise PermissionDenied(
            f"{lead} is not allowed: SQL can only read and change the tables of this lake."
        )
    if _START_TXN.match(text):
        return exp.Transaction()
    m = _UNSET.match(text)
    if m:
        names = [n.strip().lstrip("$") for n in m.group(1).strip("()").split(",")]
        return Unset(expressions=[exp.to_identifier(n.upper()) for n in names if n])
    text = _PARAM_CAST.sub(lambda m: m.group(1) or "? ::", text)
    if lead in ("CREATE", "ALTER"):
        text = _NEGATIVE_DAYS.sub(r"\1'\2'", text)
    extension = _parse_extension(text)
    if extension is not None:
        return extension
    try:
        trees = [t for t in sqlglot.parse(text, read=DIALECT) if t is not None]
    except (ParseError, TokenError) as e:
        _refuse_forbidden_calls(text)
        errors = getattr(e, "errors", None) or [{}]
        first = errors[0]
        raise SqlError(
            f"SQL compilation error: syntax error: {first.get('description') or e}",
            line=first.get("line"),
            col=first.get("col"),
        ) from None
    if not trees:
        raise SqlError("Empty SQL statement.")
    if len(trees) > 1:
        raise SqlError(
            f"Actual statement count {len(trees)} did not match the desired statement count 1: "
            "execute one statement at a time."
        )
    tree = normalize_identifiers(trees[0], dialect=DIALECT)
    tree.meta[TEXT_KEY] = text  # result columns are named after the text (output_names)
    return tree
