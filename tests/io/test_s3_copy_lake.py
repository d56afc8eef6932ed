"""copy-lake between an embedded lake and a lake whose files are on S3, both ways: every
file copied and verified through the file IO, every table version equal."""

from __future__ import annotations

import uuid
from pathlib import Path

from services.s3 import S3Server

import chronolake
from chronolake.backup.copy_lake import copy_lake


def _fill(con: chronolake.Connection) -> None:
    con.execute("CREATE TABLE t (id INT, v VARCHAR)")
    con.execute("INSERT INTO t SELECT range, 'v' || range FROM range(3000)")
    con.execute("UPDATE t SET v = 'changed' WHERE id % 5 = 0")
    con.execute("DELETE FROM t WHERE id % 7 = 0")


def _versions(con: chronolake.Connection) -> list[tuple[object, ...]]:
    """(rows, distinct values) of t at each snapshot since its creation."""
    snaps = con.execute("SELECT snapshot_id FROM INFORMATION_SCHEMA.SNAPSHOTS ORDER BY 1")
    ids = [r[0] for r in snaps.fetchall()][-4:]  # CREATE, INSERT, UPDATE, DELETE
    sql = "SELECT count(*), count(DISTINCT v) FROM t AT(VERSION => ?)"
    return [con.execute(sql, [i]).fetchone() or () for i in ids]


def test_copy_to_s3_and_back(tmp_path: Path, s3_server: S3Server, s3_bucket: str) -> None:
    with chronolake.connect(tmp_path / "local") as con:
        _fill(con)
        expected = _versions(con)
    storage = f"s3://{s3_bucket}/{uuid.uuid4().hex[:8]}"
    catalog = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    options = s3_server.options
    with (
        chronolake.Lake(tmp_path / "local", read_only=True) as src,
        chronolake.Lake(catalog, storage, storage_options=options) as dst,
    ):
        report = copy_lake(src, dst)
        assert report.files >= 3 and report.versions_checked >= 4
        with dst.connect() as con:
            assert _versions(con) == expected
    with (
        chronolake.Lake(catalog, storage, storage_options=options, read_only=True) as src,
        chronolake.Lake(tmp_path / "back") as dst,
    ):
        assert copy_lake(src, dst).files == report.files
    with chronolake.connect(tmp_path / "back") as con:
        assert _versions(con) == expected
