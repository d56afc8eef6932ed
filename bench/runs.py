"""W1, W2 and W3 runs: every answer checked against plain, every time a median."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import shutil
import statistics
import time
from functools import partial
from pathlib import Path
from queue import Empty
from typing import Any

from rich.progress import Progress

from bench import workloads as wl
from bench.measure import check, peak_rss_bytes, timed, timed_interleaved, vm_hwm_bytes
from bench.systems import Chronolake, DeltaRs, Plain, System, dir_bytes, quiet_duckdb

Result = dict[str, Any]


def _fresh(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def run_w1(scale: wl.Scale, root: Path, with_delta: bool, progress: Progress) -> Result:
    data = wl.w1(scale)
    n = data.versions
    qvers = wl.w1_query_versions(n)
    root = _fresh(root / "w1")
    plain = Plain(root / "plain", set(qvers))
    systems: list[System] = [plain, Chronolake(root)]
    if with_delta:
        systems.append(DeltaRs(root))
    commits: dict[str, dict[str, list[float]]] = {s.name: {} for s in systems}
    storage: dict[str, list[tuple[int, int]]] = {s.name: [] for s in systems}
    task = progress.add_task("W1 commits", total=n * len(systems))
    for op in data.ops:
        for s in systems:
            secs = s.apply(op)
            commits[s.name].setdefault(op.kind, []).append(secs)
            if s is plain:
                if op.version in plain.files:
                    storage[s.name].append((op.version, plain.file_bytes(op.version)))
            else:
                storage[s.name].append((op.version, s.storage_bytes()))
            progress.advance(task)
    queries: dict[str, dict[int, dict[str, float]]] = {}
    qtask = progress.add_task("W1 queries", total=len(qvers) * len(wl.QUERIES) * len(systems))
    for qname, sql in wl.QUERIES.items():
        per_version: dict[int, dict[str, float]] = {}
        for v in qvers:
            # the systems take turns, so every ratio compares runs made at the same moments
            runs = timed_interleaved([partial(s.query, sql, v, n) for s in systems], scale.reps)
            expected = runs[0][2]
            for s, (med, _, got) in zip(systems, runs, strict=True):
                check(expected, got, f"W1 {qname} v{v} {s.name}")
                per_version.setdefault(v, {})[s.name] = med
            progress.advance(qtask, len(systems))
        queries[qname] = per_version
    result: Result = {
        "versions": n,
        "query_versions": qvers,
        "mid": (n + 1) // 2,
        "queries": queries,
        "storage": storage,
        "final_bytes": {s.name: s.storage_bytes() for s in systems},
        "plain_zstd_bytes": plain.zstd_bytes(n),
        "load_s": {s.name: commits[s.name]["load"][0] for s in systems if s.commits_timed},
        "commit_ms": {
            s.name: {
                k: (statistics.median(v) * 1000, max(v) * 1000)
                for k, v in commits[s.name].items()
                if k != "load"
            }
            for s in systems
            if s.commits_timed
        },
    }
    lake = systems[1]
    assert isinstance(lake, Chronolake)
    result["after_compaction"] = _w1_after_compaction(lake, plain, n, scale.reps, {})
    result["after_rewrite"] = _w1_after_compaction(
        lake, plain, n, scale.reps, {"max_deleted_ratio": 0.01}
    )
    for s in systems:
        s.close()
    return result


def _w1_after_compaction(
    lake: Chronolake, plain: Plain, n: int, reps: int, options: dict[str, Any]
) -> Result:
    """What one compaction (maintenance, not run during the workload) with ``options``
    changes: the latest state's queries and the storage it costs. Old versions still read
    their own files."""
    t0 = time.perf_counter()
    report = lake.con.compact_table("orders", min_age_s=0, **options)
    out: Result = {
        "seconds": time.perf_counter() - t0,
        "files_in": report.files_in,
        "files_out": report.files_out,
        "bytes": lake.storage_bytes(),
        "queries": {},
    }
    for qname, sql in wl.QUERIES.items():
        (base, _, expected), (med, _, got) = timed_interleaved(
            [partial(plain.query, sql, n, n), partial(lake.query, sql, n, n)], reps
        )
        check(expected, got, f"W1 {qname} latest after compaction")
        out["queries"][qname] = {"plain": base, "chronolake": med}
    return out


def _w2_chronolake(n: int, root: Path, progress: Progress, task: Any) -> Result:
    import chronolake

    path = root / "lake"
    con = chronolake.connect(path)
    con.execute("CREATE TABLE events (id BIGINT, payload VARCHAR)")
    times = []
    t_all = time.perf_counter()
    for i in range(n):
        t0 = time.perf_counter()
        con.execute("INSERT INTO events VALUES (?, ?)", [i, f"payload-{i}"])
        times.append(time.perf_counter() - t0)
        progress.advance(task)
    total = time.perf_counter() - t_all
    hist = con.table_history("events")  # [CREATE, insert 1, insert 2, ...]
    k = n // 2
    a, b = hist[k]["commit_time"], hist[k + 1]["commit_time"]
    t = a + (b - a) / 2
    sql = "SELECT count(*) FROM events AT(TIMESTAMP => ?)"
    med, _, got = timed(lambda: con.execute(sql, [t]).fetchall(), 20)
    if got != [(k,)]:
        raise AssertionError(f"W2 chronolake as-of: {got}, expected {k}")
    con.close()

    def open_latest() -> list[tuple[Any, ...]]:
        with chronolake.connect(path) as c:
            return [tuple(r) for r in c.execute("SELECT count(*) FROM events").fetchall()]

    open_med, _, got = timed(open_latest, 5)
    if got != [(n,)]:
        raise AssertionError(f"W2 chronolake open: {got}")
    catalog = sum(p.stat().st_size for p in path.glob("catalog.sqlite*"))
    return {
        "times": times,
        "commits_per_s": n / total,
        "asof_ms": med * 1000,
        "asof_how": "AT(TIMESTAMP => t)",
        "open_ms": open_med * 1000,
        "catalog_bytes": catalog,
    }


def _w2_delta(n: int, root: Path, progress: Progress, task: Any) -> Result:
    import pyarrow as pa
    from deltalake import DeltaTable, write_deltalake

    path = str(root / "delta")
    times = []
    t_all = time.perf_counter()
    for i in range(n):
        row = pa.table({"id": pa.array([i], pa.int64()), "payload": [f"payload-{i}"]})
        t0 = time.perf_counter()
        write_deltalake(path, row, mode="append")
        times.append(time.perf_counter() - t0)
        progress.advance(task)
    total = time.perf_counter() - t_all
    duck = quiet_duckdb()
    k = n // 2

    def count(version: int | None) -> list[tuple[Any, ...]]:
        dt_ = DeltaTable(path) if version is None else DeltaTable(path, version=version)
        duck.register("ev", dt_.to_pyarrow_dataset())
        try:
            return duck.execute("SELECT count(*) FROM ev").fetchall()
        finally:
            duck.unregister("ev")

    med, _, got = timed(lambda: count(k - 1), 20)
    if got != [(k,)]:
        raise AssertionError(f"W2 delta-rs as-of: {got}, expected {k}")
    open_med, _, got = timed(lambda: count(None), 5)
    if got != [(n,)]:
        raise AssertionError(f"W2 delta-rs open: {got}")
    return {
        "times": times,
        "commits_per_s": n / total,
        "asof_ms": med * 1000,
        "asof_how": "DeltaTable(version=k)",
        "open_ms": open_med * 1000,
        "catalog_bytes": dir_bytes(Path(path) / "_delta_log"),
    }


def run_w2(scale: wl.Scale, root: Path, with_delta: bool, progress: Progress) -> Result:
    n = scale.w2_commits
    root = _fresh(root / "w2")
    out: Result = {"commits": n, "block": max(n // 8, 1), "systems": {}}
    runners = [("chronolake", _w2_chronolake)]
    if with_delta:
        runners.append(("delta-rs", _w2_delta))
    for name, fn in runners:
        task = progress.add_task(f"W2 {name}", total=n)
        res = fn(n, _fresh(root / name), progress, task)
        b = out["block"]
        res["block_ms"] = [
            statistics.median(res["times"][i : i + b]) * 1000 for i in range(0, n, b)
        ]
        del res["times"]
        out["systems"][name] = res
    return out


def _w3_load(rows: int, path: str, queue: Any) -> None:
    """In a fresh process: generate ``rows`` W1 rows, load them in one INSERT, time Q1."""
    import numpy as np

    import chronolake

    rss_start = vm_hwm_bytes()
    table = wl.orders_rows(np.random.default_rng(42), 0, rows)
    rss_data = vm_hwm_bytes()
    con = chronolake.connect(Path(path) / "lake")
    con.execute(
        "CREATE TABLE orders (id BIGINT, customer_id BIGINT, status VARCHAR, amount DOUBLE, "
        "updated_at TIMESTAMP)"
    )
    con.register("src", table)
    t0 = time.perf_counter()
    con.execute("INSERT INTO orders SELECT * FROM src")
    load_s = time.perf_counter() - t0
    con.unregister("src")
    rss_load = vm_hwm_bytes()
    plain = Path(path) / "plain.parquet"
    import pyarrow.parquet as pq

    pq.write_table(table, plain)
    del table

    duck = quiet_duckdb()
    q = wl.Q1
    (p_med, _, expected), (c_med, _, got) = timed_interleaved(
        [
            lambda: duck.execute(q.format(t=f"read_parquet('{plain}')")).fetchall(),
            lambda: [tuple(r) for r in con.execute(q.format(t="orders")).fetchall()],
        ],
        5,
    )
    check(expected, got, f"W3 Q1 at {rows} rows")
    con.close()
    queue.put(
        {
            "rows": rows,
            "load_s": load_s,
            "rss_start": rss_start,
            "rss_data": rss_data,
            "rss_load": rss_load,
            "rss_end": vm_hwm_bytes(),
            "q1_plain_ms": p_med * 1000,
            "q1_chronolake_ms": c_med * 1000,
        }
    )


def run_w3(scale: wl.Scale, root: Path, progress: Progress) -> Result:
    import numpy as np

    root = _fresh(root / "w3")
    k = scale.w3_versions
    first = wl.Op(1, "load", rows=wl.orders_rows(np.random.default_rng(42), 0, scale.rows))
    short, positions = 10, {10: (1, 5, 10), k: (1, k // 2, k)}
    keep = {v for vs in positions.values() for v in vs}
    plain = Plain(root / "plain", keep)
    chrono = Chronolake(root)
    task = progress.add_task("W3 small commits", total=k)
    ten: Chronolake | None = None
    for v in range(1, k + 1):
        op = first if v == 1 else wl.Op(v, "insert", rows=wl.small_row(v))
        plain.apply(op)
        chrono.apply(op)
        progress.advance(task)
        if v == short:
            ten = chrono.copy(_fresh(root / "ten"))
    assert ten is not None
    # both history lengths are timed now, in turns: a ratio of two medians taken minutes
    # apart moved with the machine's load by more than the effect measured
    timings: dict[int, dict[str, dict[str, float]]] = {short: {}, k: {}}
    for i, label in enumerate(("first", "middle", "last")):
        a, b = positions[short][i], positions[k][i]
        runs = timed_interleaved(
            [
                partial(plain.query, wl.Q1, a, short),
                partial(ten.query, wl.Q1, a, short),
                partial(plain.query, wl.Q1, b, k),
                partial(chrono.query, wl.Q1, b, k),
            ],
            scale.reps * 3,
        )
        check(runs[0][2], runs[1][2], f"W3 Q1 at version {a} of {short}")
        check(runs[2][2], runs[3][2], f"W3 Q1 at version {b} of {k}")
        timings[short][label] = {"plain": runs[0][0], "chronolake": runs[1][0]}
        timings[k][label] = {"plain": runs[2][0], "chronolake": runs[3][0]}
    ten.close()
    chrono.close()
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    load_task = progress.add_task(f"W3 load {scale.w3_rows:,} rows", total=1)
    proc = ctx.Process(target=_w3_load, args=(scale.w3_rows, str(_fresh(root / "size")), queue))
    proc.start()
    while True:
        try:
            size = queue.get(timeout=2)
            break
        except Empty:
            if not proc.is_alive():
                raise RuntimeError(f"W3 load process failed (exit code {proc.exitcode})") from None
    proc.join()
    progress.advance(load_task)
    return {
        "versions": k,
        "history": timings,
        "size": size,
        "peak_rss_self": peak_rss_bytes(),
        "peak_rss_children": peak_rss_bytes(children=True),
    }


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
