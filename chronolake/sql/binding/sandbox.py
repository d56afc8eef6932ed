"""The first line of tenant isolation: user SQL reaches the tenant's tables and pure functions.

What a statement may touch is an allow-list, checked before DuckDB sees anything:

- statements: Snowflake's; engine commands (PRAGMA, ATTACH, SET GLOBAL, ...) are refused;
- functions: those of ``allowed_functions`` (generated from DuckDB's catalog by ``allowlist``),
  judged by the name DuckDB will run, i.e. after sqlglot's Snowflake-to-DuckDB translation;
- tables: identifiers only here; the binder then turns each one into a view of the tenant's
  own catalog (or a CTE, a registered Python object, chronolake's INFORMATION_SCHEMA) and
  refuses everything else, see ``binder.bind``.

chronolake's own SQL (views over data files) is built after this check and is not subject to it.
"""

from __future__ import annotations

import functools
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import TokenType

from chronolake.engine.session import MACROS
from chronolake.errors import PermissionDenied, SqlError
from chronolake.sql.binding.allowed_functions import REFUSED, SCALAR, TABLE
from chronolake.sql.grammar.dialect import Chronolake

ONLY_TABLES = "SQL can only read this tenant's tables."
ONLY_STATEMENTS = "SQL can only read and change the tables of this lake."

# Statements of the engine rather than of Snowflake, by their first word (one list: the
# dialect reads them whole, and the text is refused by the same words before parsing).
ENGINE_STATEMENTS = Chronolake.Parser.ENGINE_STATEMENTS
# SET <modifier> name = value sets an engine setting; Snowflake's SET name = value does not.
_SET_MODIFIERS = frozenset({"GLOBAL", "SESSION", "LOCAL", "PERSIST", "VARIABLE"})
_ENGINE_NODES = (
    exp.Command,
    exp.Pragma,
    exp.Copy,
    exp.Attach,
    exp.Detach,
    exp.Install,
    exp.Export,
    exp.Analyze,
    exp.Summarize,
)
_LEAD = re.compile(r"(?:\s+|--[^\n]*(?:\n|$)|//[^\n]*(?:\n|$)|/\*.*?\*/|\()*([A-Za-z_]+)", re.S)
# the session's functions: chronolake replaces them with constants per statement (substitute.py)
SESSION_FUNCTIONS = (
    exp.CurrentTimestamp,
    exp.CurrentDate,
    exp.CurrentTime,
    exp.CurrentDatabase,
    exp.CurrentSchema,
    exp.CurrentUser,
)
# what chronolake binds itself before DuckDB runs, so the allow-list need not name it
_BOUND_BY_CHRONOLAKE = (*SESSION_FUNCTIONS, exp.DynamicIdentifier)
_BOUND_NAMES = frozenset({"LAST_QUERY_ID"})
# a call as DuckDB's SQL writes it: NAME( or "NAME"( or a bare keyword such as CURRENT_DATE
_CALL_TEXT = re.compile(r'^\s*(?:"((?:[^"]|"")+)"|([A-Za-z_][A-Za-z0-9_$]*))\s*(?:\(|$)')
_FROM_ITEMS = (exp.Table, exp.Lateral, exp.TableFromRows)
_TABLE_POSITIONS = (*_FROM_ITEMS, exp.From, exp.Join)


# -- statements ---------------------------------------------------------------------------


def refuse_statement(kind: str) -> PermissionDenied:
    """The error for a statement of the engine's (``kind``: its first words)."""
    return PermissionDenied(f"{kind} is not allowed: {ONLY_STATEMENTS}")


def refuse_engine_statement(text: str) -> None:
    """Refuse an engine command by its first words, even where the parser would fail on it."""
    m = _LEAD.match(text)
    lead = m.group(1).upper() if m else ""
    if lead in ENGINE_STATEMENTS:
        raise refuse_statement(lead)
    if lead != "SET":
        return
    try:
        tokens = sqlglot.Dialect.get_or_raise("snowflake").tokenize(text)
    except TokenError:
        return  # the parser reports it
    modifier = tokens[1].text.upper() if len(tokens) >= 3 else ""
    if modifier in _SET_MODIFIERS and tokens[2].token_type not in (TokenType.EQ, TokenType.COMMA):
        raise refuse_statement(f"SET {tokens[1].text.upper()}")


# -- functions ----------------------------------------------------------------------------


def deny_function(name: str, table: bool = False) -> PermissionDenied:
    kind = "Table function" if table else "Function"
    return PermissionDenied(f"{kind} {name.upper()} is not allowed: {ONLY_TABLES}")


def forbidden_function(name: str) -> bool:
    """Whether ``name`` is an engine function user SQL may not call."""
    name = name.lower()
    return name in REFUSED


def _judge(name: str, table: bool, typed: bool) -> None:
    """Allow the call of ``name`` (DuckDB's name), or raise why not."""
    name = name.lower()
    if name in TABLE or (not table and (name in SCALAR or name in MACROS)):
        return
    if name in REFUSED or name in SCALAR:  # SCALAR: a scalar function called in FROM
        raise deny_function(name, table)
    if typed:
        return  # syntax sqlglot knows (CAST, EXTRACT, ...) that is no function of the engine
    raise SqlError(f"SQL compilation error: Unknown function {name.upper()}")


def _called_name(node: exp.Func) -> tuple[str, bool] | None:
    """(name DuckDB calls, whether sqlglot knows the function) of a node of a DuckDB tree."""
    if isinstance(node, exp.Anonymous):
        return node.name, False
    m = _CALL_TEXT.match(node.sql("duckdb"))
    if m is None:
        return None  # an operator, CASE, ...: its operands are calls of their own
    return (m.group(1).replace('""', '"') if m.group(1) else m.group(2)), True


def _in_table_position(node: exp.Expr) -> bool:
    return isinstance(node.parent, _TABLE_POSITIONS) and node.arg_key == "this"


@functools.lru_cache(maxsize=1024)
def _check_duckdb_call(text: str, table: bool) -> None:
    """Check every call in ``text``, one call as DuckDB will run it (cached by its text)."""
    try:
        tree = sqlglot.parse_one(text, read="duckdb")
    except (ParseError, TokenError):
        head = _CALL_TEXT.match(text)
        if head is not None:  # refused by its name if it is one, else a syntax error
            _judge(head.group(1) or head.group(2), table, typed=True)
        raise SqlError(f"SQL compilation error: syntax error in {text[:80]}") from None
    for node in tree.walk():
        if isinstance(node, exp.Dot) and isinstance(node.expression, exp.Func):
            raise deny_function(node.sql("duckdb").split("(")[0], table)
        if not isinstance(node, exp.Func):
            continue
        called = _called_name(node)
        if called is not None:
            is_table = table if node is tree else _in_table_position(node)
            _judge(called[0], is_table, called[1])


def bound_by_chronolake(node: exp.Expr) -> bool:
    return isinstance(node, _BOUND_BY_CHRONOLAKE) or (
        isinstance(node, exp.Anonymous) and node.name.upper() in _BOUND_NAMES
    )


def _outermost_calls(tree: exp.Expr) -> Iterator[exp.Func]:
    """The calls of a Snowflake tree that are not arguments of another call."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, exp.Func) and not bound_by_chronolake(node):
            yield node
            continue
        stack.extend(node.iter_expressions())


def _check_calls(tree: exp.Expr) -> None:
    calls = list(_outermost_calls(tree))
    if not calls:
        return
    for call in calls:
        dot = call.parent
        if (
            isinstance(dot, exp.Dot)
            and call.arg_key == "expression"
            and not _information_schema_function(dot)
        ):
            raise deny_function(dot.sql("snowflake").split("(")[0])
    # one copy of the statement, whose calls are then written without a copy each (faster);
    # in it chronolake's own values are NULL, as they will be constants when DuckDB runs
    copy = tree.copy()
    for node in list(copy.find_all(exp.Func)):
        if bound_by_chronolake(node):
            node.replace(exp.null())
    copies = list(_outermost_calls(copy))
    for call in copies:
        if not _information_schema_function(call.parent):
            _check_duckdb_call(call.sql("duckdb", copy=False), _in_table_position(call))


def _information_schema_function(dot: exp.Expr | None) -> bool:
    """TABLE(INFORMATION_SCHEMA.QUERY_HISTORY(...)): chronolake's own table function."""
    return (
        isinstance(dot, exp.Dot)
        and isinstance(dot.parent, exp.TableFromRows)
        and isinstance(dot.this, exp.Identifier)
        and dot.this.name.upper() == "INFORMATION_SCHEMA"
    )


def check_table_function(fn: exp.Expr) -> None:
    """Refuse a table function (a call in FROM) that is not on the allow-list."""
    if isinstance(fn, exp.Dot) and _information_schema_function(fn):
        return
    # IDENTIFIER(...) still here was not resolved to a name of the tenant's catalog
    if isinstance(fn, (exp.Dot, exp.DynamicIdentifier)) or not isinstance(fn, exp.Func):
        raise refuse_table(fn.sql("snowflake"))
    _check_duckdb_call(fn.sql("duckdb"), True)


# -- tables -------------------------------------------------------------------------------


def refuse_table(label: str, why: str = "") -> PermissionDenied:
    why = why or "a table is named by an identifier, not a string, a path or a variable"
    return PermissionDenied(f"Table reference {label} is not allowed: {why}. {ONLY_TABLES}")


def _check_from_item(node: exp.Table | exp.TableFromRows | exp.Lateral) -> None:
    """What FROM reads is a name, a call (judged with the calls) or a query; nothing else."""
    this = node.this
    if isinstance(this, exp.Literal):
        raise refuse_table(f"'{this.name}'")
    if isinstance(this, exp.Identifier) and isinstance(node, exp.Table):
        return
    if isinstance(this, (exp.Func, exp.Query, exp.Subquery)) or this is None:
        return
    if isinstance(this, exp.Dot) and _information_schema_function(this):
        return
    raise refuse_table(this.sql("snowflake"))


def check_not_a_name(node: exp.Table) -> None:
    """A bound table reference that is not a name: an allowed table function, or refused."""
    this = node.this
    if isinstance(this, (exp.Func, exp.Dot)):
        check_table_function(this)
        return
    if isinstance(this, exp.Literal):
        raise refuse_table(f"'{this.name}'")
    raise refuse_table(this.sql("snowflake") if this is not None else "(empty)")


# engine objects a name could mean were it not bound: refused, rather than "not found"
_ENGINE_PREFIXES = ("pg_", "duckdb_", "sqlite_", "pragma_", "__cl_")
_ENGINE_CATALOGS = frozenset({"system", "temp", "memory"})


def refuse_engine_object(node: exp.Table) -> None:
    """Raise PermissionDenied if a name the tenant's catalog lacks names an engine object."""
    parts = [p for p in (node.catalog, node.db, node.name) if p]
    engine = (node.catalog or "").lower() in _ENGINE_CATALOGS or any(
        p.lower().startswith(_ENGINE_PREFIXES) or p.lower() == "information_schema" for p in parts
    )
    if engine:
        raise refuse_table(".".join(parts), "it is not a table of this tenant")


# -- the statement ------------------------------------------------------------------------


# statement texts that passed the check (it depends on the text alone): repeats are free
_PASSED: OrderedDict[str, None] = OrderedDict()
_PASSED_MAX = 512
_PASSED_MAX_TEXT = 8192
_PASSED_LOCK = threading.Lock()


def check(tree: exp.Expr, text: str | None = None) -> None:
    """Raise PermissionDenied if the statement reaches outside the tenant's tables.

    ``text``, when given, is the statement ``tree`` was parsed from: a text that passed
    before is not checked again."""
    if text is not None:
        with _PASSED_LOCK:
            if text in _PASSED:
                _PASSED.move_to_end(text)
                return
    _check_tree(tree)
    if text is not None and len(text) <= _PASSED_MAX_TEXT:
        with _PASSED_LOCK:
            _PASSED[text] = None
            if len(_PASSED) > _PASSED_MAX:
                _PASSED.popitem(last=False)


def _check_tree(tree: exp.Expr) -> None:
    from chronolake.sql.grammar.parse import Revert

    for node in tree.walk():
        if isinstance(node, _ENGINE_NODES):
            kind = node.name.upper() if isinstance(node, exp.Command) else node.key.upper()
            raise refuse_statement(kind)
        if isinstance(node, _FROM_ITEMS):
            _check_from_item(node)
    if isinstance(tree, Revert) and tree.find(exp.Query, exp.Table) is not None:
        raise SqlError("REVERT STATEMENT takes a query id, not a query.")
    _check_calls(tree)
