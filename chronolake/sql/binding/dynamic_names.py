"""IDENTIFIER('name') and IDENTIFIER($var): an object or column name given as a string.

The string is read as Snowflake reads a name in SQL text: up to three dot-separated parts
(database.schema.object), each an unquoted identifier (folded to upper case) or a
double-quoted one (case kept, ``""`` for a quote). The result is an ordinary table or column
reference, so the binder resolves it against the tenant's catalog like any other name.
"""

from __future__ import annotations

import re

from sqlglot import exp

from chronolake.errors import SqlError
from chronolake.sql.binding.output_names import TEXT_KEY
from chronolake.sql.session import Session

_PART = re.compile(r'"((?:[^"]|"")+)"|([A-Za-z_][A-Za-z0-9_$]*)')


def name_parts(text: str) -> list[exp.Identifier]:
    """The identifiers of a dotted name, or SqlError when ``text`` is not a valid name."""
    parts: list[exp.Identifier] = []
    pos = 0
    while True:
        m = _PART.match(text, pos)
        if m is None:
            raise SqlError(f"SQL compilation error: invalid identifier '{text}'")
        quoted = m.group(1) is not None
        name = m.group(1).replace('""', '"') if quoted else m.group(2).upper()
        parts.append(exp.to_identifier(name, quoted=quoted))
        pos = m.end()
        if pos == len(text):
            return parts
        if text[pos] != ".":
            raise SqlError(f"SQL compilation error: invalid identifier '{text}'")
        pos += 1


def _text(value: exp.Expr) -> str:
    if not (isinstance(value, exp.Literal) and value.is_string):
        raise SqlError(
            "SQL compilation error: IDENTIFIER takes a string constant or a session variable "
            f"holding one, not {value.sql('snowflake')}."
        )
    return value.this.strip()


def name_table(table: exp.Table, value: exp.Expr) -> exp.Table:
    """Give ``table`` (a reference written IDENTIFIER(...)) the name ``value`` spells, in
    place (its alias and AT/BEFORE clause stay)."""
    parts = name_parts(_text(value))
    if len(parts) > 3:
        raise SqlError(f"SQL compilation error: invalid identifier '{_text(value)}'")
    table.set("this", parts[-1])
    table.set("db", parts[-2] if len(parts) > 1 else None)
    table.set("catalog", parts[-3] if len(parts) > 2 else None)
    return table


def column_from(value: exp.Expr) -> exp.Column:
    """A column reference (``col`` or ``table.col``) from the string ``value``."""
    parts = name_parts(_text(value))
    if len(parts) > 2:
        raise SqlError(f"SQL compilation error: invalid identifier '{_text(value)}'")
    return exp.Column(this=parts[-1], table=parts[0] if len(parts) == 2 else None)


def variable(session: Session, node: exp.Parameter) -> exp.Expr:
    """The value of the session variable ``$name`` (a constant expression)."""
    name = node.name.upper()
    if name not in session.variables:
        raise SqlError(f"Session variable '${name}' does not exist. Set it with SET {name} = ...")
    return session.variables[name].copy()


def resolve_dynamic_names(session: Session, tree: exp.Expr) -> exp.Expr:
    """Replace every IDENTIFIER(...) of ``tree`` (in place) by the name it spells.

    Runs before the sandbox check, so that check sees only ordinary names."""

    def transform(node: exp.Expr) -> exp.Expr:
        return resolve_one(session, node) or node

    text = tree.meta.get(TEXT_KEY)
    if isinstance(text, str) and "IDENTIFIER" not in text.upper():
        return tree  # the common case, without a walk of the tree
    return tree.transform(transform, copy=False)


def resolve_one(session: Session, node: exp.Expr) -> exp.Expr | None:
    """``node`` with its IDENTIFIER(...) resolved (a table in place, a column as a new node),
    or None when it has none."""
    if isinstance(node, exp.Table) and isinstance(node.this, exp.DynamicIdentifier):
        return name_table(node, _argument(session, node.this))
    if isinstance(node, exp.DynamicIdentifier):
        return column_from(_argument(session, node))
    return None


def _argument(session: Session, node: exp.DynamicIdentifier) -> exp.Expr:
    value = node.this
    if isinstance(value, exp.Placeholder):
        raise SqlError(
            "SQL compilation error: IDENTIFIER(?) is not supported: set a session variable and "
            "use IDENTIFIER($name)."
        )
    return variable(session, value) if isinstance(value, exp.Parameter) else value
