"""The 22 TPC-H queries (Snowflake SQL, ``queries/qNN.sql``) and their two renderings:
chronolake's, every table reference pinned to a state by AT/BEFORE, and plain DuckDB's."""

from __future__ import annotations

from pathlib import Path

import sqlglot
from sqlglot import exp

QUERY_DIR = Path(__file__).resolve().parent / "queries"
NUMBERS = tuple(range(1, 23))


def text(n: int) -> str:
    return (QUERY_DIR / f"q{n:02d}.sql").read_text()


def _tables(tree: exp.Expr) -> list[exp.Table]:
    """The references to stored tables (not to a WITH clause's names)."""
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    return [t for t in tree.find_all(exp.Table) if t.name.lower() not in ctes]


def pinned(sql: str, kind: str | None, query_id: str | None) -> str:
    """``sql`` with ``kind``(STATEMENT => query_id) on every table reference (``kind`` AT
    or BEFORE), or unchanged (the latest state) when ``kind`` is None."""
    tree = sqlglot.parse_one(sql, read="snowflake")
    if kind is not None:
        assert query_id is not None
        for table in _tables(tree):
            table.set(
                "when",
                exp.HistoricalData(
                    this=kind, kind="STATEMENT", expression=exp.Literal.string(query_id)
                ),
            )
    return tree.sql("snowflake")


def order_columns(sql: str) -> list[int] | None:
    """The output positions of the outer ORDER BY's items (None when one is not an output
    column): rows equal on them may come in any order."""
    tree = sqlglot.parse_one(sql, read="snowflake")
    assert isinstance(tree, exp.Select)
    order = tree.args.get("order")
    if order is None:
        return None
    names = [p.alias_or_name.lower() for p in tree.expressions]
    out = []
    for item in order.expressions:
        col = item.this
        if not isinstance(col, exp.Column) or col.name.lower() not in names:
            return None
        out.append(names.index(col.name.lower()))
    return out


def _plain_interval(node: exp.Expression) -> exp.Expression:
    """DuckDB has no leading-field precision: ``INTERVAL '90' DAY (3)`` becomes ``... DAY``."""
    if isinstance(node, exp.Interval) and node.unit is not None:
        unit = node.unit
        name = unit.name if isinstance(unit, exp.Var) else unit.sql()
        base = name.split("(")[0].strip()
        if base != name:
            return exp.Interval(this=node.this.copy(), unit=exp.var(base))
    return node


def duckdb_sql(sql: str) -> str:
    """``sql`` in DuckDB's dialect, for plain DuckDB over Parquet views of the same names."""
    tree = sqlglot.parse_one(sql, read="snowflake")
    return tree.transform(_plain_interval).sql("duckdb")
