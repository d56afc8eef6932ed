"""Copying a lake with all its history into a new catalog and storage, verified."""

from __future__ import annotations

import pytest

import chronolake
from chronolake.backup.copy_lake import copy_lake


def _history(path):
    """Two tenants; inserts, updates, deletes, a clone, a dropped table, a transaction."""
    with chronolake.connect(path, tenant="acme") as con:
        con.execute("CREATE TABLE orders (id INT, status VARCHAR, amount DOUBLE)")
        con.execute("INSERT INTO orders SELECT range, 'new', range * 1.5 FROM range(1000)")
        con.execute("UPDATE orders SET status = 'paid' WHERE id % 3 = 0")
        con.execute("DELETE FROM orders WHERE id % 7 = 0")
        con.execute("CREATE TABLE copy CLONE orders")
        con.execute("CREATE TABLE gone (x INT)")
        con.execute("INSERT INTO gone VALUES (1)")
        con.execute("DROP TABLE gone")
        con.execute("BEGIN")
        con.execute("INSERT INTO copy VALUES (5000, 'late', 1)")
        con.execute("DELETE FROM orders WHERE id < 10")
        con.execute("COMMIT")
    with chronolake.connect(path, tenant="globex") as con:
        con.execute("CREATE TABLE t AS SELECT range AS n FROM range(50)")


def _versions(path, tenant):
    """Every snapshot's contents of every table a tenant has now, read by SQL."""
    with chronolake.connect(path, tenant=tenant, read_only=True) as con:
        snaps = [r[0] for r in con.execute("SELECT snapshot_id FROM INFORMATION_SCHEMA.SNAPSHOTS")]
        tables = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM INFORMATION_SCHEMA.TABLES WHERE table_schema = 'PUBLIC'"
            )
        ]
        out = {}
        for t in tables:
            for sn in snaps:
                try:
                    rows = con.execute(
                        f"SELECT * FROM {t} AT(VERSION => {sn}) ORDER BY 1"
                    ).fetchall()
                except chronolake.TimeTravelError:
                    continue  # the table did not exist yet
                out[(t, sn)] = rows
        history = con.execute(
            "SELECT query_id, query_text, execution_status FROM INFORMATION_SCHEMA.QUERY_HISTORY "
            "ORDER BY start_time"
        ).fetchall()
    return out, history


def test_copy_keeps_every_version_and_the_history(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    _history(src)
    with chronolake.Lake(src, read_only=True) as a, chronolake.Lake(dst) as b:
        report = copy_lake(a, b)
    assert report.tenants == 2
    assert report.files > 0 and report.skipped == 0
    assert report.versions_checked >= 8
    for tenant in ("acme", "globex"):
        assert _versions(dst, tenant) == _versions(src, tenant)
    # the copy is a working lake: it takes new commits and time travel by query id
    with chronolake.connect(dst, tenant="acme") as con:
        bad = con.execute("DELETE FROM orders").sfqid
        before = con.execute("SELECT count(*) FROM orders BEFORE(STATEMENT => ?)", [bad])
        assert before.fetchone()[0] > 0
        assert con.execute("UNDROP TABLE gone").fetchall()


def test_copy_refuses_a_destination_that_holds_a_lake(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    _history(src)
    with chronolake.connect(dst) as con:
        con.execute("CREATE TABLE mine (x INT)")
    with (
        chronolake.Lake(src) as a,
        chronolake.Lake(dst) as b,
        pytest.raises(chronolake.ProgrammingError, match="already holds a lake"),
    ):
        copy_lake(a, b)
    with chronolake.connect(dst) as con:
        assert con.execute("SHOW TABLES").fetchall()[0][1] == "MINE"
    assert not (dst / "data" / "acme").exists()


def test_copy_refuses_itself(tmp_path):
    _history(tmp_path)
    with (
        chronolake.Lake(tmp_path) as a,
        chronolake.Lake(tmp_path) as b,
        pytest.raises(chronolake.ProgrammingError, match="same lake"),
    ):
        copy_lake(a, b)


def test_copy_of_a_damaged_lake_fails_before_the_catalog(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    _history(src)
    victim = next((src / "data" / "globex").rglob("*.parquet"))
    victim.unlink()
    with (
        chronolake.Lake(src) as a,
        chronolake.Lake(dst) as b,
        pytest.raises(chronolake.OperationalError, match="missing but still needed"),
    ):
        copy_lake(a, b)
    with chronolake.Lake(dst) as b:  # no tenant came over: a new copy can start afresh
        from chronolake.catalog.transfer import tenant_ids

        assert tenant_ids(b.catalog.engine) == []


def test_copy_lake_command(tmp_path):
    from click.testing import CliRunner

    from chronolake.cli.main import cli

    src, dst = tmp_path / "src", tmp_path / "dst"
    _history(src)
    runner = CliRunner()
    result = runner.invoke(cli, ["copy-lake", str(src), "--to", str(dst)])
    assert result.exit_code == 0, result.output
    assert "Copied 2 tenant(s)" in result.stdout
    assert "table versions verified" in result.stdout
    assert _versions(dst, "acme") == _versions(src, "acme")

    missing = runner.invoke(cli, ["copy-lake", str(tmp_path / "none"), "--to", str(tmp_path / "x")])
    assert missing.exit_code == 1
    assert "No lake at" in missing.stderr and "Traceback" not in missing.output
    assert not (tmp_path / "x").exists()
