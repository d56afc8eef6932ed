"""``chronolake storage``: how the tenant's file bytes split per table, and how they grew.

The numbers are those of INFORMATION_SCHEMA.TABLE_STORAGE_METRICS: every data and delete file
counts once, for the table that first wrote it, in exactly one of ACTIVE, TIME_TRAVEL, FAILSAFE
and RETAINED_FOR_CLONE. ``--chart`` draws the split and the growth over snapshots with
matplotlib (Agg backend, PNG or SVG by the file's suffix).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
from rich.table import Table
from rich.text import Text

from chronolake.catalog.storage_metrics import BUCKETS, StorageReport, TableMetrics
from chronolake.sql.session import from_us

from .options import LakeTarget, format_option, lake_options
from .output import Format, make_console, print_rows

COLUMNS = (
    "table_catalog",
    "table_schema",
    "table_name",
    "id",
    "deleted",
    "table_dropped",
    "active_bytes",
    "time_travel_bytes",
    "failsafe_bytes",
    "retained_for_clone_bytes",
    "total_bytes",
)
LABELS = {
    "active": "active",
    "time_travel": "time travel",
    "failsafe": "failsafe",
    "retained_for_clone": "retained for clone",
}
STYLES = {
    "active": "green",
    "time_travel": "blue",
    "failsafe": "red",
    "retained_for_clone": "magenta",
}
COLORS = {
    "active": "#2ca02c",
    "time_travel": "#1f77b4",
    "failsafe": "#d62728",
    "retained_for_clone": "#9467bd",
}
BAR_WIDTH = 40
CHART_SUFFIXES = (".png", ".svg")


def human(n: int) -> str:
    """Bytes as B, KiB, MiB, ... with one decimal."""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def _qualified(m: TableMetrics) -> str:
    return f"{m.database_name}.{m.schema_name}.{m.name}"


def _row(m: TableMetrics) -> tuple[Any, ...]:
    return (
        m.database_name,
        m.schema_name,
        m.name,
        m.table_id,
        m.deleted,
        None if m.dropped_us is None else from_us(m.dropped_us).isoformat(),
        m.active,
        m.time_travel,
        m.failsafe,
        m.retained_for_clone,
        m.total,
    )


def totals(report: StorageReport) -> dict[str, int]:
    out = {f"{b}_bytes": sum(getattr(m, b) for m in report.tables) for b in BUCKETS}
    out["total_bytes"] = sum(out.values())
    return out


def _bar(values: Sequence[tuple[str, int]], scale: int) -> Text:
    """A bar of BAR_WIDTH cells at most, one colored run per bucket (largest remainders)."""
    text = Text()
    if scale <= 0:
        return text
    exact = [(b, v * BAR_WIDTH / scale) for b, v in values]
    cells = {b: int(x) for b, x in exact}
    want = round(sum(x for _, x in exact))
    for b, _x in sorted(exact, key=lambda e: e[1] - int(e[1]), reverse=True):
        if sum(cells.values()) >= want:
            break
        cells[b] += 1
    for b, _ in values:
        text.append("█" * cells[b], style=STYLES[b])
    return text


def _print_table(report: StorageReport) -> None:
    console = make_console()
    table = Table(header_style="bold", show_footer=True)
    tot = totals(report)
    table.add_column("table", footer="TOTAL")
    table.add_column("state")
    for b in BUCKETS:
        table.add_column(LABELS[b], justify="right", footer=human(tot[f"{b}_bytes"]))
    table.add_column("total", justify="right", footer=human(tot["total_bytes"]))
    table.add_column(
        "split", footer=_bar([(b, tot[f"{b}_bytes"]) for b in BUCKETS], tot["total_bytes"])
    )
    scale = max((m.total for m in report.tables), default=0)
    for m in report.tables:
        state = "purged" if m.deleted else "dropped" if m.dropped_us is not None else ""
        table.add_row(
            Text(_qualified(m)),
            Text(state, style="dim"),
            *(human(getattr(m, b)) for b in BUCKETS),
            human(m.total),
            _bar([(b, getattr(m, b)) for b in BUCKETS], scale),
        )
    console.print(table)
    legend = Text()
    for b in BUCKETS:
        legend.append("█ ", style=STYLES[b])
        legend.append(f"{LABELS[b]}   ")
    console.print(legend)
    n = len(report.tables)
    console.print(
        f"{n} table{'s' if n != 1 else ''}, {human(tot['total_bytes'])} in files the catalog "
        "references",
        style="dim",
        highlight=False,
    )


def write_chart(report: StorageReport, path: Path) -> None:
    """Draw the split per table and the growth over snapshots into a PNG or SVG file."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tables = [m for m in report.tables if m.total > 0] or report.tables
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(10, 5 + 0.35 * len(tables)), height_ratios=[max(len(tables), 2) + 1, 4]
    )
    try:
        names = [_qualified(m) + (" (dropped)" if m.dropped_us else "") for m in tables]
        left = [0.0] * len(tables)
        for b in BUCKETS:
            values = [getattr(m, b) / 1024 for m in tables]
            top.barh(names, values, left=left, color=COLORS[b], label=LABELS[b])
            left = [x + v for x, v in zip(left, values, strict=True)]
        top.invert_yaxis()
        top.set_title("Storage split per table, KiB (each file counted once, for its writer)")
        top.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=4, fontsize="small")

        snaps = [p.snapshot_id for p in report.timeline]
        bottom.bar(
            snaps,
            [p.new_file_bytes / 1024 for p in report.timeline],
            color="#ff7f0e",
            alpha=0.6,
            label="bytes added (new files)",
        )
        bottom.plot(
            snaps,
            [p.active_bytes / 1024 for p in report.timeline],
            color=COLORS["active"],
            marker=".",
            label="active bytes",
        )
        bottom.plot(
            snaps,
            [p.referenced_bytes / 1024 for p in report.timeline],
            color="#7f7f7f",
            linestyle="--",
            label="written and still referenced",
        )
        bottom.set_xlabel("snapshot")
        bottom.set_ylabel("KiB")
        bottom.set_title("Growth over snapshots")
        bottom.legend(loc="upper left", fontsize="small")
        fig.tight_layout()
        fig.savefig(path, format=path.suffix.lower().lstrip("."))
    finally:
        plt.close(fig)


def _check_chart(_ctx: click.Context, param: click.Parameter, value: Path | None) -> Any:
    if value is not None and value.suffix.lower() not in CHART_SUFFIXES:
        raise click.BadParameter("the chart file must end in .png or .svg", param=param)
    return value


@click.command()
@lake_options
@format_option
@click.option(
    "--chart",
    type=click.Path(dir_okay=False, path_type=Path),
    callback=_check_chart,
    help="Also draw the split and the growth over snapshots into this .png or .svg file.",
)
def storage(lake: LakeTarget, fmt: Format, chart: Path | None) -> None:
    """Show how the tenant's storage splits per table: active, time travel, failsafe and
    retained for clones (INFORMATION_SCHEMA.TABLE_STORAGE_METRICS), with totals.

    \b
      chronolake storage --lake ./lake
      chronolake storage --lake ./lake --format json
      chronolake storage --lake ./lake --chart storage.png
    """
    with lake.open(read_only=True) as con:
        report: StorageReport = con.storage_metrics()
    if fmt == "table":
        _print_table(report)
    elif fmt == "json":
        click.echo(
            json.dumps(
                {
                    "tables": [dict(zip(COLUMNS, _row(m), strict=True)) for m in report.tables],
                    "totals": totals(report),
                    "snapshots": [
                        {
                            "snapshot_id": p.snapshot_id,
                            "commit_time": from_us(p.commit_time_us).isoformat(),
                            "bytes_added": p.bytes_added,
                            "new_file_bytes": p.new_file_bytes,
                            "active_bytes": p.active_bytes,
                        }
                        for p in report.timeline
                    ],
                },
                indent=2,
            )
        )
    else:
        print_rows(COLUMNS, [_row(m) for m in report.tables], fmt)
    if chart is not None:
        chart.parent.mkdir(parents=True, exist_ok=True)
        write_chart(report, chart)
        if fmt == "table":
            make_console().print(f"Chart written to {chart}", style="dim", highlight=False)
