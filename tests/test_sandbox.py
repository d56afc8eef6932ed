"""The sandbox's allow-lists against the engine's real catalog, and the lake's own files.

Every engine function that is not on the allow-list is tried through chronolake in each form
that could call it, and must be refused by the sandbox (its message, which the engine never
writes) before the statement reaches the engine.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
from sqlglot import exp

import chronolake
from chronolake.sql.binding.allowed_functions import REFUSED, SCALAR, TABLE
from chronolake.sql.binding.allowlist import catalog, propose, refused_names
from chronolake.sql.binding.sandbox import bound_by_chronolake
from chronolake.sql.grammar.parse import parse_statement

REFUSAL = "is not allowed: SQL can only read this tenant's tables."
CATALOG = catalog()
TABLE_KINDS = ("table", "table_macro")


@pytest.fixture(scope="module")
def cursor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[chronolake.Cursor]:
    con = chronolake.connect(str(tmp_path_factory.mktemp("lake")))
    try:
        yield con.cursor()
    finally:
        con.close()


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _refused(cursor: chronolake.Cursor, template: str, name: str) -> None:
    """``template`` with 0 to 3 arguments never runs: the sandbox refuses it by name, or (for
    an arity sqlglot knows to be wrong) our parser rejects it; the engine sees none of them."""
    refusals = 0
    for args in ("", "1", "1, 2", "1, 2, 3"):
        sql = template.format(args=args)
        with pytest.raises(chronolake.Error) as caught:
            cursor.execute(sql)
        message = str(caught.value)
        if isinstance(caught.value, chronolake.PermissionDenied):
            # refused by its name, or (an operator in disguise, as GLOB) as no table name
            named = REFUSAL in message and name.upper() in message
            assert named or message.startswith("Table reference"), (sql, message)
            refusals += 1
        else:
            assert message.startswith("SQL compilation error: syntax error"), (sql, message)
    assert refusals, f"no call of {name} parsed, so none was shown to be refused"


def test_allow_list_names_engine_functions_of_their_kind() -> None:
    """The checked-in list only names functions this engine has (it follows an upgrade)."""
    scalar_kinds = {n for n, kind, _ in CATALOG if kind not in (*TABLE_KINDS, "pragma")}
    table_kinds = {n for n, kind, _ in CATALOG if kind in TABLE_KINDS}
    assert scalar_kinds >= SCALAR, sorted(SCALAR - scalar_kinds)
    assert table_kinds >= TABLE, sorted(TABLE - table_kinds)


def test_allow_list_is_what_the_generator_proposes() -> None:
    """A changed engine catalog shows up here: regenerate with --write and review the diff."""
    scalars, tables = propose(CATALOG)
    assert sorted(SCALAR) == scalars
    assert sorted(TABLE) == tables
    assert sorted(REFUSED) == refused_names(CATALOG, scalars, tables)
    assert not (REFUSED & (SCALAR | TABLE))


SCALAR_REFUSED = sorted(
    {n for n, kind, _ in CATALOG if kind not in (*TABLE_KINDS, "pragma")} - SCALAR - TABLE
)
TABLE_REFUSED = sorted({n for n, kind, _ in CATALOG if kind in TABLE_KINDS} - TABLE)
PRAGMAS = sorted({n for n, kind, _ in CATALOG if kind == "pragma"})


def test_refused_lists_are_not_empty() -> None:
    assert len(SCALAR_REFUSED) > 50 and len(TABLE_REFUSED) > 50 and PRAGMAS


def _chronolake_constant(sql: str) -> bool:
    """CURRENT_DATABASE() and friends: chronolake puts in its own value, the engine never runs."""
    tree = parse_statement(sql)
    return isinstance(tree, exp.Select) and bound_by_chronolake(tree.expressions[0])


def test_no_refused_scalar_function_runs(cursor: chronolake.Cursor) -> None:
    for name in SCALAR_REFUSED:
        if _chronolake_constant(f"SELECT {_quoted(name)}()"):
            cursor.execute(f"SELECT {_quoted(name)}() = {_quoted(name)}()")
            assert cursor.fetchall() == [(True,)]
            continue
        _refused(cursor, f"SELECT {_quoted(name)}({{args}})", name)
        _refused(cursor, f"SELECT 1 WHERE {_quoted(name)}({{args}}) IS NULL", name)


def test_no_refused_table_function_runs(cursor: chronolake.Cursor) -> None:
    for name in TABLE_REFUSED:
        _refused(cursor, f"SELECT * FROM {_quoted(name)}({{args}})", name)
        _refused(cursor, f"SELECT * FROM TABLE({_quoted(name)}({{args}}))", name)
        _refused(cursor, f"SELECT * FROM (SELECT 1) AS x, LATERAL {_quoted(name)}({{args}})", name)


def test_no_pragma_runs(cursor: chronolake.Cursor) -> None:
    for name in PRAGMAS:
        with pytest.raises(chronolake.PermissionDenied, match="PRAGMA is not allowed"):
            cursor.execute(f"PRAGMA {name}")
        with pytest.raises(chronolake.PermissionDenied, match="CALL is not allowed"):
            cursor.execute(f"CALL {_quoted(name)}()")


def test_unquoted_calls_are_refused_too(cursor: chronolake.Cursor) -> None:
    """Names sqlglot knows (READ_CSV, VERSION, ...) are judged by what DuckDB would run."""
    for name in (n for n in SCALAR_REFUSED if n.isidentifier()):
        if not _chronolake_constant(f"SELECT {name}()"):
            _refused(cursor, f"SELECT {name}({{args}})", name)
    for name in (n for n in TABLE_REFUSED if n.isidentifier()):
        _refused(cursor, f"SELECT * FROM {name}({{args}})", name)


def test_purged_files_cannot_be_read_by_path(tmp_path: Path) -> None:
    """No spelling of a data file's path reads it, not even the files of a purged table."""
    con = chronolake.connect(str(tmp_path / "lake"))
    cur = con.cursor()
    cur.execute("CREATE TABLE gone (secret VARCHAR) DATA_RETENTION_TIME_IN_DAYS = 0")
    cur.execute("INSERT INTO gone VALUES ('purged row')")
    cur.execute("CREATE TABLE kept (secret VARCHAR)")
    cur.execute("INSERT INTO kept VALUES ('live row')")
    cur.execute("DROP TABLE gone")
    files = sorted((tmp_path / "lake").rglob("*.parquet"))
    assert files, "the lake keeps at least the live table's data file"
    for path in files:
        cur.execute("SET p = ?", [str(path)])
        for sql in (
            f"SELECT * FROM '{path}'",
            f'SELECT * FROM "{path}"',
            "SELECT * FROM $p",
            f"SELECT * FROM read_parquet('{path}')",
            "SELECT * FROM read_parquet($p)",
            f"SELECT * FROM parquet_scan('{path}')",
            f"SELECT * FROM kept, LATERAL read_parquet('{path}')",
            f"CREATE TABLE copy AS SELECT * FROM '{path}'",
            f"INSERT INTO kept SELECT * FROM '{path}'",
        ):
            with pytest.raises(chronolake.Error):
                cur.execute(sql)
    cur.execute("SELECT secret FROM kept")
    assert cur.fetchall() == [("live row",)]
    con.close()


def test_registered_objects_and_ctes_are_read(tmp_path: Path) -> None:
    """What may be named stays readable: registered Python objects and CTEs in scope."""
    con = chronolake.connect(str(tmp_path / "lake"))
    con.register("pg_settings", pa.table({"name": ["mine"]}))
    cur = con.cursor()
    cur.execute("SELECT name FROM pg_settings")
    assert cur.fetchall() == [("mine",)]
    cur.execute("WITH duckdb_settings AS (SELECT 'cte' AS name) SELECT name FROM duckdb_settings")
    assert cur.fetchall() == [("cte",)]
    con.unregister("pg_settings")
    with pytest.raises(chronolake.PermissionDenied, match="PG_SETTINGS is not allowed"):
        cur.execute("SELECT name FROM pg_settings")
    con.close()
