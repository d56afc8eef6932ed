"""``chronolake history``: per table or for the whole tenant, with its filters."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner, Result
from lake_forms import LakeSpec

from chronolake.cli.main import cli
from chronolake.settings import Settings

START = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)


class Clock:
    """A clock that moves 1 ms per call; ``jump`` moves it by whole hours."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(milliseconds=1)
        return self.now

    def jump(self, hours: int) -> None:
        self.now += dt.timedelta(hours=hours)


@pytest.fixture
def lake(lake_spec: LakeSpec) -> LakeSpec:
    """Snapshots 1-2 by ALICE at 12:00, 3-4 by BOB after 14:00, 5 (a transaction) after 16:00."""
    clock = Clock()
    with lake_spec.connect(clock=clock, settings=Settings(user="ALICE")) as con:
        con.execute("CREATE TABLE orders (id INT)")
        con.execute("INSERT INTO orders VALUES (1), (2), (3)")
    clock.jump(2)
    with lake_spec.connect(clock=clock, settings=Settings(user="BOB")) as con:
        con.execute("CREATE TABLE other (id INT)")
        con.execute("DELETE FROM orders WHERE id = 1")
    clock.jump(2)
    with lake_spec.connect(clock=clock, settings=Settings(user="BOB")) as con:
        con.execute("BEGIN")
        con.execute("UPDATE orders SET id = 20 WHERE id = 2")
        con.execute("INSERT INTO other VALUES (1)")
        con.execute("COMMIT")
    return lake_spec


def invoke(lake: LakeSpec, *args: str) -> Result:
    runner = CliRunner(env={"FORCE_COLOR": None, "TTY_COMPATIBLE": None, "COLUMNS": "200"})
    result = runner.invoke(cli, ["history", *lake.cli_args(), *args])
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def snapshots(lake: LakeSpec, *args: str) -> list[dict[str, object]]:
    entries = json.loads(invoke(lake, "--format", "json", *args).stdout)
    assert isinstance(entries, list)
    return entries


def ids(lake: LakeSpec, *args: str) -> list[object]:
    return [e["snapshot_id"] for e in snapshots(lake, *args)]


def test_without_a_table_every_snapshot_of_the_tenant_with_user_and_type(lake: LakeSpec) -> None:
    entries = snapshots(lake)
    assert [e["snapshot_id"] for e in entries] == [1, 2, 3, 4, 5]
    assert set(entries[0]) == {
        "snapshot_id",
        "commit_time",
        "query_id",
        "query_type",
        "user_name",
        "operation",
        "tables_changed",
        "rows_inserted",
        "rows_deleted",
        "bytes_added",
    }
    assert [e["user_name"] for e in entries] == ["ALICE", "ALICE", "BOB", "BOB", "BOB"]
    assert [e["query_type"] for e in entries] == [
        "CREATE_TABLE",
        "INSERT",
        "CREATE_TABLE",
        "DELETE",
        "COMMIT",
    ]
    assert entries[4]["tables_changed"] == "MAIN.PUBLIC.ORDERS, MAIN.PUBLIC.OTHER"
    assert (entries[1]["rows_inserted"], entries[3]["rows_deleted"]) == (3, 1)


def test_the_table_can_be_an_argument_or_an_option(lake: LakeSpec) -> None:
    assert ids(lake, "orders") == ids(lake, "--table", "orders") == [1, 2, 4, 5]
    assert ids(lake, "--table", "other") == [3, 5]


def test_since_and_until_take_iso_timestamps(lake: LakeSpec) -> None:
    assert ids(lake, "--since", "2024-05-01T14:00:00Z") == [3, 4, 5]
    assert ids(lake, "--until", "2024-05-01T14:00:00+00:00") == [1, 2]
    assert ids(lake, "--since", "2024-05-01 14:00", "--until", "2024-05-01T16:00") == [3, 4]
    # an offset is honoured: 16:00+02:00 is 14:00 UTC
    assert ids(lake, "orders", "--until", "2024-05-01T16:00:00+02:00") == [1, 2]
    assert ids(lake, "--since", "2024-05-02") == []


def test_user_and_type_filter(lake: LakeSpec) -> None:
    assert ids(lake, "--user", "alice") == [1, 2]
    assert ids(lake, "--user", "BOB", "--table", "orders") == [4, 5]
    assert ids(lake, "--type", "DELETE") == [4]
    assert ids(lake, "--type", "create_table") == [1, 3]
    # a transaction is found by its COMMIT or by the operation it did to the table
    assert ids(lake, "--type", "COMMIT") == [5]
    assert ids(lake, "orders", "--type", "UPDATE") == [5]
    assert ids(lake, "other", "--type", "INSERT") == [5]
    assert ids(lake, "--user", "NOBODY") == []


def test_csv_and_table_formats(lake: LakeSpec) -> None:
    csv = invoke(lake, "--format", "csv", "--user", "ALICE").stdout.splitlines()
    assert csv[0].startswith("snapshot_id,commit_time,query_id,query_type,user_name")
    assert len(csv) == 3
    table = invoke(lake, "--type", "DELETE").stdout
    assert "MAIN.PUBLIC.ORDERS" in table
    assert "1 snapshot" in table


def test_bad_filters_are_usage_errors(lake: LakeSpec) -> None:
    runner = CliRunner()
    base = ["history", *lake.cli_args()]
    assert runner.invoke(cli, [*base, "--since", "yesterday"]).exit_code == 2
    assert runner.invoke(cli, [*base, "orders", "--table", "other"]).exit_code == 2
    bad = runner.invoke(cli, [*base, "--since", "2024-05-02", "--until", "2024-05-01"])
    assert bad.exit_code == 2
    missing = runner.invoke(cli, [*base, "--table", "nothing_here"])
    assert missing.exit_code == 1
