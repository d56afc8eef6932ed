"""``chronolake storage``: the split per table with totals, as a table, CSV or JSON, and the
chart of how storage splits and grows (PNG or SVG)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from lake_forms import LakeSpec

from chronolake.cli.main import cli


@pytest.fixture
def lake(lake_spec: LakeSpec) -> LakeSpec:
    with lake_spec.connect() as con:
        con.execute("CREATE TABLE orders (id INT, v VARCHAR)")
        con.execute("INSERT INTO orders SELECT range, 'v' || range FROM range(1000)")
        con.execute("CREATE TABLE orders_dev CLONE orders")
        con.execute("DELETE FROM orders WHERE id < 100")
        con.execute("DELETE FROM orders WHERE id < 200")
        con.execute("CREATE TABLE tmp AS SELECT * FROM orders")
        con.execute("DROP TABLE tmp")
    return lake_spec


def test_table_view_has_totals_and_bars(lake: LakeSpec) -> None:
    result = CliRunner().invoke(cli, ["storage", *lake.cli_args()], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    out = result.output
    for word in ("MAIN.PUBLIC.ORDERS", "MAIN.PUBLIC.ORDERS_DEV", "MAIN.PUBLIC.TMP", "dropped"):
        assert word in out
    for word in ("active", "time travel", "failsafe", "retained for clone", "TOTAL", "█"):
        assert word in out


def test_json_and_csv(lake: LakeSpec) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["storage", *lake.cli_args(), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    tables = {t["table_name"]: t for t in data["tables"]}
    assert set(tables) == {"ORDERS", "ORDERS_DEV", "TMP"}
    assert tables["ORDERS"]["active_bytes"] > 0 and tables["ORDERS"]["time_travel_bytes"] > 0
    assert tables["ORDERS_DEV"]["total_bytes"] == 0  # it shares ORDERS' files
    assert tables["TMP"]["table_dropped"] is not None and tables["TMP"]["active_bytes"] == 0
    buckets = ("active_bytes", "time_travel_bytes", "failsafe_bytes", "retained_for_clone_bytes")
    for b in buckets:
        assert data["totals"][b] == sum(t[b] for t in data["tables"])
    assert data["totals"]["total_bytes"] == sum(data["totals"][b] for b in buckets)
    assert [s["snapshot_id"] for s in data["snapshots"]] == list(range(1, 8))
    assert data["snapshots"][2]["new_file_bytes"] == 0  # the clone writes no file
    with lake.connect() as con:
        rows = con.execute(
            "SELECT SUM(active_bytes + time_travel_bytes + failsafe_bytes "
            "+ retained_for_clone_bytes) FROM information_schema.table_storage_metrics"
        ).fetchone()
    assert rows[0] == data["totals"]["total_bytes"]

    result = runner.invoke(cli, ["storage", *lake.cli_args(), "--format", "csv"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("table_catalog,table_schema,table_name,id,")
    assert len(lines) == 4


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_chart(lake: LakeSpec, tmp_path: Path, suffix: str) -> None:
    chart = tmp_path / "out" / f"storage{suffix}"
    result = CliRunner().invoke(
        cli, ["storage", *lake.cli_args(), "--chart", str(chart), "--format", "csv"]
    )
    assert result.exit_code == 0, result.output
    data = chart.read_bytes()
    if suffix == ".png":
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000
        from PIL import Image

        with Image.open(chart) as im:
            im.verify()
    else:
        assert b"<svg" in data


def test_chart_needs_png_or_svg(lake: LakeSpec, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["storage", *lake.cli_args(), "--chart", str(tmp_path / "x.jpg")]
    )
    assert result.exit_code == 2 and ".png or .svg" in result.output
