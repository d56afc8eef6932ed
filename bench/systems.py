"""The systems under test, each driven the way its users would drive it.

- ``Plain``: each version's exact table state as one fresh Parquet file read by DuckDB
  ``read_parquet`` (the floor for queries; its storage is the latest state alone).
- ``Chronolake``: the public API with Snowflake SQL; ids arrive as a registered Arrow table
  in one statement, time travel is ``AT(STATEMENT => <query id>)``.
- ``DeltaRs``: ``deltalake`` (optional), written with ``write_deltalake`` / ``merge`` and
  queried by DuckDB over ``DeltaTable(path, version=...).to_pyarrow_dataset()``.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from bench.workloads import UPDATE_NOW, Op

Rows = list[tuple[Any, ...]]

ORDERS_DDL = (
    "CREATE TABLE orders (id BIGINT, customer_id BIGINT, status VARCHAR, amount DOUBLE, "
    "updated_at TIMESTAMP)"
)
UPDATE_SET = "status = 'refunded', amount = round(amount * 0.9, 2), updated_at = ?"


def quiet_duckdb() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection that prints no progress bar into the report."""
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    return con


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def deltalake_version() -> str | None:
    try:
        import deltalake
    except ImportError:
        return None
    return str(deltalake.__version__)


class System:
    name = "?"
    commits_timed = True

    def apply(self, op: Op) -> float:
        """Commit one W1 operation; returns its seconds."""
        raise NotImplementedError

    def query(self, sql: str, version: int, latest: int) -> Rows:
        """Run ``sql`` (with ``{t}`` for the table) on the table as of ``version``."""
        raise NotImplementedError

    def storage_bytes(self) -> int:
        raise NotImplementedError

    def close(self) -> None:
        pass


class Plain(System):
    """State kept in an in-memory DuckDB table; Parquet written for the versions queried."""

    name = "plain"
    commits_timed = False

    def __init__(self, root: Path, keep: set[int]) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.keep = keep
        self.state = quiet_duckdb()
        self.state.execute(ORDERS_DDL)
        self.reader = quiet_duckdb()
        self.files: dict[int, Path] = {}
        self.version = 0

    def apply(self, op: Op) -> float:
        s = self.state
        if op.kind in ("load", "insert"):
            s.register("src", op.rows)
            s.execute("INSERT INTO orders SELECT * FROM src")
            s.unregister("src")
        else:
            s.register("ids", op.ids)
            if op.kind == "update":
                s.execute(
                    f"UPDATE orders SET {UPDATE_SET} WHERE id IN (SELECT id FROM ids)",
                    [UPDATE_NOW],
                )
            else:
                s.execute("DELETE FROM orders WHERE id IN (SELECT id FROM ids)")
            s.unregister("ids")
        self.version = op.version
        if op.version in self.keep:
            self.write_state(op.version)
        return float("nan")

    def write_state(self, version: int) -> Path:
        path = self.root / f"orders-v{version}.parquet"
        self.state.execute(f"COPY orders TO '{path}' (FORMAT parquet)")
        self.files[version] = path
        return path

    def zstd_bytes(self, version: int) -> int:
        """The same state in zstd (smaller than snappy with plain encodings; DuckDB's default)."""
        path = self.root / f"orders-v{version}-zstd.parquet"
        self.reader.execute(
            f"COPY (SELECT * FROM read_parquet('{self.files[version]}')) TO '{path}' "
            "(FORMAT parquet, COMPRESSION zstd)"
        )
        return path.stat().st_size

    def file_bytes(self, version: int) -> int:
        return self.files[version].stat().st_size

    def query(self, sql: str, version: int, latest: int) -> Rows:
        src = f"read_parquet('{self.files[version]}')"
        return self.reader.execute(sql.format(t=src)).fetchall()

    def storage_bytes(self) -> int:
        return self.file_bytes(self.version)


class Chronolake(System):
    name = "chronolake"

    def __init__(self, root: Path, create: bool = True) -> None:
        import chronolake

        self.path = root / "lake"
        self.con = chronolake.connect(self.path)
        if create:
            self.con.execute(ORDERS_DDL)
        self.qids: dict[int, str] = {}

    def copy(self, root: Path) -> Chronolake:
        """A second lake under ``root`` holding this one's history so far (copied with the
        connection closed, so the catalog file is complete), opened beside this one."""
        import chronolake

        self.con.close()
        shutil.copytree(self.path, root / "lake")
        self.con = chronolake.connect(self.path)
        other = Chronolake(root, create=False)
        other.qids = dict(self.qids)
        return other

    def apply(self, op: Op) -> float:
        con = self.con
        if op.kind in ("load", "insert"):
            con.register("src", op.rows)
            t0 = time.perf_counter()
            qid = con.execute("INSERT INTO orders SELECT * FROM src").query_id
        else:
            con.register("ids", op.ids)
            t0 = time.perf_counter()
            if op.kind == "update":
                sql = f"UPDATE orders SET {UPDATE_SET} WHERE id IN (SELECT id FROM ids)"
                qid = con.execute(sql, [UPDATE_NOW]).query_id
            else:
                qid = con.execute("DELETE FROM orders WHERE id IN (SELECT id FROM ids)").query_id
        elapsed = time.perf_counter() - t0
        self.qids[op.version] = qid
        return elapsed

    def query(self, sql: str, version: int, latest: int) -> Rows:
        if version == latest:
            return [tuple(r) for r in self.con.execute(sql.format(t="orders")).fetchall()]
        text = sql.format(t="orders AT(STATEMENT => ?)")
        return [tuple(r) for r in self.con.execute(text, [self.qids[version]]).fetchall()]

    def storage_bytes(self) -> int:
        return dir_bytes(self.path)

    def close(self) -> None:
        self.con.close()


class DeltaRs(System):
    name = "delta-rs"

    def __init__(self, root: Path) -> None:
        self.path = root / "delta"
        self.duck = quiet_duckdb()

    def apply(self, op: Op) -> float:
        from deltalake import DeltaTable, write_deltalake

        if op.kind in ("load", "insert"):
            assert op.rows is not None
            t0 = time.perf_counter()
            write_deltalake(str(self.path), op.rows, mode="append")
            return time.perf_counter() - t0
        assert op.ids is not None
        t0 = time.perf_counter()
        dt = DeltaTable(str(self.path))
        if op.kind == "update":
            src = op.ids.append_column(
                "now", pa.array([UPDATE_NOW] * op.ids.num_rows, pa.timestamp("us"))
            )
            dt.merge(src, "t.id = s.id", source_alias="s", target_alias="t").when_matched_update(
                {
                    "status": "'refunded'",
                    "amount": "round(t.amount * 0.9, 2)",
                    "updated_at": "s.now",
                }
            ).execute()
        else:
            dt.merge(
                op.ids, "t.id = s.id", source_alias="s", target_alias="t"
            ).when_matched_delete().execute()
        return time.perf_counter() - t0

    def query(self, sql: str, version: int, latest: int) -> Rows:
        from deltalake import DeltaTable

        ds = DeltaTable(str(self.path), version=version - 1).to_pyarrow_dataset()
        self.duck.register("delta_orders", ds)
        try:
            return self.duck.execute(sql.format(t="delta_orders")).fetchall()
        finally:
            self.duck.unregister("delta_orders")

    def storage_bytes(self) -> int:
        return dir_bytes(self.path)
