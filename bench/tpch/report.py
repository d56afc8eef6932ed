"""The TPC-H summary: a rich table on the terminal, a markdown section for docs/benchmarks.md."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from bench.tpch.build import Built
from bench.tpch.run import Outcome, Results


def _ms(s: float | None) -> str:
    return "-" if s is None else f"{s * 1000:.1f}"


def _x(r: float | None) -> str:
    return "-" if r is None else f"{r:.2f}x"


def _mib(b: int) -> str:
    return f"{b / 2**20:.1f} MiB"


def _status(o: Outcome) -> str:
    return "ok" if o.status == "ok" else f"{o.status.upper()}: {o.detail}"


def _pairs(res: Results) -> list[tuple[int, Outcome | None, Outcome | None]]:
    by: dict[int, dict[str, Outcome]] = {}
    for o in res.outcomes:
        by.setdefault(o.query, {})[o.state] = o
    return [(n, s.get("latest"), s.get("old")) for n, s in sorted(by.items())]


def rich_table(res: Results, sf: float) -> Table:
    t = Table(title=f"TPC-H SF {sf:g}: medians in ms, chronolake / plain")
    for h in ("query", "state", "plain ms", "chronolake ms", "ratio", "answer"):
        t.add_column(h)
    for o in res.outcomes:
        t.add_row(
            f"Q{o.query}", o.state, _ms(o.plain_s), _ms(o.chronolake_s), _x(o.ratio), _status(o)
        )
    return t


def facts(built: Built, res: Results, opts: dict[str, Any]) -> list[str]:
    rows = built.rows
    return [
        f"- Scale factor {built.sf:g}: lineitem {rows['old']['lineitem']:,} rows loaded, "
        f"{rows['latest']['lineitem']:,} after the refreshes; orders {rows['old']['orders']:,} "
        f"/ {rows['latest']['orders']:,}",
        f"- Load (8 tables, `write_arrow`): {built.load_s:.1f} s; stored "
        f"{_mib(built.stored_bytes_loaded)} for {_mib(built.input_bytes)} of tpchgen-cli "
        f"Parquet input ({built.stored_bytes_loaded / built.input_bytes:.2f}x); "
        f"{_mib(built.stored_bytes_latest)} after the refreshes",
        f"- Refreshes: {len(built.refresh_s)} rounds of RF1 + RF2 (4 statements each), "
        + ", ".join(f"{s:.2f} s" for s in built.refresh_s)
        + f"; old state = BEFORE(STATEMENT => first refresh, at {built.first_refresh_time})",
        f"- Engine settings for both systems: threads {opts['threads']}, memory limit "
        f"{opts['memory_limit']}; per-query timeout {opts['timeout_s']:.0f} s",
        f"- Peak RSS: chronolake query process {_mib(res.peak_rss.get('chronolake', 0))}, "
        f"plain query processes {_mib(res.peak_rss.get('plain', 0))}, main process (data, "
        f"load, plain states) {_mib(res.peak_rss.get('main', 0))}",
        f"- Times: median of {opts['reps']} runs after one judged warm-up, the systems taking "
        "turns",
    ]


def markdown(built: Built, res: Results, machine: dict[str, str], opts: dict[str, Any]) -> str:
    m = machine
    lines = [
        f"### Run: TPC-H scale factor {built.sf:g}, {m['date']}",
        "",
        f"- Machine: {m['cpu']}, RAM {m['ram']}",
        f"- Python {m['python']}, duckdb {m['duckdb']}, pyarrow {m['pyarrow']}, "
        f"tpchgen-cli {opts['tpchgen']}",
        *facts(built, res, opts),
    ]
    sens = res.state_sensitive()
    lines.append(
        f"- {len(sens)} of the queries answer differently at the two states (plain): "
        + ", ".join(f"Q{n}" for n in sens)
    )
    if opts.get("note"):
        lines.append(f"- Note: {opts['note']}")
    lines += [
        "",
        "| query | plain latest ms | chronolake latest ms | ratio | plain old ms | "
        "chronolake old ms | ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for n, lat, old in _pairs(res):
        cells = []
        for o in (lat, old):
            if o is None:
                cells += ["-", "-", "-"]
            elif o.status != "ok":
                cells += [_ms(o.plain_s), f"{o.status}", "-"]
            else:
                cells += [_ms(o.plain_s), _ms(o.chronolake_s), _x(o.ratio)]
        lines.append(f"| Q{n} | " + " | ".join(cells) + " |")
    g_lat, g_old = res.geomean("latest"), res.geomean("old")
    lines.append(f"| geometric mean | | | {_x(g_lat)} | | | {_x(g_old)} |")
    if res.failed:
        lines += ["", "Failures:", ""]
        lines += [f"- Q{o.query} {o.state}: {o.status}: {o.detail}" for o in res.failed]
    return "\n".join(lines) + "\n"
