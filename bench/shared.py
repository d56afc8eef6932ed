"""The shared lake (PostgreSQL catalog) beside the embedded one (SQLite), in the same run.

* one-row commits: median latency and commits/s of one tenant, on each catalog;
* per-query catalog cost after those commits: a count at the latest state and an as-of count
  (AT(VERSION => mid)) on each catalog; the difference is what the PostgreSQL round trips
  add to a query; then the same once the tenant's history has grown to 10,000 snapshots
  (full scale; 500 at the quick scale);
* tenants apart: one tenant's commit rate alone, then while two other tenants (processes of
  their own) commit as fast as they can, on each catalog;
* reads over S3: W1's Q1 and Q2 at the latest state on a lake whose files are on an
  S3-compatible server (SeaweedFS on loopback; the W1 lake copied there by copy-lake) against
  the same lake on local files, warm, taking turns.

The PostgreSQL server is started by the benchmark (the tests' own starter), on loopback, with
its durable settings (``synchronous_commit`` and ``fsync`` on), and killed at the end.
"""

from __future__ import annotations

import multiprocessing as mp
import shutil
import statistics
import time
from functools import partial
from pathlib import Path
from typing import Any

from rich.progress import Progress
from rich.table import Table

from bench import workloads as wl
from bench.measure import Mismatch, check, timed_interleaved

Result = dict[str, Any]
FORMS = ("embedded", "shared")
DURABLE = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}
# the tenant's history when the catalog cost is measured a second time, by scale name
HISTORY = {"full": 10_000, "quick": 500}


def _spec(form: str, root: Path, catalog: str) -> tuple[str, str | None]:
    folder = root / form
    shutil.rmtree(folder, ignore_errors=True)
    if form == "embedded":
        return str(folder), None
    return catalog, str(folder)


def _commits(location: str, storage: str | None, tenant: str, n: int) -> list[float]:
    """Seconds of each of ``n`` one-row INSERT commits of ``tenant``."""
    import chronolake

    with chronolake.connect(location, storage, tenant=tenant) as con:
        con.execute("CREATE TABLE IF NOT EXISTS events (id BIGINT, payload VARCHAR)")
        times = []
        for i in range(n):
            t0 = time.perf_counter()
            con.execute("INSERT INTO events VALUES (?, ?)", [i, f"payload-{i}"])
            times.append(time.perf_counter() - t0)
    return times


def _flat_out(location: str, storage: str | None, tenant: str, ready: Any, stop: Any) -> None:
    """A tenant committing as fast as it can until ``stop`` is set (a process of its own)."""
    import chronolake

    with chronolake.connect(location, storage, tenant=tenant) as con:
        con.execute("CREATE TABLE IF NOT EXISTS events (id BIGINT, payload VARCHAR)")
        ready.set()
        i = 0
        while not stop.is_set():
            con.execute("INSERT INTO events VALUES (?, ?)", [i, "load"])
            i += 1


def _grow(location: str, storage: str | None, first: int, count: int) -> None:
    """``count`` more one-row INSERT commits into tenant w2's events (ids from ``first``)."""
    import chronolake

    with chronolake.connect(location, storage, tenant="w2") as con:
        for i in range(first, first + count):
            con.execute("INSERT INTO events VALUES (?, ?)", [i, f"payload-{i}"])


def _rate_with_load(
    location: str, storage: str | None, load: tuple[str, str | None], n: int
) -> float:
    """Commits/s of tenant A while two other tenants (processes of their own) commit flat
    out into the lake ``load`` names."""
    ctx = mp.get_context("spawn")
    stop = ctx.Event()
    readies = [ctx.Event() for _ in range(2)]
    loads = [
        ctx.Process(target=_flat_out, args=(*load, f"load{k}", readies[k], stop)) for k in range(2)
    ]
    for p in loads:
        p.start()
    try:
        for r in readies:
            r.wait(600)
        return n / sum(_commits(location, storage, "a_loaded", n))
    finally:
        stop.set()
        for p in loads:
            p.join(600)


def _rate_under_load(
    location: str, storage: str | None, control: tuple[str, str | None], n: int, rounds: int
) -> dict[str, float]:
    """Tenant A's commits/s alone, and with two other tenants committing flat out, either in
    the same lake or in ``control``, another lake on the same catalog server and disk (the
    same load on the machine, nothing shared but the machine), taking turns ``rounds`` times;
    medians. same / other is what sharing a lake costs a tenant; loaded / alone is mostly
    what two busy cores cost it."""
    alone = n / sum(_commits(location, storage, "a_alone", n))
    same, other = [], []
    for _ in range(rounds):
        same.append(_rate_with_load(location, storage, (location, storage), n))
        other.append(_rate_with_load(location, storage, control, n))
    return {
        "alone_per_s": alone,
        "loaded_per_s": statistics.median(same),
        "control_per_s": statistics.median(other),
    }


def _queries(location: str, storage: str | None, n: int) -> tuple[Any, Any]:
    import chronolake

    con = chronolake.connect(location, storage, tenant="w2")
    latest = (lambda: con.execute("SELECT count(*) FROM events").fetchall(), [(n,)])
    mid = n // 2 + 1  # snapshot 1 created the table: snapshot k + 1 holds k rows
    sql = "SELECT count(*) FROM events AT(VERSION => ?)"
    asof = (lambda: con.execute(sql, [mid + 1]).fetchall(), [(mid,)])
    return con, (latest, asof)


def _catalog_cost(forms: Result, runs: list[Any], reps: int, suffix: str) -> None:
    """Time each form's latest and as-of count in turns; store them as latest_ms / asof_ms
    (with ``suffix``) in ``forms``."""
    for i, what in enumerate(("latest_ms", "asof_ms")):
        fns = [r[i] for r in runs]
        timed = timed_interleaved([f for f, _ in fns], reps)
        for form, (med, _, got), (_, want) in zip(FORMS, timed, fns, strict=True):
            if [tuple(r) for r in got] != want:
                raise Mismatch(f"shared lake {what}{suffix} {form}: {got} != {want}")
            forms[form][what + suffix] = med * 1000


def _rows(con: Any, sql: str) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in con.execute(sql).fetchall()]


def _s3_reads(scale: wl.Scale, root: Path) -> dict[str, Any]:
    """W1's queries at the latest state: local files vs the same lake's files on S3, warm
    (one connection, run again and again) and on a new connection of the same Lake each
    time (connect, query, close); with the S3 requests each warm query sent."""
    import chronolake
    from bench.systems import Chronolake
    from chronolake.backup.copy_lake import copy_lake
    from tests.services.s3 import start_s3

    data = wl.w1(scale)
    local = Chronolake(root / "w1")
    for op in data.ops:
        local.apply(op)
    local.close()
    server = start_s3()
    try:
        storage = f"s3://{server.create_bucket('bench')}/w1"
        catalog = f"sqlite:///{root / 's3-catalog.sqlite'}"
        with (
            chronolake.Lake(root / "w1" / "lake", read_only=True) as a,
            chronolake.Lake(catalog, storage, storage_options=server.options) as b,
        ):
            copy_lake(a, b)
        with (
            chronolake.Lake(root / "w1" / "lake", read_only=True) as disk_lake,
            chronolake.Lake(catalog, storage, storage_options=server.options) as s3_lake,
        ):
            return _s3_timings(scale, disk_lake, s3_lake)
    finally:
        server.stop()


def _s3_timings(scale: wl.Scale, disk_lake: Any, s3_lake: Any) -> dict[str, Any]:
    storage = s3_lake.layout.storage
    cache = storage.for_tenant("default").duck_filesystem().block_cache
    on_disk, on_s3 = disk_lake.connect(), s3_lake.connect()
    out: dict[str, Any] = {"warm": {}, "new": {}, "requests": {}}
    for name, sql in wl.QUERIES.items():
        text = sql.format(t="orders")
        _rows(on_s3, text)  # the first run reads from S3; the runs timed are warm
        before = cache.fetches if cache is not None else 0
        runs = timed_interleaved(
            [partial(_rows, on_disk, text), partial(_rows, on_s3, text)], scale.reps
        )
        if cache is not None:
            out["requests"][name] = (cache.fetches - before) / (scale.reps + 1)
        check(runs[0][2], runs[1][2], f"W1 {name} over S3 against local files")
        out["warm"][name] = (runs[0][0] * 1000, runs[1][0] * 1000)
        fresh = timed_interleaved(
            [partial(_new_connection, disk_lake, text), partial(_new_connection, s3_lake, text)],
            scale.reps,
        )
        check(fresh[0][2], fresh[1][2], f"W1 {name} over S3 on a new connection")
        out["new"][name] = (fresh[0][0] * 1000, fresh[1][0] * 1000)
    on_disk.close()
    on_s3.close()
    return out


def _new_connection(lake: Any, sql: str) -> list[tuple[Any, ...]]:
    """``sql``'s rows on a connection opened for it (and closed)."""
    with lake.connect() as con:
        return _rows(con, sql)


def run_shared(scale: wl.Scale, root: Path, progress: Progress) -> Result:
    from tests.services.postgres import PostgresServer

    n = scale.w2_commits
    server = PostgresServer.start(DURABLE)
    try:
        catalog = server.create_database("bench").url
        control_catalog = server.create_database("bench_control").url
        out: Result = {"commits": n, "forms": {}}
        task = progress.add_task("shared lake", total=len(FORMS) * 4 + 1)
        cons = []
        runs: list[Any] = []
        specs = []
        for form in FORMS:
            location, storage = _spec(form, root / "shared", catalog)
            specs.append((location, storage))
            times = _commits(location, storage, "w2", n)
            out["forms"][form] = {
                "commit_ms": statistics.median(times) * 1000,
                "commits_per_s": n / sum(times),
            }
            progress.advance(task)
            con, fns = _queries(location, storage, n)
            cons.append(con)
            runs.append(fns)
            control = _spec(form, root / "control", control_catalog)
            rates = _rate_under_load(location, storage, control, max(n // 4, 50), scale.load_rounds)
            out["forms"][form].update(rates)
            progress.advance(task)
        _catalog_cost(out["forms"], runs, scale.reps, "")
        progress.advance(task, len(FORMS))
        for con in cons:
            con.close()
        history = HISTORY.get(scale.name, 10_000)
        out["history"] = history
        cons, runs = [], []
        for location, storage in specs:  # snapshot 1 created the table, k + 1 holds k rows
            _grow(location, storage, n, history - n - 1)
            con, fns = _queries(location, storage, history - 1)
            cons.append(con)
            runs.append(fns)
            progress.advance(task)
        _catalog_cost(out["forms"], runs, scale.reps, "_history")
        for con in cons:
            con.close()
        out["postgres"] = server_version(catalog)
        out["s3"] = _s3_reads(scale, root / "s3")
        progress.advance(task)
        return out
    finally:
        server.stop()


def server_version(url: str) -> str:
    import sqlalchemy

    engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.NullPool)
    try:
        with engine.connect() as conn:
            return str(conn.execute(sqlalchemy.text("SHOW server_version")).scalar_one())
    finally:
        engine.dispose()


def rows(res: Result) -> list[tuple[str, str, str, str, str]]:
    """(figure, embedded, shared, shared / embedded, target)."""
    f = res["forms"]
    e, s = f["embedded"], f["shared"]

    def ratio(a: float, b: float) -> str:
        return f"{b / a:.2f}x" if a else "-"

    n = res["commits"]
    out = [
        (
            "one-row commit, median",
            f"{e['commit_ms']:.1f} ms",
            f"{s['commit_ms']:.1f} ms",
            ratio(e["commit_ms"], s["commit_ms"]),
            "",
        ),
        (
            "commits/s, one tenant",
            f"{e['commits_per_s']:.0f}",
            f"{s['commits_per_s']:.0f}",
            ratio(e["commits_per_s"], s["commits_per_s"]),
            ">= 300/s (shared)",
        ),
    ]
    measured = [("latest_ms", "count(*) latest", n), ("asof_ms", "count(*) AT(VERSION)", n)]
    if "history" in res:
        measured += [
            ("latest_ms_history", "count(*) latest", res["history"] - 1),
            ("asof_ms_history", "count(*) AT(VERSION)", res["history"] - 1),
        ]
    for key, label, commits in measured:
        out.append(
            (
                f"{label} after {commits:,} commits",
                f"{e[key]:.1f} ms",
                f"{s[key]:.1f} ms",
                f"+{s[key] - e[key]:.1f} ms",
                "catalog cost <= 3 ms",
            )
        )
    out.append(
        (
            "tenant A commits/s, alone",
            f"{e['alone_per_s']:.0f}",
            f"{s['alone_per_s']:.0f}",
            "",
            "",
        )
    )
    out.append(
        (
            "tenant A commits/s, two other tenants of another lake committing flat out",
            f"{e['control_per_s']:.0f} ({e['control_per_s'] / e['alone_per_s']:.2f}x alone)",
            f"{s['control_per_s']:.0f} ({s['control_per_s'] / s['alone_per_s']:.2f}x alone)",
            "",
            "",
        )
    )
    out.append(
        (
            "tenant A commits/s, two other tenants of the same lake committing flat out "
            "(vs another lake's)",
            f"{e['loaded_per_s']:.0f} ({e['loaded_per_s'] / e['control_per_s']:.2f}x)",
            f"{s['loaded_per_s']:.0f} ({s['loaded_per_s'] / s['control_per_s']:.2f}x)",
            "",
            ">= 0.90x (shared)",
        )
    )
    s3 = res.get("s3", {})
    for name, (disk, on_s3) in s3.get("warm", {}).items():
        sent = s3.get("requests", {}).get(name)
        requests = "" if sent is None else f", {sent:.1f} S3 requests per query"
        out.append(
            (
                f"W1 {name} latest, files on S3 (warm{requests}) vs local files",
                f"{disk:.1f} ms",
                f"{on_s3:.1f} ms",
                f"{on_s3 / disk:.2f}x",
                "<= 1.50x",
            )
        )
    for name, (disk, on_s3) in s3.get("new", {}).items():
        out.append(
            (
                f"W1 {name} latest on a new connection (connect, query, close), files on S3 "
                "(read before by another connection) vs local files",
                f"{disk:.1f} ms",
                f"{on_s3:.1f} ms",
                f"{on_s3 / disk:.2f}x",
                "",
            )
        )
    return out


HEAD = ("figure", "embedded (SQLite)", "shared (PostgreSQL)", "shared vs embedded", "target")


def rich_table(res: Result) -> Table:
    table = Table(title=f"Shared lake (PostgreSQL {res['postgres']})")
    for h in HEAD:
        table.add_column(h)
    for r in rows(res):
        table.add_row(*r)
    return table


def markdown(res: Result) -> str:
    lines = [
        f"Shared lake: PostgreSQL {res['postgres']} on loopback (fsync and synchronous_commit "
        "on) beside the embedded SQLite catalog, data files local in both; the S3 rows read W1's "
        "lake copied to SeaweedFS on loopback (embedded column: the same lake on local files).",
        "",
        "| " + " | ".join(HEAD) + " |",
        "|" + "---|" * len(HEAD),
    ]
    lines += ["| " + " | ".join(r) + " |" for r in rows(res)]
    return "\n".join(lines) + "\n"
