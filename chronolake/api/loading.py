"""Bulk loading from Python, like the Snowflake connector's ``write_pandas``."""

from __future__ import annotations

import itertools
from typing import Any

from sqlglot import exp

from chronolake.api.connection import Connection, _as_arrow
from chronolake.api.opening import table_node

_ids = itertools.count(1)


def write_arrow(
    con: Connection,
    data: Any,
    table_name: str,
    *,
    auto_create_table: bool = False,
    overwrite: bool = False,
    quote_identifiers: bool = True,
) -> tuple[bool, int]:
    """Append an Arrow table (or pandas/polars DataFrame) to ``table_name`` in one statement.

    Columns are matched by name; as in the Snowflake connector, names are quoted (kept exactly
    as spelled) unless ``quote_identifiers=False``, which upper-cases them. Returns
    (success, rows written), as ``write_pandas`` does.

    >>> import chronolake, pyarrow as pa
    >>> con = chronolake.connect(lake)
    >>> data = pa.table({"ID": [1, 2], "NAME": ["ann", "bo"]})
    >>> chronolake.write_arrow(con, data, "people", auto_create_table=True)
    (True, 2)
    >>> con.execute("SELECT name FROM people ORDER BY id").fetchall()
    [('ann',), ('bo',)]
    """
    arrow = _as_arrow(data)
    tmp = f"__CL_LOAD_{next(_ids)}"
    con.register(tmp, arrow)
    try:
        target = table_node(table_name)
        source = [exp.to_identifier(c, quoted=True) for c in arrow.column_names]
        names = [exp.to_identifier(c, quoted=quote_identifiers) for c in arrow.column_names]
        src = exp.select(*(exp.alias_(s, n) for s, n in zip(source, names, strict=True))).from_(
            exp.to_table(tmp, quoted=True)
        )
        cur = con.cursor()
        if auto_create_table or overwrite:
            create = exp.Create(
                this=target.copy(),
                kind="TABLE",
                exists=not overwrite,
                replace=overwrite,
                expression=src.copy().where(exp.false()),
            )
            cur.execute(create.sql("snowflake"))
        schema = exp.Schema(this=target, expressions=[n.copy() for n in names])
        cur.execute(exp.Insert(this=schema, expression=src).sql("snowflake"))
        return True, max(cur.rowcount, 0)
    finally:
        con.unregister(tmp)


def write_pandas(
    con: Connection,
    df: Any,
    table_name: str,
    *,
    auto_create_table: bool = False,
    overwrite: bool = False,
    quote_identifiers: bool = True,
) -> tuple[bool, int]:
    """Append a pandas DataFrame to ``table_name`` (see ``write_arrow``).

    >>> import chronolake, pandas as pd
    >>> con = chronolake.connect(lake)
    >>> df = pd.DataFrame({"ID": [1, 2, 3]})
    >>> chronolake.write_pandas(con, df, "numbers", auto_create_table=True)
    (True, 3)
    """
    return write_arrow(
        con,
        df,
        table_name,
        auto_create_table=auto_create_table,
        overwrite=overwrite,
        quote_identifiers=quote_identifiers,
    )
