"""Building the two systems' states: a chronolake lake (load + refreshes through the public
API) and, for plain DuckDB, one folder of Parquet files per state holding exactly the same rows
(the same refreshes applied to in-memory DuckDB tables, each state written with COPY)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from sqlglot import exp

from bench.tpch import data

STATES = ("latest", "old")


@dataclass
class Built:
    """What a build left on disk, saved as ``build.json`` so ``--reuse`` can skip it."""

    sf: float
    lake: str
    plain: dict[str, dict[str, str]]  # state -> table -> Parquet file
    first_refresh_qid: str
    first_refresh_time: str
    refresh_qids: list[str]
    load_s: float
    refresh_s: list[float]  # seconds per round (RF1 + RF2)
    input_bytes: int
    stored_bytes_loaded: int
    stored_bytes_latest: int
    rows: dict[str, dict[str, int]]  # state -> table -> rows

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=1))

    @classmethod
    def load(cls, path: Path) -> Built:
        return cls(**json.loads(path.read_text()))


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _create(table: str) -> str:
    cols = [
        exp.ColumnDef(this=exp.to_identifier(name), kind=exp.DataType.build(kind))
        for name, kind in data.COLUMNS[table]
    ]
    schema = exp.Schema(this=exp.to_table(table), expressions=cols)
    return exp.Create(this=schema, kind="TABLE").sql("snowflake")


def _insert(table: str, source: str) -> str:
    return exp.insert(exp.select("*").from_(source), table).sql("snowflake")


def _delete(table: str, key: str, source: str) -> str:
    keys = exp.select("orderkey").from_(source)
    where = exp.column(key).isin(query=keys)
    return exp.delete(table, where=where).sql("snowflake")


def _rf_statements(rf: data.Refresh) -> list[tuple[str, pa.Table, str]]:
    """(registered name, Arrow data, statement) of one round: RF1's two INSERTs, then RF2's two
    DELETEs (lineitems first, as the specification orders them)."""
    return [
        ("rf_orders", rf.new_orders, _insert("orders", "rf_orders")),
        ("rf_lineitem", rf.new_lineitems, _insert("lineitem", "rf_lineitem")),
        ("rf_keys", rf.deleted_keys, _delete("lineitem", "l_orderkey", "rf_keys")),
        ("rf_keys", rf.deleted_keys, _delete("orders", "o_orderkey", "rf_keys")),
    ]


def _lake(folder: Path, lake: Path, refreshes: list[data.Refresh], settings: Any) -> dict[str, Any]:
    import chronolake

    con = chronolake.connect(lake, settings=settings)
    t0 = time.perf_counter()
    for table in data.TABLES:
        con.execute(_create(table))
        chronolake.write_arrow(con, data.read(folder, table), table, quote_identifiers=False)
    load_s = time.perf_counter() - t0
    loaded = dir_bytes(lake / "data")
    qids: list[str] = []
    refresh_s = []
    # the moment before the first refresh: BEFORE(STATEMENT => its id) reads this state
    first_time = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
    for rf in refreshes:
        t0 = time.perf_counter()
        for name, arrow, sql in _rf_statements(rf):
            con.register(name, arrow)
            try:
                qids.append(con.execute(sql).query_id)
            finally:
                con.unregister(name)
        refresh_s.append(time.perf_counter() - t0)
    con.close()
    return {
        "load_s": load_s,
        "stored_bytes_loaded": loaded,
        "stored_bytes_latest": dir_bytes(lake / "data"),
        "refresh_qids": qids,
        "refresh_s": refresh_s,
        "first_time": first_time,
    }


def plain_duckdb(threads: int, memory_limit: str, temp_dir: Path) -> duckdb.DuckDBPyConnection:
    """Plain DuckDB with the settings chronolake's engine gets."""
    temp_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(
        config={"threads": threads, "memory_limit": memory_limit, "temp_directory": str(temp_dir)}
    )
    con.execute("SET enable_progress_bar = false")
    return con


def _plain(
    folder: Path, out: Path, refreshes: list[data.Refresh], threads: int, memory_limit: str
) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, int]]]:
    duck = plain_duckdb(threads, memory_limit, out / "tmp")
    files: dict[str, dict[str, str]] = {s: {} for s in STATES}
    rows: dict[str, dict[str, int]] = {s: {} for s in STATES}
    for state in STATES:
        (out / state).mkdir(parents=True, exist_ok=True)
    for table in data.TABLES:
        duck.from_arrow(data.read(folder, table)).create(table)
        path = out / "old" / f"{table}.parquet"
        duck.table(table).write_parquet(str(path))
        files["old"][table] = files["latest"][table] = str(path)
    for rf in refreshes:
        for name, arrow, sql in _rf_statements(rf):
            duck.register(name, arrow)
            duck.execute(exp.maybe_parse(sql, dialect="snowflake").sql("duckdb"))
            duck.unregister(name)
    for table in ("orders", "lineitem"):
        path = out / "latest" / f"{table}.parquet"
        duck.table(table).write_parquet(str(path))
        files["latest"][table] = str(path)
    for state in STATES:
        for table, file in files[state].items():
            rows[state][table] = duck.read_parquet(file).count("*").fetchall()[0][0]
    duck.close()
    shutil.rmtree(out / "tmp", ignore_errors=True)
    return files, rows


def build(folder: Path, out: Path, sf: float, settings: Any, threads: int, mem: str) -> Built:
    """Load ``folder``'s tables into a fresh lake and plain state under ``out``, then apply
    the refresh rounds to both."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    orders, lineitem = data.read(folder, "orders"), data.read(folder, "lineitem")
    refreshes = data.refreshes(orders, lineitem, sf)
    del orders, lineitem
    lake = out / "lake"
    got = _lake(folder, lake, refreshes, settings)
    files, rows = _plain(folder, out / "plain", refreshes, threads, mem)
    built = Built(
        sf=sf,
        lake=str(lake),
        plain=files,
        first_refresh_qid=got["refresh_qids"][0],
        first_refresh_time=got["first_time"],
        refresh_qids=got["refresh_qids"],
        load_s=got["load_s"],
        refresh_s=got["refresh_s"],
        input_bytes=data.input_bytes(folder),
        stored_bytes_loaded=got["stored_bytes_loaded"],
        stored_bytes_latest=got["stored_bytes_latest"],
        rows=rows,
    )
    built.save(out / "build.json")
    return built
