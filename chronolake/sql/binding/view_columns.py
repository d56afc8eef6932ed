"""The columns a view records: its query's, renamed in order by CREATE VIEW's column list.

``CREATE VIEW v (c1, c2 COMMENT '...') AS SELECT ...`` names the query's result columns
positionally. The names (and the types the query had at CREATE) are kept in the catalog, so
SELECT *, DESCRIBE VIEW and INFORMATION_SCHEMA.COLUMNS show them; a read of the view applies
them again and checks that the query still produces that many columns (Snowflake's rule).
"""

from __future__ import annotations

import re
from dataclasses import replace

from sqlglot import exp

from chronolake.catalog.model import ColumnInfo
from chronolake.errors import NotSupportedError, SqlError
from chronolake.sql.grammar.parse import parse_statement


def declared_names(columns: exp.Schema) -> list[str]:
    """The names of a CREATE VIEW column list; a column COMMENT is accepted (and, as on
    tables, not kept), anything else a column of a view cannot have is refused."""
    names = []
    for item in columns.expressions:
        if isinstance(item, exp.Identifier):
            names.append(item.name)
            continue
        if not isinstance(item, exp.ColumnDef):
            raise SqlError(
                f"SQL compilation error: '{item.sql('snowflake')}' is not a column name: the "
                "column list of CREATE VIEW holds names, each with an optional COMMENT."
            )
        if item.args.get("kind") is not None:
            raise SqlError(
                f"SQL compilation error: column {item.name} of a view cannot have a data type: "
                "its type is the query's; cast in the query instead."
            )
        for constraint in item.args.get("constraints") or []:
            if not isinstance(constraint.args.get("kind"), exp.CommentColumnConstraint):
                raise NotSupportedError(
                    f"'{constraint.sql('snowflake')}' on view column {item.name} is not "
                    "supported: a view column takes only a COMMENT."
                )
        names.append(item.name)
    return names


def width_mismatch(view: str, declared: int, produced: int) -> SqlError:
    """Snowflake's error for a view whose query does not produce its declared columns."""
    return SqlError(
        f"SQL compilation error: View definition for '{view}' declared {declared} column(s), "
        f"but view query produces {produced} column(s)."
    )


def renamed(view: str, columns: list[ColumnInfo], names: list[str]) -> list[ColumnInfo]:
    """``columns`` (the query's) under the declared ``names``, which must be as many."""
    if len(names) != len(columns):
        raise width_mismatch(view, len(names), len(columns))
    return [replace(c, name=n) for c, n in zip(columns, names, strict=True)]


def view_alias(alias: exp.TableAlias, columns: tuple[ColumnInfo, ...]) -> exp.TableAlias:
    """``alias`` (the reference's own, or the view's name) naming the view's columns; names
    the reference itself gives (``FROM v AS x (p, q)``) take precedence, in order."""
    given = list(alias.columns)
    rest = [exp.to_identifier(c.name, quoted=True) for c in columns[len(given) :]]
    out = alias.copy()
    out.set("columns", given + rest)
    return out


def _name(text: str) -> exp.Identifier:
    """An identifier that reads back as ``text`` (quoted unless Snowflake would upper-case it
    to itself)."""
    return exp.to_identifier(text, quoted=_PLAIN.fullmatch(text) is None)


_PLAIN = re.compile(r"[A-Z_][A-Z0-9_$]*")


def view_definition(name: str, body: str, columns: tuple[ColumnInfo, ...]) -> str:
    """The CREATE VIEW statement of a view (its recorded column names, if any, as the list),
    as SHOW VIEWS and INFORMATION_SCHEMA.VIEWS show it."""
    table: exp.Expr = exp.Table(this=_name(name))
    if columns:
        table = exp.Schema(this=table, expressions=[_name(c.name) for c in columns])
    create = exp.Create(this=table, kind="VIEW", expression=parse_statement(body))
    return create.sql("snowflake")
