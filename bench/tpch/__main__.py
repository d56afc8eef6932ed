"""``python -m bench.tpch [--scale quick|full] [--query N] [--state latest|old]``.

TPC-H: tpchgen-cli data loaded into chronolake, 3 rounds of RF1/RF2, the 22 queries at the
latest state and before the refreshes, each judged against plain DuckDB on Parquet holding the
same state. Exits 1 when an answer is wrong or a query fails or times out.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from rich.console import Console

from bench.__main__ import DOCS, write_docs
from bench.measure import machine
from bench.tpch import data, queries, report
from bench.tpch.build import STATES, Built, build
from bench.tpch.run import Outcome, Plan, run
from bench.tpch.worker import vm_hwm

ROOT = Path(__file__).resolve().parent.parent.parent
SCALES = {"quick": 0.05, "full": 1.0}


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.tpch", description=__doc__)
    p.add_argument("--scale", choices=sorted(SCALES), default="quick")
    p.add_argument("--sf", type=float, default=None, help="scale factor (overrides --scale)")
    p.add_argument("--query", default="", help="query numbers, comma-separated (default: all)")
    p.add_argument("--state", choices=[*STATES, "both"], default="both")
    p.add_argument("--reps", type=int, default=None, help="timed runs (default: full 3, quick 0)")
    p.add_argument("--timeout", type=float, default=None, help="seconds per query run")
    p.add_argument("--memory-limit", default="4GB", help="DuckDB memory limit, both systems")
    p.add_argument("--threads", type=int, default=2, help="DuckDB threads, both systems")
    p.add_argument("--spill-budget", type=float, default=10.0, help="GiB of disk a query may fill")
    p.add_argument("--cache", type=Path, default=ROOT / ".cache" / "tpch")
    p.add_argument(
        "--reuse", action="store_true", help="reuse the last build of this scale (no load)"
    )
    p.add_argument("--docs", action="store_true", help="write docs/benchmarks.md (full: always)")
    p.add_argument("--note", default="", help="a line added to the docs section")
    return p.parse_args(argv)


def _tpchgen_version() -> str:
    try:
        return version("tpchgen-cli")
    except PackageNotFoundError:
        return "?"


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    sf = args.sf if args.sf is not None else SCALES[args.scale]
    full = sf >= 1
    reps = args.reps if args.reps is not None else (3 if full else 0)
    timeout = args.timeout if args.timeout is not None else (120.0 if full else 60.0)
    console = Console()
    import chronolake

    settings = chronolake.Settings(
        duckdb_threads=args.threads, duckdb_memory_limit=args.memory_limit
    )
    folder = data.generate(args.cache, sf)
    out = data.cache_dir(args.cache, sf) / "build"
    if args.reuse and (out / "build.json").exists():
        built = Built.load(out / "build.json")
        console.print(f"reusing {out} (load figures from its build)")
    else:
        console.print(f"loading SF {sf:g} into {out} ...")
        built = build(folder, out, sf, settings, args.threads, args.memory_limit)
        console.print(
            f"load {built.load_s:.1f} s, refreshes "
            + ", ".join(f"{s:.2f} s" for s in built.refresh_s)
        )
    numbers = [int(q) for q in args.query.split(",") if q.strip()] or list(queries.NUMBERS)
    states = list(STATES) if args.state == "both" else [args.state]
    tmp = out / "spill"
    tmp.mkdir(exist_ok=True)
    free = shutil.disk_usage(tmp).free
    floor = free - min(args.spill_budget * 2**30, free // 4)  # a query spilling more is stopped
    plan = Plan(numbers, states, reps, timeout, floor)

    def log(o: Outcome) -> None:
        t = "" if o.chronolake_s is None else f" {o.chronolake_s * 1000:.1f} ms"
        r = "" if o.ratio is None else f" ({o.ratio:.2f}x plain)"
        what = "ok" if o.status == "ok" else f"[red]{o.status.upper()}[/] {o.detail}"
        console.print(f"Q{o.query} {o.state}: {what}{t}{r}")

    try:
        res = run(built, plan, settings, args.threads, args.memory_limit, tmp, log)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    res.peak_rss["main"] = vm_hwm()
    console.print(report.rich_table(res, sf))
    opts = {
        "threads": args.threads,
        "memory_limit": args.memory_limit,
        "timeout_s": timeout,
        "reps": reps,
        "tpchgen": _tpchgen_version(),
        "note": args.note,
    }
    for line in report.facts(built, res, opts):
        console.print(line)
    if len(states) == 2:
        sens = res.state_sensitive()
        console.print(f"{len(sens)} queries answer differently at the two states: {sens}")
    g = {s: res.geomean(s) for s in states}
    console.print(
        "geometric mean chronolake/plain: "
        + ", ".join(f"{s} {v:.2f}x" for s, v in g.items() if v is not None)
    )
    whole = len(numbers) == len(queries.NUMBERS) and len(states) == len(STATES)
    if (full or args.docs) and whole and reps > 0:
        md = report.markdown(built, res, machine(), opts)
        write_docs(md, f"tpch:sf{sf:g}", DOCS / "benchmarks.md")
        console.print(f"wrote {DOCS / 'benchmarks.md'}")
    if res.failed:
        console.print(f"[red]FAILED:[/] {len(res.failed)} query runs failed or were wrong")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
