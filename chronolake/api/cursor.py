"""PEP 249 cursor with the Snowflake connector's habits (sfqid, fetch_arrow_all, ...)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from chronolake.errors import InterfaceError

if TYPE_CHECKING:
    from chronolake.api.connection import Connection


def _description(table: pa.Table) -> list[tuple[Any, ...]]:
    out = []
    for f in table.schema:
        precision = scale = None
        if pa.types.is_decimal(f.type):
            precision, scale = f.type.precision, f.type.scale
        out.append((f.name, str(f.type), None, None, precision, scale, True))
    return out


def _is_single_row_insert(sql: str) -> bool:
    from sqlglot import exp

    from chronolake.errors import Error
    from chronolake.sql.grammar.parse import parse_statement

    try:
        tree = parse_statement(sql)
    except (Error, RecursionError):
        return False  # execute() reports it, with a query id
    values = tree.expression if isinstance(tree, exp.Insert) else None
    return isinstance(values, exp.Values) and len(values.expressions) == 1


def _check_sql(sql: object) -> None:
    if not isinstance(sql, str):
        raise InterfaceError(f"The statement must be a string (str), not {type(sql).__name__}.")


class Cursor:
    """Runs statements and fetches their results (in the examples, ``lake`` is an empty
    directory).

    >>> import chronolake
    >>> cur = chronolake.connect(lake).cursor()
    >>> cur.execute("SELECT 1 + 1 AS two").fetchone()
    (2,)
    >>> cur.description[0][0]
    'TWO'
    """

    arraysize = 1

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._table: pa.Table | None = None
        self._rows: list[tuple[Any, ...]] | None = None
        self._pos = 0
        self.rowcount = -1
        self.sfqid: str | None = None
        self._closed = False

    @property
    def query_id(self) -> str | None:
        """The id of the last statement run (as ``sfqid``): usable in AT(STATEMENT => ...)."""
        return self.sfqid

    @property
    def description(self) -> list[tuple[Any, ...]] | None:
        return None if self._table is None else _description(self._table)

    def _check(self) -> None:
        if self._closed:
            raise InterfaceError("Cursor is closed.")
        self.connection._check()

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> Cursor:
        """Run one statement; ``?`` placeholders take ``params`` in order. Returns the cursor.

        >>> import chronolake
        >>> cur = chronolake.connect(lake).cursor()
        >>> _ = cur.execute("CREATE TABLE t (id INT, name VARCHAR)")
        >>> cur.execute("INSERT INTO t VALUES (?, ?)", [1, "ann"]).rowcount
        1
        >>> cur.execute("SELECT name FROM t WHERE id = ?", [1]).fetchall()
        [('ann',)]
        """
        self._check()
        _check_sql(sql)
        if params is not None and (
            isinstance(params, (str, bytes, dict)) or not isinstance(params, Sequence)
        ):
            raise InterfaceError(
                "params must be a sequence (list or tuple) of values for the '?' placeholders, "
                f"not {type(params).__name__}."
            )
        self._table, self._rows, self._pos, self.rowcount = None, None, 0, -1
        result = self.connection._executor.execute(sql, params)
        self._table = result.table
        self.rowcount = result.rowcount
        self.sfqid = result.query_id
        return self

    def executemany(self, sql: str, seq_of_params: Sequence[Sequence[Any]]) -> Cursor:
        """INSERT ... VALUES (?, ...) runs as one multi-row statement; others run per row.

        >>> import chronolake
        >>> cur = chronolake.connect(lake).cursor()
        >>> _ = cur.execute("CREATE TABLE t (id INT, name VARCHAR)")
        >>> cur.executemany("INSERT INTO t VALUES (?, ?)", [(1, "ann"), (2, "bo")]).rowcount
        2
        """
        self._check()
        _check_sql(sql)
        rows = list(seq_of_params)
        if any(isinstance(r, (str, bytes, dict)) or not isinstance(r, Sequence) for r in rows):
            raise InterfaceError(
                "executemany() takes a sequence of parameter rows, each a list or tuple."
            )
        if _is_single_row_insert(sql):
            self._table, self._rows, self._pos, self.rowcount = None, None, 0, 0
            result = self.connection._executor.execute_many(sql, rows)
            if result is not None:
                self._table, self.rowcount, self.sfqid = (
                    result.table,
                    result.rowcount,
                    result.query_id,
                )
            return self
        total = 0
        for params in rows:
            self.execute(sql, params)
            total += max(self.rowcount, 0)
        self.rowcount = total
        return self

    def _materialize(self) -> list[tuple[Any, ...]]:
        if self._table is None:
            raise InterfaceError("No result: execute a statement that returns rows first.")
        if self._rows is None:
            cols = [c.to_pylist() for c in self._table.columns]
            self._rows = list(zip(*cols, strict=True)) if cols else []
        return self._rows

    def fetchone(self) -> tuple[Any, ...] | None:
        """The next row, or None when there are no more.

        >>> import chronolake
        >>> cur = chronolake.connect(lake).cursor().execute("SELECT 1 UNION ALL SELECT 2")
        >>> cur.fetchone(), cur.fetchone(), cur.fetchone()
        ((1,), (2,), None)
        """
        rows = self._materialize()
        if self._pos >= len(rows):
            return None
        self._pos += 1
        return rows[self._pos - 1]

    def fetchmany(self, size: int | None = None) -> list[tuple[Any, ...]]:
        """Up to ``size`` (default ``arraysize``) next rows.

        >>> import chronolake
        >>> cur = chronolake.connect(lake).cursor().execute("SELECT * FROM range(5)")
        >>> cur.fetchmany(2), cur.fetchmany(2), cur.fetchmany(2)
        ([(0,), (1,)], [(2,), (3,)], [(4,)])
        """
        rows = self._materialize()
        n = self.arraysize if size is None else size
        out = rows[self._pos : self._pos + n]
        self._pos += len(out)
        return out

    def fetchall(self) -> list[tuple[Any, ...]]:
        """Every remaining row.

        >>> import chronolake
        >>> chronolake.connect(lake).cursor().execute("SELECT 'a', 1").fetchall()
        [('a', 1)]
        """
        rows = self._materialize()
        out = rows[self._pos :]
        self._pos = len(rows)
        return out

    def fetch_arrow_all(self) -> pa.Table | None:
        """The whole result as a pyarrow Table (None if the statement returned no result).

        >>> import chronolake
        >>> table = chronolake.connect(lake).cursor().execute("SELECT 1 AS n").fetch_arrow_all()
        >>> table.to_pydict()
        {'N': [1]}
        """
        self._check()
        return self._table

    def fetch_pandas_all(self) -> Any:
        """The whole result as a pandas DataFrame (needs pandas installed).

        >>> import chronolake
        >>> df = chronolake.connect(lake).cursor().execute("SELECT 1 AS n").fetch_pandas_all()
        >>> list(df["N"])
        [1]
        """
        if self._table is None:
            raise InterfaceError("No result: execute a statement that returns rows first.")
        return self._table.to_pandas()

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        while (row := self.fetchone()) is not None:
            yield row

    def close(self) -> None:
        """Close the cursor: later calls raise ``InterfaceError``."""
        self._closed = True
        self._table = self._rows = None

    def setinputsizes(self, sizes: Any) -> None:
        """PEP 249: accepted and ignored."""

    def setoutputsize(self, size: Any, column: Any = None) -> None:
        """PEP 249: accepted and ignored."""

    def __enter__(self) -> Cursor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
