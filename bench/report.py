"""The summary: one rich table, docs/benchmarks.md and PNG charts."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from rich.table import Table

Result = dict[str, Any]
Row = tuple[str, str, str, str, str]  # figure, plain, chronolake, delta-rs, target


def _ratio(value: float | None, base: float | None) -> str:
    if value is None or not base:
        return "-"
    return f"{value / base:.2f}x"


def _ms(s: float | None) -> str:
    return "-" if s is None else f"{s * 1000:.1f} ms"


def _timed_row(figure: str, t: dict[str, float], target: str) -> Row:
    """A row of query times: plain's, and each system's with its ratio to plain."""

    def cell(name: str) -> str:
        v = t.get(name)
        return "-" if v is None else f"{_ms(v)} ({_ratio(v, t['plain'])})"

    return (figure, _ms(t["plain"]), cell("chronolake"), cell("delta-rs"), target)


def _mib(b: int | None) -> str:
    return "-" if b is None else f"{b / 2**20:.1f} MiB"


def rows(res: Result) -> list[Row]:
    out: list[Row] = []
    w1 = res.get("w1")
    if w1:
        fb = w1["final_bytes"]
        plain_b = fb["plain"]
        out.append(
            (
                "W1 storage (final)",
                _mib(plain_b),
                f"{_mib(fb['chronolake'])} ({_ratio(fb['chronolake'], plain_b)})",
                f"{_mib(fb.get('delta-rs'))} ({_ratio(fb.get('delta-rs'), plain_b)})",
                "<= 1.20x",
            )
        )
        z = w1["plain_zstd_bytes"]
        out.append(
            (
                "W1 storage vs plain written with zstd",
                _mib(z),
                _ratio(fb["chronolake"], z),
                _ratio(fb.get("delta-rs"), z),
                "",
            )
        )
        n, mid = w1["versions"], w1["mid"]
        for q, target in (("Q1", "<= 1.20x"), ("Q2", "<= 1.50x")):
            for label, v in (("latest", n), ("v1", 1), (f"v{mid}", mid)):
                out.append(_timed_row(f"W1 {q} {label}", w1["queries"][q][v], target))
        for key, what in (
            ("after_compaction", "compaction (defaults)"),
            ("after_rewrite", "a second compaction, max_deleted_ratio 0.01"),
        ):
            after = w1.get(key)
            if not after:
                continue
            out.append(
                (
                    f"W1 after {what} ({after['files_in']} files -> "
                    f"{after['files_out']}, {after['seconds']:.1f} s): storage",
                    _mib(plain_b),
                    f"{_mib(after['bytes'])} ({_ratio(after['bytes'], plain_b)})",
                    "-",
                    "(maintenance)",
                )
            )
            for q in ("Q1", "Q2"):
                t = after["queries"][q]
                out.append(_timed_row(f"W1 after {what}: {q} latest", t, "(maintenance)"))
        lo = w1["load_s"]
        out.append(
            (
                "W1 load",
                "-",
                f"{lo['chronolake']:.2f} s",
                f"{lo['delta-rs']:.2f} s" if "delta-rs" in lo else "-",
                "",
            )
        )
        cm = w1["commit_ms"]
        for kind, target in (
            ("insert", "<= 15 ms"),
            ("update", "<= 60 ms"),
            ("delete", "<= 40 ms"),
        ):
            cells = []
            for s in ("chronolake", "delta-rs"):
                m = cm.get(s, {}).get(kind)
                cells.append("-" if m is None else f"{m[0]:.1f} ms (max {m[1]:.1f})")
            out.append((f"W1 {kind} commit median", "-", cells[0], cells[1], target))
    w2 = res.get("w2")
    if w2:
        ss = w2["systems"]

        def cell(name: str, fmt: str, key: str) -> str:
            return fmt.format(ss[name][key]) if name in ss else "-"

        for name_ in ("chronolake", "delta-rs"):
            if name_ in ss:
                blocks = ss[name_]["block_ms"]
                ss[name_]["growth"] = blocks[-1] / blocks[0] if blocks[0] else float("nan")
        for label, fmt, key, target in (
            (f"W2 commits/s ({w2['commits']} commits)", "{:.0f}", "commits_per_s", ">= 500, flat"),
            ("W2 commit ms, last block / first block", "{:.2f}x", "growth", "flat (~1x)"),
            ("W2 as-of query", "{:.1f} ms", "asof_ms", "<= 5 ms"),
            ("W2 open latest + count", "{:.1f} ms", "open_ms", ""),
            ("W2 catalog / log bytes", "{:,}", "catalog_bytes", ""),
        ):
            ours, delta = cell("chronolake", fmt, key), cell("delta-rs", fmt, key)
            out.append((label, "-", ours, delta, target))
    w3 = res.get("w3")
    if w3:
        k = w3["versions"]
        for label in ("first", "middle", "last"):
            a, b = w3["history"][10][label], w3["history"][k][label]
            out.append(
                (
                    f"W3 Q1 {label}: {k} vs 10 versions",
                    _ratio(b["plain"], a["plain"]),
                    f"{_ratio(b['chronolake'], a['chronolake'])} "
                    f"({_ms(a['chronolake'])} -> {_ms(b['chronolake'])})",
                    "-",
                    "<= 1.2x",
                )
            )
            out.append(_timed_row(f"W3 Q1 {label} at {k} versions", b, ""))
        sz = w3["size"]
        out.append(
            (
                f"W3 load {sz['rows']:,} rows: peak RSS",
                "-",
                f"{_mib(sz['rss_load'])} (process start {_mib(sz['rss_start'])}, "
                f"with data {_mib(sz['rss_data'])}), load {sz['load_s']:.1f} s",
                "-",
                "< 2 GiB",
            )
        )
        out.append(
            (
                f"W3 Q1 at {sz['rows']:,} rows",
                f"{sz['q1_plain_ms']:.1f} ms",
                f"{sz['q1_chronolake_ms']:.1f} ms "
                f"({sz['q1_chronolake_ms'] / sz['q1_plain_ms']:.2f}x)",
                "-",
                "",
            )
        )
        out.append(
            (
                "W3 peak RSS (getrusage): main process / children",
                "-",
                f"{_mib(w3['peak_rss_self'])} / {_mib(w3['peak_rss_children'])}",
                "-",
                "",
            )
        )
    return out


HEAD = ("figure", "plain", "chronolake (vs plain)", "delta-rs (vs plain)", "target")


def rich_table(res: Result) -> Table:
    t = Table(title=f"chronolake benchmarks ({res['scale']} scale), medians")
    for h in HEAD:
        t.add_column(h)
    for r in rows(res):
        t.add_row(*r)
    return t


def markdown(res: Result, charts: list[str]) -> str:
    m = res["machine"]
    sc = res["scale_obj"]
    lines = [
        f"### Run: {res['scale']} scale, {m['date']}",
        "",
        f"- Machine: {m['cpu']}, RAM {m['ram']}",
        f"- Python {m['python']}, duckdb {m['duckdb']}, pyarrow {m['pyarrow']}, "
        f"deltalake {m['deltalake']}",
        f"- Scale: W1 {sc.rows:,} rows + {sc.rounds} rounds of {sc.inserts:,} inserts / "
        f"{sc.updates:,} updates / {sc.deletes:,} deletes; W2 {sc.w2_commits:,} commits; "
        f"W3 {sc.w3_versions:,} versions and {sc.w3_rows:,} rows; queries median of "
        f"{sc.reps} after one warm-up",
        f"- Workloads run: {', '.join(res['workloads'])}; wall time {res['wall_s']:.0f} s",
        "",
        "| " + " | ".join(HEAD) + " |",
        "|" + "---|" * len(HEAD),
    ]
    lines += ["| " + " | ".join(r) + " |" for r in rows(res)]
    w1 = res.get("w1")
    if w1:
        lines += ["", "W1 query medians (ms) by version:", ""]
        systems = [s for s in ("plain", "chronolake", "delta-rs") if s in w1["queries"]["Q1"][1]]
        lines.append("| query | version | " + " | ".join(systems) + " |")
        lines.append("|---|---|" + "---|" * len(systems))
        for q, per in w1["queries"].items():
            for v, t in per.items():
                cells = [f"{t[s] * 1000:.1f}" for s in systems]
                lines.append(f"| {q} | {v} | " + " | ".join(cells) + " |")
    w2 = res.get("w2")
    if w2:
        lines += ["", f"W2 median commit ms per block of {w2['block']} commits:", ""]
        for name, s in w2["systems"].items():
            blocks = ", ".join(f"{b:.1f}" for b in s["block_ms"])
            lines.append(f"- {name}: {blocks} (as-of via {s['asof_how']})")
    lines += [""] + [f"![{c}]({c})" for c in charts]
    return "\n".join(lines) + "\n"


def charts(res: Result, out_dir: Path, prefix: str) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made: list[str] = []
    w1 = res.get("w1")
    if w1:
        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
        for ax, (q, per) in zip(axes, w1["queries"].items(), strict=False):
            vs = sorted(per)
            for s in ("plain", "chronolake", "delta-rs"):
                if s in per[vs[0]]:
                    ax.plot(vs, [per[v][s] * 1000 for v in vs], marker="o", label=s)
            ax.set_title(f"W1 {q}: query time by version")
            ax.set_xlabel("version")
            ax.set_ylabel("ms (median)")
            ax.legend()
        fig.tight_layout()
        name = f"{prefix}-w1-query-by-version.png"
        fig.savefig(out_dir / name, dpi=100)
        plt.close(fig)
        made.append(name)
        fig, ax = plt.subplots(figsize=(7, 4))
        for s, pts in w1["storage"].items():
            if pts:
                ax.plot([p[0] for p in pts], [p[1] / 2**20 for p in pts], marker=".", label=s)
        ax.set_title("W1 storage growth over versions (plain: state at that version)")
        ax.set_xlabel("version")
        ax.set_ylabel("MiB (log scale)")
        ax.set_yscale("log")
        ax.legend()
        fig.tight_layout()
        name = f"{prefix}-w1-storage.png"
        fig.savefig(out_dir / name, dpi=100)
        plt.close(fig)
        made.append(name)
    return made


def median_or_none(xs: list[float]) -> float | None:
    return statistics.median(xs) if xs else None
