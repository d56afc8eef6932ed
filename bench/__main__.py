"""``python -m bench [--scale quick|full] [--workloads w1,w2,w3]``.

Fails (exit 1) only when an answer differs from plain's; times are reported, never judged.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bench import report, runs, shared
from bench import workloads as wl
from bench.measure import Mismatch, machine
from bench.systems import deltalake_version

DOCS = Path(__file__).resolve().parent.parent / "docs"


def write_docs(md: str, scale: str, path: Path) -> None:
    """Replace this scale's section of ``path`` (between markers), keeping the rest."""
    begin, end = f"<!-- bench:{scale} -->", f"<!-- /bench:{scale} -->"
    block = f"{begin}\n{md}{end}\n"
    text = path.read_text() if path.exists() else "# Benchmarks\n\n"
    if begin in text and end in text:
        text = re.sub(
            re.escape(begin) + ".*?" + re.escape(end) + "\n?", lambda _: block, text, flags=re.S
        )
    else:
        text = text.rstrip("\n") + "\n\n" + block
    path.write_text(text)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--scale", choices=["quick", "full"], default="quick")
    p.add_argument(
        "--workloads",
        default="w1,w2,w3,shared",
        help="comma-separated: w1,w2,w3,shared (shared: PostgreSQL catalog beside SQLite)",
    )
    p.add_argument("--dir", type=Path, default=None, help="work directory (default: a temp dir)")
    p.add_argument("--no-docs", action="store_true", help="do not write docs/benchmarks.md")
    args = p.parse_args(argv)
    scale = wl.FULL if args.scale == "full" else wl.QUICK
    chosen = [w.strip().lower() for w in args.workloads.split(",") if w.strip()]
    console = Console()
    with_delta = deltalake_version() is not None
    if not with_delta:
        console.print(
            "[yellow]note:[/] deltalake is not installed: delta-rs is skipped "
            "(pip install -e '.\\[bench]')"
        )
    res: dict = {"scale": scale.name, "scale_obj": scale, "workloads": chosen, "machine": machine()}
    start = time.perf_counter()
    tmp = tempfile.TemporaryDirectory(prefix="chronolake-bench-")
    root = args.dir or Path(tmp.name)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    try:
        with Progress(*columns, console=console) as progress:
            if "w1" in chosen:
                res["w1"] = runs.run_w1(scale, root, with_delta, progress)
            if "w2" in chosen:
                res["w2"] = runs.run_w2(scale, root, with_delta, progress)
            if "w3" in chosen:
                res["w3"] = runs.run_w3(scale, root, progress)
            if "shared" in chosen:
                res["shared"] = shared.run_shared(scale, root, progress)
    except Mismatch as e:
        console.print(f"[red]FAILED: an answer differs from plain's:[/] {e}")
        return 1
    finally:
        tmp.cleanup()
    res["wall_s"] = time.perf_counter() - start
    if any(w in chosen for w in ("w1", "w2", "w3")):
        console.print(report.rich_table(res))
    if "shared" in res:
        console.print(shared.rich_table(res["shared"]))
    console.print(f"wall time {res['wall_s']:.0f} s")
    if not args.no_docs:
        local = [w for w in chosen if w != "shared"]
        names: list[str] = []
        if local:
            names = report.charts(res, DOCS, f"bench-{scale.name}")
            write_docs(
                report.markdown(res, names),
                f"{scale.name}:{'-'.join(local)}",
                DOCS / "benchmarks.md",
            )
        if "shared" in res:
            write_docs(
                shared.markdown(res["shared"]), f"{scale.name}:shared", DOCS / "benchmarks.md"
            )
        console.print(f"wrote {DOCS / 'benchmarks.md'}" + "".join(f", {n}" for n in names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
