"""Constants a statement is bound with before it runs.

``?`` parameters, ``$variables``, ``LAST_QUERY_ID()``, the statement's own current time and
names (CURRENT_TIMESTAMP and friends come from the session clock, so time can be simulated),
and Snowflake's literal spellings DuckDB does not read (``'... +02:00'`` offsets, ``'off'``).
A replaced projection keeps the name Snowflake gives it (``$X``, ``LAST_QUERY_ID()``).
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from collections.abc import Callable, Sequence
from typing import Any

import duckdb
from sqlglot import exp

from chronolake.engine.session import DIVISOR_MACRO, first_row
from chronolake.errors import DataError, ProgrammingError, SqlError
from chronolake.sql.binding.dynamic_names import resolve_one, variable
from chronolake.sql.binding.flatten import rewrite_flatten
from chronolake.sql.binding.output_names import TEXT_KEY, name_projections
from chronolake.sql.binding.sandbox import SESSION_FUNCTIONS
from chronolake.sql.grammar.literals import to_literal
from chronolake.sql.session import Session

_OFFSET_SPACE = re.compile(r"^(\d{4}-\d\d-\d\d[ T][\d:.]+)\s+([+-]\d\d(?::?\d\d)?)$")
_BOOLEANS = {
    "true": True, "t": True, "yes": True, "y": True, "on": True, "1": True,
    "false": False, "f": False, "no": False, "n": False, "off": False, "0": False,
}  # fmt: skip
_TIMESTAMPS = {
    exp.DType.TIMESTAMP,
    exp.DType.TIMESTAMPTZ,
    exp.DType.TIMESTAMPLTZ,
    exp.DType.TIMESTAMPNTZ,
    exp.DType.DATETIME,
}


def _position(session: Session, arg: exp.Expr) -> int | None:
    """The position argument of LAST_QUERY_ID as Snowflake reads it: a constant number or
    numeric string (rounded to an integer), NULL for NULL."""
    if isinstance(arg, exp.Parameter):
        arg = variable(session, arg)
    if any(isinstance(n, (exp.Column, exp.Select, exp.Parameter, exp.Star)) for n in arg.walk()):
        raise SqlError(
            "SQL compilation error: argument 1 to function LAST_QUERY_ID needs to be constant, "
            f"found '{arg.sql('snowflake')}'"
        )
    not_a_number = SqlError(
        "SQL compilation error: argument 1 to function LAST_QUERY_ID must be a number, "
        f"found '{arg.sql('snowflake')}'"
    )
    try:
        row = first_row(session.duck, exp.select(arg.copy()).sql("duckdb"))
    except duckdb.Error:
        raise not_a_number from None
    value = None if row is None else row[0]
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, decimal.Decimal, str)):
        raise not_a_number
    try:
        number = decimal.Decimal(value.strip() if isinstance(value, str) else value)
    except decimal.InvalidOperation:
        raise DataError(f"Numeric value '{value}' is not recognized") from None
    if not number.is_finite():
        raise DataError(f"Numeric value '{value}' is not recognized")
    return int(number.to_integral_value(rounding=decimal.ROUND_HALF_UP))


def _last_query_id(session: Session, node: exp.Anonymous) -> str | None:
    """The id of the n-th statement of the session (negative n: from the most recent one);
    NULL for a NULL or out-of-range n."""
    if len(node.expressions) > 1:
        raise SqlError(
            "SQL compilation error: too many arguments for function LAST_QUERY_ID: "
            f"expected at most 1, got {len(node.expressions)}"
        )
    n = _position(session, node.expressions[0]) if node.expressions else -1
    ids = session.query_ids
    if n is None:
        return None
    if n < 0 and -n <= len(ids):
        return ids[n]
    if 0 < n <= len(ids):
        return ids[n - 1]
    return None


_TEXT = {exp.DType.VARCHAR, exp.DType.TEXT, exp.DType.CHAR, exp.DType.NVARCHAR}


def _cast_literal(node: exp.Cast) -> exp.Expr | None:
    """Snowflake spellings DuckDB would read differently, rewritten to ones it reads."""
    value = node.this
    if isinstance(value, exp.JSONExtract) and node.to.this in _TEXT:
        # v:a::VARCHAR is the string itself in Snowflake, not its JSON text ("x")
        scalar = exp.JSONExtractScalar(this=value.this, expression=value.expression)
        return exp.Cast(this=scalar, to=node.to)
    if isinstance(value, exp.ParseJSON) and node.to.this in _TEXT:
        return exp.func("json_extract_string", value, exp.Literal.string("$"))
    if not (isinstance(value, exp.Literal) and value.is_string):
        return None
    to = node.to.this
    text = value.this.strip()
    if to in _TIMESTAMPS:
        m = _OFFSET_SPACE.match(text)
        if m:
            return exp.Cast(this=exp.Literal.string(m[1] + m[2]), to=node.to)
    if to == exp.DType.BOOLEAN and text.lower() in _BOOLEANS:
        return exp.true() if _BOOLEANS[text.lower()] else exp.false()
    return None


def _name_values(node: exp.Values) -> None:
    """Snowflake names the columns of a VALUES table COLUMN1, COLUMN2, ..."""
    alias = node.args.get("alias")
    if (alias is not None and alias.columns) or isinstance(node.parent, exp.Insert):
        return
    width = len(node.expressions[0].expressions) if node.expressions else 0
    table = alias.this if alias is not None and alias.this else exp.to_identifier("VALUES")
    cols = [exp.to_identifier(f"COLUMN{i + 1}") for i in range(width)]
    node.set("alias", exp.TableAlias(this=table, columns=cols))


def substitute(
    session: Session, tree: exp.Expr, params: Sequence[Any] | None, start: dt.datetime
) -> exp.Expr:
    """Bind everything constant in ``tree`` (in place) and return it."""
    text = tree.meta.get(TEXT_KEY)
    placeholders = [p for p in tree.dfs() if isinstance(p, exp.Placeholder)]
    given = list(params or [])
    if len(placeholders) != len(given):
        raise ProgrammingError(
            f"The statement has {len(placeholders)} '?' parameter(s) but {len(given)} value(s) "
            "were given."
        )
    for node, value in zip(placeholders, given, strict=True):
        node.replace(to_literal(value))

    flatten = False

    def value_of(node: exp.Expr) -> exp.Expr | None:
        nonlocal flatten
        if isinstance(node, exp.Select):
            name_projections(node, text)  # before its expressions are rewritten
            return None
        if isinstance(node, exp.Explode):
            flatten = True
            return None
        if isinstance(node, (exp.Table, exp.DynamicIdentifier)):
            # IDENTIFIER(...) was resolved before the sandbox check, unless re-parsed for a retry
            return resolve_one(session, node)
        if isinstance(node, PER_QUERY):
            return None if in_view_body else _per_query_value(session, node, start)
        if isinstance(node, exp.Cast):
            return _cast_literal(node)
        if isinstance(node, exp.Values):
            _name_values(node)
            return None
        if isinstance(node, exp.ArraySize) and isinstance(
            node.this, (exp.JSONExtract, exp.ParseJSON)
        ):
            return exp.func("json_array_length", node.this)
        if isinstance(node, exp.Div) and not isinstance(node.expression, exp.Anonymous):
            return exp.Div(
                this=node.this,
                expression=exp.Anonymous(this=DIVISOR_MACRO, expressions=[node.expression]),
                typed=node.args.get("typed"),
                safe=node.args.get("safe"),
            )
        return None

    creates_view = isinstance(tree, exp.Create) and str(tree.args.get("kind")).upper() == "VIEW"
    body = tree.args.get("expression") if creates_view else None
    if body is not None:
        tree.set("expression", None)
    in_view_body = False
    tree = tree.transform(_replacing(value_of), copy=False)
    if body is not None:
        # a view's body keeps what changes per query; each read of the view binds it
        in_view_body = True
        tree.set("expression", body.transform(_replacing(value_of), copy=False))
    # a view keeps FLATTEN as written (its text is stored); the binder expands it when read
    return rewrite_flatten(tree) if flatten and not creates_view else tree


# what changes from one statement to the next: a view's body keeps these as written
PER_QUERY = (exp.Parameter, exp.Anonymous, *SESSION_FUNCTIONS)


def _per_query_value(session: Session, node: exp.Expr, start: dt.datetime) -> exp.Expr | None:
    """The statement's value of a session variable, LAST_QUERY_ID() or a CURRENT_ function."""
    if isinstance(node, exp.Parameter):
        return variable(session, node)
    if isinstance(node, exp.Anonymous):
        is_last = node.name.upper() == "LAST_QUERY_ID"
        return to_literal(_last_query_id(session, node)) if is_last else None
    if isinstance(node, exp.CurrentTimestamp):
        return to_literal(start)
    if isinstance(node, exp.CurrentDate):
        return to_literal(start.date())
    if isinstance(node, exp.CurrentTime):
        return to_literal(start.time())
    if isinstance(node, exp.CurrentDatabase):
        return to_literal(session.database)
    if isinstance(node, exp.CurrentSchema):
        return to_literal(session.schema)
    if isinstance(node, exp.CurrentUser):
        return to_literal(session.settings.user)
    return None


def _replacing(value_of: Callable[[exp.Expr], exp.Expr | None]) -> Callable[[exp.Expr], exp.Expr]:
    """A transform putting ``value_of(node)`` in place of a node; a replaced projection keeps
    the name Snowflake gives it (its text)."""

    def transform(node: exp.Expr) -> exp.Expr:
        new = value_of(node)
        if new is None:
            return node
        parent = node.parent
        if isinstance(parent, exp.Select) and node.arg_key == "expressions":
            name = node.sql("snowflake").upper()
            return exp.alias_(new, exp.to_identifier(name, quoted=True))
        return new

    return transform


def per_query(session: Session, tree: exp.Expr, start: dt.datetime) -> exp.Expr:
    """Bind (in place) what a stored view body keeps as written: session variables,
    LAST_QUERY_ID() and the CURRENT_ functions, with the values of the reading statement."""
    return tree.transform(
        _replacing(lambda node: _per_query_value(session, node, start)), copy=False
    )
