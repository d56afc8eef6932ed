"""The TPC-H harness's own parts: time-travel pinning, the DuckDB copy of the queries, the
judge, the refresh sets and the watchdog. (The whole run is `make bench-tpch-quick`.)"""

from __future__ import annotations

import decimal
import functools
import threading
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
import sqlglot
from sqlglot import exp

from bench.tpch import data, queries
from bench.tpch.run import differ
from bench.tpch.worker import Late, Runner


@pytest.mark.parametrize("n", queries.NUMBERS)
def test_every_table_reference_is_pinned_and_no_with_name(n: int) -> None:
    sql = queries.pinned(queries.text(n), "BEFORE", "01b2-q")
    tree = sqlglot.parse_one(sql, read="snowflake")
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    tables = list(tree.find_all(exp.Table))
    assert tables
    for t in tables:
        when = t.args.get("when")
        if t.name in ctes:
            assert when is None
        else:
            assert when is not None and when.text("this") == "BEFORE", t.sql("snowflake")
            assert when.expression.name == "01b2-q"


def test_the_latest_state_is_the_query_unchanged() -> None:
    sql = queries.pinned(queries.text(5), None, None)
    assert "BEFORE" not in sql and " AT" not in sql


@pytest.fixture(scope="module")
def empty_tpch() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for table in data.TABLES:
        con.from_arrow(data.arrow_schema(table).empty_table()).create(table)
    return con


@pytest.mark.parametrize("n", queries.NUMBERS)
def test_the_duckdb_copy_runs_in_plain_duckdb(n: int, empty_tpch: Any) -> None:
    rows = empty_tpch.execute(queries.duckdb_sql(queries.text(n))).fetchall()
    assert isinstance(rows, list)


def test_the_specs_interval_precision_is_dropped_for_duckdb() -> None:
    assert "DAY(3)" not in queries.duckdb_sql(queries.text(1)).replace(" (", "(")
    assert "day (3)" in queries.text(1)


def test_the_judge_compares_to_the_cent_and_in_order() -> None:
    d = decimal.Decimal
    assert differ([("A", d("10.01"))], [("A", 10.0100001)]) is None
    assert differ([("A", d("10.01"))], [("A", d("10.02"))]) is not None
    assert differ([(1,), (2,)], [(2,), (1,)]) is not None
    assert differ([(1,)], [(1,), (1,)]) == "2 rows, plain has 1"


def test_rows_tied_on_the_order_by_columns_may_come_in_any_order() -> None:
    expected = [(1, "a"), (1, "b"), (2, "c")]
    assert differ(expected, [(1, "b"), (1, "a"), (2, "c")], [0]) is None
    assert differ(expected, [(1, "b"), (1, "a"), (2, "c")], None) is not None
    assert differ(expected, [(1, "a"), (2, "c"), (1, "b")], [0]) is not None
    assert differ(expected, [(1, "a"), (1, "a"), (2, "c")], [0]) is not None


def test_order_by_items_are_found_among_the_output_columns() -> None:
    assert queries.order_columns(queries.text(3)) == [1, 2]  # revenue desc, o_orderdate
    assert queries.order_columns(queries.text(6)) is None  # one row, no ORDER BY


def _orders_and_lineitems(n: int) -> tuple[pa.Table, pa.Table]:
    keys = [k * 4 + 1 for k in range(n)]  # sparse, as in TPC-H
    orders = pa.table({"o_orderkey": pa.array(keys, pa.int64()), "o_custkey": keys})
    lk = [k for k in keys for _ in range(3)]
    lineitem = pa.table({"l_orderkey": pa.array(lk, pa.int64()), "l_linenumber": [1, 2, 3] * n})
    return orders, lineitem


def test_refresh_sets_are_deterministic_sized_and_disjoint() -> None:
    orders, lineitem = _orders_and_lineitems(3000)
    a = data.refreshes(orders, lineitem, 0.5)
    b = data.refreshes(orders, lineitem, 0.5)
    assert len(a) == data.ROUNDS
    loaded = set(orders["o_orderkey"].to_pylist())
    new_keys: set[int] = set()
    deleted: set[int] = set()
    for ra, rb in zip(a, b, strict=True):
        assert ra.new_orders.equals(rb.new_orders) and ra.deleted_keys.equals(rb.deleted_keys)
        keys = set(ra.new_orders["o_orderkey"].to_pylist())
        assert len(keys) == 750 and not keys & loaded and not keys & new_keys
        assert set(ra.new_lineitems["l_orderkey"].to_pylist()) == keys
        assert ra.new_lineitems.num_rows == 3 * 750
        gone = set(ra.deleted_keys["orderkey"].to_pylist())
        assert len(gone) == 750 and gone <= loaded and not gone & deleted
        new_keys |= keys
        deleted |= gone


class _Stuck:
    """An engine whose every statement waits forever (a runaway query)."""

    def execute(self, sql: str) -> Any:
        threading.Event().wait()

    def close(self) -> None:
        pass


def _stuck() -> _Stuck:
    return _Stuck()


def _duck() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def test_the_watchdog_stops_a_runaway_query_and_the_next_one_runs(tmp_path: Path) -> None:
    runner = Runner(_stuck, 1.0, tmp_path, 0, (tmp_path / "spill",))
    (tmp_path / "spill").mkdir()
    with pytest.raises(Late, match="timeout"):
        runner.query("SELECT 1")
    assert not (tmp_path / "spill").exists()  # the killed engine's spill files are removed
    runner.opener, runner.timeout_s = functools.partial(_duck), 600.0
    assert runner.query("SELECT 42")[1] == [(42,)]
    runner.close()


def test_an_engine_error_is_reported_not_raised_as_a_timeout(tmp_path: Path) -> None:
    runner = Runner(_duck, 60.0, tmp_path, 0)
    with pytest.raises(RuntimeError, match="no_such_table"):
        runner.query("SELECT * FROM no_such_table")
    assert runner.query("SELECT 1")[1] == [(1,)]
    runner.close()
