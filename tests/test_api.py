"""The Python API: PEP 249 plus the Snowflake connector's habits (sfqid, fetch_arrow_all,
fetch_pandas_all, write_pandas), registration of Arrow / pandas / polars data, transactions,
parameters, the exception tree and the clock."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from lake_forms import LakeSpec

import chronolake
from chronolake import Settings

UTC = dt.UTC


@pytest.fixture
def lake(lake_spec: LakeSpec) -> LakeSpec:
    """A new lake, embedded and shared in turn (lake_forms.py)."""
    return lake_spec


@pytest.fixture
def con(lake: LakeSpec) -> Any:
    c = lake.connect()
    yield c
    c.close()


# -- module and connection ----------------------------------------------------------------------


def test_module_globals() -> None:
    assert chronolake.apilevel == "2.0"
    assert chronolake.paramstyle == "qmark"
    assert chronolake.threadsafety in (0, 1, 2, 3)
    assert callable(chronolake.connect)


def test_connect_creates_the_lake_and_reopens_it(lake: LakeSpec) -> None:
    with lake.connect() as c:
        c.execute("CREATE TABLE t (id INT)")
        c.execute("INSERT INTO t VALUES (1), (2)")
    assert lake.form != "local" or (lake.files / "catalog.sqlite").is_file()
    with lake.connect() as c:
        assert c.execute("SELECT count(*) FROM t").fetchone() == (2,)
        assert c.tenant == "default"


def test_closed_connection_and_cursor_refuse_work(lake: LakeSpec) -> None:
    c = lake.connect()
    cur = c.cursor()
    cur.close()
    with pytest.raises(chronolake.InterfaceError):
        cur.execute("SELECT 1")
    c.close()
    c.close()  # closing twice is harmless
    with pytest.raises(chronolake.InterfaceError):
        c.execute("SELECT 1")
    with pytest.raises(chronolake.InterfaceError):
        c.cursor()


# -- cursor ---------------------------------------------------------------------------------------


def test_fetch_methods_description_and_rowcount(con: Any) -> None:
    cur = con.cursor()
    assert cur.description is None and cur.rowcount == -1 and cur.sfqid is None
    cur.setinputsizes([None])  # PEP 249: accepted, no effect
    cur.setoutputsize(10)
    cur.execute("CREATE TABLE t (id INT, name VARCHAR, amount NUMBER(10,2))")
    cur.execute("INSERT INTO t VALUES (1, 'a', 1.50), (2, 'b', 2.25), (3, 'c', NULL)")
    assert cur.rowcount == 3
    cur.execute("SELECT id, name, amount FROM t ORDER BY id")
    assert cur.rowcount == 3
    desc = cur.description
    assert [d[0] for d in desc] == ["ID", "NAME", "AMOUNT"]
    assert all(len(d) == 7 for d in desc)
    assert desc[2][4:6] == (10, 2)  # precision, scale of NUMBER(10,2)
    assert cur.fetchone() == (1, "a", Decimal("1.50"))
    assert cur.fetchmany(1) == [(2, "b", Decimal("2.25"))]
    assert cur.fetchall() == [(3, "c", None)]
    assert cur.fetchone() is None
    assert cur.fetchmany(5) == []
    assert cur.fetchall() == []

    cur.execute("SELECT id FROM t ORDER BY id")
    cur.arraysize = 2
    assert cur.fetchmany() == [(1,), (2,)]
    assert cur.fetchmany() == [(3,)]
    assert [r for r in cur.execute("SELECT id FROM t ORDER BY id")] == [(1,), (2,), (3,)]

    cur.execute("UPDATE t SET name = 'z' WHERE id >= 2")
    assert cur.rowcount == 2
    cur.execute("DELETE FROM t WHERE id = 99")
    assert cur.rowcount == 0
    cur.execute("DELETE FROM t WHERE id = 1")
    assert cur.rowcount == 1


def test_rowcount_of_ddl_and_ctas(con: Any) -> None:
    """docs/sql.md: rowcount is the rows of a query, the rows changed by DML and CTAS, else -1."""
    cur = con.cursor()
    cur.execute("CREATE TABLE src (id INT)")
    assert cur.rowcount == -1
    cur.execute("INSERT INTO src VALUES (1), (2)")
    assert cur.rowcount == 2
    cur.execute("CREATE TABLE cp AS SELECT * FROM src")
    assert cur.rowcount == 2
    cur.execute("ALTER TABLE cp ADD COLUMN note VARCHAR")
    assert cur.rowcount == -1
    cur.execute("SET x = 1")
    assert cur.rowcount == -1


def test_fetch_before_execute_is_an_interface_error(con: Any) -> None:
    with pytest.raises(chronolake.InterfaceError):
        con.cursor().fetchall()
    with pytest.raises(chronolake.InterfaceError):
        con.cursor().fetchone()


def snapshot_count(lake: LakeSpec) -> int:
    ((n,),) = lake.catalog_rows("SELECT count(*) FROM cl_snapshots WHERE tenant_id = 'default'")
    return int(n)


def test_executemany(lake: LakeSpec, con: Any) -> None:
    cur = con.cursor()
    cur.execute("CREATE TABLE t (id INT, name VARCHAR)")
    before = snapshot_count(lake)
    cur.executemany("INSERT INTO t VALUES (?, ?)", [(1, "a"), (2, "b"), (3, None)])
    assert cur.rowcount == 3
    # docs/sql.md: a parameterised INSERT ... VALUES runs as one multi-row statement
    assert snapshot_count(lake) == before + 1
    q = cur.sfqid
    assert con.execute("SELECT count(*) FROM t AT(STATEMENT => ?)", [q]).fetchone() == (3,)
    assert con.execute("SELECT count(*) FROM t BEFORE(STATEMENT => ?)", [q]).fetchone() == (0,)
    cur.executemany("UPDATE t SET name = ? WHERE id = ?", [("x", 1), ("y", 2), ("w", 42)])
    assert cur.rowcount == 2
    got = cur.execute("SELECT id, name FROM t ORDER BY id").fetchall()
    assert got == [(1, "x"), (2, "y"), (3, None)]


def test_query_ids(con: Any) -> None:
    cur = con.cursor()
    cur.execute("CREATE TABLE t (id INT)")
    q1 = cur.sfqid
    cur.execute("INSERT INTO t VALUES (1)")
    q2 = cur.sfqid
    assert isinstance(q1, str) and isinstance(q2, str) and q1 != q2
    assert cur.query_id == q2
    assert cur.execute("SELECT LAST_QUERY_ID()").fetchone() == (q2,)
    # the id is a time-travel point
    cur.execute("INSERT INTO t VALUES (2)")
    assert cur.execute("SELECT id FROM t AT(STATEMENT => ?)", [q2]).fetchall() == [(1,)]
    assert cur.execute("SELECT id FROM t BEFORE(STATEMENT => ?)", [q2]).fetchall() == []


def test_fetch_arrow_all_and_fetch_pandas_all(con: Any) -> None:
    cur = con.cursor()
    cur.execute("CREATE TABLE t (id INT, name VARCHAR, amount NUMBER(10,2))")
    cur.execute("INSERT INTO t VALUES (1, 'a', 1.50), (2, NULL, NULL)")
    table = cur.execute("SELECT id, name, amount FROM t ORDER BY id").fetch_arrow_all()
    assert isinstance(table, pa.Table)
    assert table.column_names == ["ID", "NAME", "AMOUNT"]
    assert table.to_pylist() == [
        {"ID": 1, "NAME": "a", "AMOUNT": Decimal("1.50")},
        {"ID": 2, "NAME": None, "AMOUNT": None},
    ]
    df = cur.execute("SELECT id, name FROM t ORDER BY id").fetch_pandas_all()
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns) == ["ID", "NAME"]
    assert df["ID"].tolist() == [1, 2]
    assert df["NAME"].iloc[0] == "a" and pd.isna(df["NAME"].iloc[1])


# -- parameters -----------------------------------------------------------------------------------


def test_qmark_parameters_of_many_types(con: Any) -> None:
    cur = con.cursor()
    cur.execute(
        "CREATE TABLE p (i INT, f FLOAT, d NUMBER(12,4), s VARCHAR, dd DATE, "
        "ntz TIMESTAMP_NTZ, ltz TIMESTAMP_LTZ, tz TIMESTAMP_TZ, b BOOLEAN)"
    )
    aware = dt.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    naive = dt.datetime(2024, 5, 6, 7, 8, 9, 654321)
    tricky = "it's a \"quote\"; '); DROP TABLE p; --"
    row = (
        -(2**40),
        2.5e-3,
        Decimal("-12345678.1234"),
        tricky,
        dt.date(2024, 2, 29),
        naive,
        aware,
        aware,
        True,
    )
    cur.execute("INSERT INTO p VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
    cur.execute("INSERT INTO p VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", [None] * 9)
    got = cur.execute("SELECT * FROM p ORDER BY i NULLS LAST").fetchall()
    assert got[1] == (None,) * 9
    i, f, d, s, dd, ntz, ltz, tz, b = got[0]
    assert (i, f, d, s, dd, b) == (*row[:5], True)
    assert isinstance(i, int) and isinstance(d, Decimal) and isinstance(b, bool)
    assert ntz == naive and ntz.tzinfo is None
    assert ltz.tzinfo is not None and ltz == aware  # the same instant
    assert tz.tzinfo is not None and tz == aware
    assert cur.execute("SELECT count(*) FROM p").fetchone() == (2,)  # no injection

    # parameters in a WHERE clause and as bare values
    assert cur.execute("SELECT s FROM p WHERE s = ?", [tricky]).fetchall() == [(tricky,)]
    assert cur.execute("SELECT count(*) FROM p WHERE b = ?", [False]).fetchone() == (0,)
    leap_day = [dt.date(2024, 2, 29)]
    assert cur.execute("SELECT count(*) FROM p WHERE dd = ?", leap_day).fetchone() == (1,)
    assert cur.execute("SELECT ?, ?, ?, ?", [7, "x", None, Decimal("1.25")]).fetchone() == (
        7,
        "x",
        None,
        Decimal("1.25"),
    )
    assert cur.execute("SELECT ? + 1", [1.5]).fetchone() == (2.5,)


def test_parameters_with_a_cast(con: Any) -> None:
    """``?::TYPE`` is common with the Snowflake connector's qmark binding."""
    got = con.execute("SELECT ?::NUMBER(12,2), ?::DATE", [Decimal("1.5"), "2024-01-02"])
    assert got.fetchone() == (Decimal("1.50"), dt.date(2024, 1, 2))


def test_parameter_count_mismatch_and_bad_types(con: Any) -> None:
    with pytest.raises(chronolake.ProgrammingError):
        con.execute("SELECT ?, ?", [1])
    with pytest.raises(chronolake.ProgrammingError):
        con.execute("SELECT 1", [1])
    with pytest.raises((chronolake.InterfaceError, chronolake.ProgrammingError)):
        con.execute("SELECT ?", {"a": 1})
    with pytest.raises(chronolake.ProgrammingError):
        con.execute("SELECT ?", [object()])


# -- registered data and bulk loading ------------------------------------------------------------


def test_register_arrow_pandas_and_polars_then_insert_select(lake: LakeSpec, con: Any) -> None:
    con.execute("CREATE TABLE t (id INT, name VARCHAR)")
    con.register("arrow_src", pa.table({"id": [1, 2], "name": ["a", "b"]}))
    con.register("pandas_src", pd.DataFrame({"id": [3], "name": ["c"]}))
    con.register("polars_src", pl.DataFrame({"id": [4, 5], "name": ["d", None]}))
    assert con.execute("INSERT INTO t SELECT * FROM arrow_src").rowcount == 2
    assert con.execute("INSERT INTO t SELECT * FROM pandas_src").rowcount == 1
    assert con.execute("INSERT INTO t SELECT * FROM polars_src").rowcount == 2
    expected = [(1, "a"), (2, "b"), (3, "c"), (4, "d"), (5, None)]
    assert con.execute("SELECT id, name FROM t ORDER BY id").fetchall() == expected
    # registration is not storage: the rows stay in the table after unregistering
    for name in ("arrow_src", "pandas_src", "polars_src"):
        con.unregister(name)
    with pytest.raises(chronolake.Error):
        con.execute("SELECT * FROM arrow_src")
    assert con.execute("SELECT id, name FROM t ORDER BY id").fetchall() == expected
    with lake.connect() as other:
        assert other.execute("SELECT count(*) FROM t").fetchone() == (5,)
    with pytest.raises(chronolake.ProgrammingError):
        con.register("bad", [1, 2, 3])


def test_write_arrow_and_write_pandas_into_an_existing_table(con: Any) -> None:
    con.execute("CREATE TABLE w (id INT, name VARCHAR)")
    assert chronolake.write_arrow(con, pa.table({"ID": [1], "NAME": ["a"]}), "W") == (True, 1)
    assert chronolake.write_pandas(con, pd.DataFrame({"ID": [2, 3], "NAME": ["b", "c"]}), "W") == (
        True,
        2,
    )
    assert chronolake.write_arrow(con, pl.DataFrame({"ID": [4], "NAME": ["d"]}), "W") == (True, 1)
    got = con.execute("SELECT id, name FROM w ORDER BY id").fetchall()
    assert got == [(1, "a"), (2, "b"), (3, "c"), (4, "d")]


@pytest.mark.parametrize("columns", [["ID", "NAME"], ["id", "name"]])
def test_write_pandas_auto_create_table(con: Any, columns: list[str]) -> None:
    df = pd.DataFrame({columns[0]: [1, 2, 3], columns[1]: ["a", "b", None]})
    assert chronolake.write_pandas(con, df, "T", auto_create_table=True) == (True, 3)
    got = con.execute("SELECT * FROM t ORDER BY 1").fetchall()
    assert got == [(1, "a"), (2, "b"), (3, None)]
    # a second load appends
    assert chronolake.write_pandas(con, df, "T", auto_create_table=True) == (True, 3)
    assert con.execute("SELECT count(*) FROM t").fetchone() == (6,)


# -- transactions ---------------------------------------------------------------------------------


def test_autocommit_false_commit_and_rollback(lake: LakeSpec) -> None:
    with lake.connect() as setup:
        setup.execute("CREATE TABLE t (id INT)")
    writer = lake.connect(autocommit=False)
    reader = lake.connect()
    try:
        assert writer.autocommit is False
        writer.execute("INSERT INTO t VALUES (1)")
        # the writer reads its own writes, nobody else does before commit
        assert writer.execute("SELECT count(*) FROM t").fetchone() == (1,)
        assert reader.execute("SELECT count(*) FROM t").fetchone() == (0,)
        writer.commit()
        assert reader.execute("SELECT count(*) FROM t").fetchone() == (1,)

        writer.execute("INSERT INTO t VALUES (2)")
        writer.execute("DELETE FROM t WHERE id = 1")
        assert writer.execute("SELECT id FROM t").fetchall() == [(2,)]
        writer.rollback()
        assert writer.execute("SELECT id FROM t").fetchall() == [(1,)]
        assert reader.execute("SELECT id FROM t").fetchall() == [(1,)]
        writer.commit()  # nothing pending: a no-op
        writer.rollback()
    finally:
        writer.close()
        reader.close()
    # a rolled back transaction leaves no snapshot: the create and the commit only
    assert snapshot_count(lake) == 2


def test_context_manager_commits_or_rolls_back(lake: LakeSpec) -> None:
    with lake.connect() as c:
        c.execute("CREATE TABLE t (id INT)")
    with lake.connect(autocommit=False) as c:
        c.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(KeyError), lake.connect(autocommit=False) as c:
        c.execute("INSERT INTO t VALUES (2)")
        raise KeyError("boom")
    with lake.connect() as c:
        c.execute("BEGIN")
        c.execute("INSERT INTO t VALUES (3)")
    with lake.connect() as c:
        assert c.execute("SELECT id FROM t ORDER BY id").fetchall() == [(1,), (3,)]
    with pytest.raises(chronolake.InterfaceError):
        c.execute("SELECT 1")  # the context manager closed it


def test_explicit_transaction_is_a_consistent_snapshot(lake: LakeSpec) -> None:
    a = lake.connect()
    b = lake.connect()
    try:
        a.execute("CREATE TABLE t (id INT)")
        # two connections of one process see each other's commits at once
        assert b.execute("SELECT count(*) FROM t").fetchone() == (0,)
        a.execute("INSERT INTO t VALUES (1)")
        assert b.execute("SELECT id FROM t").fetchall() == [(1,)]
        b.execute("INSERT INTO t VALUES (2)")
        assert a.execute("SELECT id FROM t ORDER BY id").fetchall() == [(1,), (2,)]

        b.execute("BEGIN")
        assert b.execute("SELECT count(*) FROM t").fetchone() == (2,)
        a.execute("INSERT INTO t VALUES (3)")
        assert b.execute("SELECT count(*) FROM t").fetchone() == (2,)  # read snapshot fixed
        b.execute("INSERT INTO t VALUES (4)")  # appends never conflict
        assert a.execute("SELECT count(*) FROM t").fetchone() == (3,)
        b.execute("COMMIT")
        assert a.execute("SELECT id FROM t ORDER BY id").fetchall() == [(1,), (2,), (3,), (4,)]
    finally:
        a.close()
        b.close()


def test_conflict_error_is_retryable_and_leaves_nothing(lake: LakeSpec) -> None:
    no_retry = Settings(autocommit_retries=0)
    a = lake.connect(settings=no_retry)
    b = lake.connect(settings=no_retry)
    try:
        a.execute("CREATE TABLE t (id INT, v VARCHAR)")
        a.execute("INSERT INTO t VALUES (1, 'orig'), (2, 'orig')")
        a.execute("BEGIN")
        a.execute("UPDATE t SET v = 'a' WHERE id = 1")
        a.execute("INSERT INTO t VALUES (3, 'a')")
        b.execute("UPDATE t SET v = 'b' WHERE id = 1")
        with pytest.raises(chronolake.ConflictError) as info:
            a.execute("COMMIT")
        err = info.value
        assert err.retryable is True
        assert isinstance(err, chronolake.OperationalError)
        assert isinstance(err, chronolake.DatabaseError) and isinstance(err, chronolake.Error)
        assert err.table == "T" and "T" in str(err)
        assert err.snapshot == 3  # create = 1, insert = 2, b's update = 3
        # nothing of the loser is visible, and its session goes on outside the transaction
        expected = [(1, "b"), (2, "orig")]
        assert a.execute("SELECT id, v FROM t ORDER BY id").fetchall() == expected
        a.execute("UPDATE t SET v = 'a2' WHERE id = 2")
        assert b.execute("SELECT id, v FROM t ORDER BY id").fetchall() == [(1, "b"), (2, "a2")]
    finally:
        a.close()
        b.close()


def test_retrying_after_a_conflict_applies_on_the_winner(lake: LakeSpec) -> None:
    """The loser re-runs its statement on the new snapshot: both increments count."""
    a = lake.connect()
    b = lake.connect(settings=Settings(autocommit_retries=0))
    try:
        a.execute("CREATE TABLE t (id INT, n INT)")
        a.execute("INSERT INTO t VALUES (1, 0)")
        b.execute("BEGIN")
        b.execute("UPDATE t SET n = n + 10 WHERE id = 1")
        a.execute("UPDATE t SET n = n + 1 WHERE id = 1")
        with pytest.raises(chronolake.ConflictError):
            b.execute("COMMIT")
        b.execute("UPDATE t SET n = n + 10 WHERE id = 1")  # retry by hand
        assert a.execute("SELECT n FROM t").fetchone() == (11,)
    finally:
        a.close()
        b.close()


# -- errors ---------------------------------------------------------------------------------------


def test_exception_hierarchy() -> None:
    assert issubclass(chronolake.Error, Exception)
    assert issubclass(chronolake.Warning, Exception)
    for cls in (chronolake.InterfaceError, chronolake.DatabaseError):
        assert issubclass(cls, chronolake.Error)
    for cls in (
        chronolake.DataError,
        chronolake.OperationalError,
        chronolake.IntegrityError,
        chronolake.InternalError,
        chronolake.ProgrammingError,
        chronolake.NotSupportedError,
    ):
        assert issubclass(cls, chronolake.DatabaseError)
    for cls in (
        chronolake.SqlError,
        chronolake.CatalogError,
        chronolake.TimeTravelError,
        chronolake.PermissionDenied,
    ):
        assert issubclass(cls, chronolake.ProgrammingError)
    assert issubclass(chronolake.NotFound, chronolake.CatalogError)
    assert issubclass(chronolake.AlreadyExists, chronolake.CatalogError)
    assert issubclass(chronolake.ConflictError, chronolake.OperationalError)
    assert chronolake.ConflictError.retryable is True
    assert chronolake.ProgrammingError.retryable is False


def test_errors_raised_by_statements(con: Any) -> None:
    with pytest.raises(chronolake.SqlError):
        con.execute("SELEC 1")
    with pytest.raises(chronolake.NotFound):
        con.execute("SELECT * FROM missing_table")
    con.execute("CREATE TABLE t (id INT)")
    with pytest.raises(chronolake.AlreadyExists):
        con.execute("CREATE TABLE t (id INT)")
    with pytest.raises(chronolake.DataError):
        con.execute("SELECT 'abc'::INT")
    with pytest.raises(chronolake.TimeTravelError, match="No snapshot found at version 99"):
        con.execute("SELECT * FROM t AT(VERSION => 99)")
    with pytest.raises(chronolake.TimeTravelError, match="Statement nope not found"):
        con.execute("SELECT * FROM t AT(STATEMENT => 'nope')")
    # every error leaves the lake usable
    assert con.execute("SELECT count(*) FROM t").fetchone() == (0,)


def test_division_by_zero_is_a_data_error(con: Any) -> None:
    """Snowflake: 'Division by zero' (errors.py names it as a DataError case)."""
    with pytest.raises(chronolake.DataError):
        con.execute("SELECT 1 / 0").fetchall()


# -- the clock ------------------------------------------------------------------------------------


class StepClock:
    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now


def test_custom_clock_drives_commit_times(lake: LakeSpec) -> None:
    clock = StepClock(dt.datetime(2030, 1, 1, 0, 0, 0, tzinfo=UTC))
    with lake.connect(clock=clock) as c:
        c.execute("CREATE TABLE t (id INT)")
        clock.now = dt.datetime(2030, 1, 1, 0, 1, 0, tzinfo=UTC)
        c.execute("INSERT INTO t VALUES (1)")
        clock.now = dt.datetime(2030, 1, 1, 0, 2, 0, tzinfo=UTC)
        c.execute("INSERT INTO t VALUES (2)")
        clock.now = dt.datetime(2030, 1, 1, 0, 5, 0, tzinfo=UTC)

        def at(ts: str) -> list[Any]:
            sql = f"SELECT id FROM t AT(TIMESTAMP => '{ts}'::TIMESTAMP_LTZ) ORDER BY id"
            return c.execute(sql).fetchall()

        assert at("2030-01-01 00:00:30") == []
        assert at("2030-01-01 00:01:00") == [(1,)]  # inclusive
        assert at("2030-01-01 00:01:59.999999") == [(1,)]
        assert at("2030-01-01 00:02:00") == [(1,), (2,)]
        with pytest.raises(chronolake.TimeTravelError, match="not available"):
            at("2029-12-31 23:59:59")
        with pytest.raises(chronolake.TimeTravelError, match="Future data"):
            at("2030-01-01 00:06:00")  # later than the clock's now
        # a bound aware datetime is a timestamp too
        got = c.execute(
            "SELECT id FROM t AT(TIMESTAMP => ?)", [dt.datetime(2030, 1, 1, 0, 1, 30, tzinfo=UTC)]
        ).fetchall()
        assert got == [(1,)]
        # CURRENT_TIMESTAMP is the statement's start on the session clock
        (now,) = c.execute("SELECT CURRENT_TIMESTAMP()").fetchone()
        assert now == clock.now
        history = c.table_history("t")
        assert [h["commit_time"] for h in history][-2:] == [
            dt.datetime(2030, 1, 1, 0, 1, 0, tzinfo=UTC),
            dt.datetime(2030, 1, 1, 0, 2, 0, tzinfo=UTC),
        ]


def test_commit_times_stay_increasing_when_the_clock_goes_back(lake: LakeSpec) -> None:
    clock = StepClock(dt.datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC))
    with lake.connect(clock=clock) as c:
        c.execute("CREATE TABLE t (id INT)")
        clock.now = dt.datetime(2030, 1, 1, 11, 0, 0, tzinfo=UTC)  # an hour back
        c.execute("INSERT INTO t VALUES (1)")
        c.execute("INSERT INTO t VALUES (2)")  # same clock value again
    times = [
        t
        for (t,) in lake.catalog_rows(
            "SELECT commit_time FROM cl_snapshots WHERE tenant_id = 'default' ORDER BY snapshot_id"
        )
    ]
    assert len(times) == 3
    assert times[0] < times[1] < times[2]
