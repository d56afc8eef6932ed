"""A lake whose catalog is SQLite and whose files are on S3 (SeaweedFS): writes, reads, time
travel, changes, clones, compaction, cleanup, orphans and storage metrics, with the files
checked in the bucket itself; a tenant's engine reaching only its own prefix; bad storage
input failing clearly with nothing created."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.fs as pafs
import pytest
from services.s3 import S3Server

import chronolake
from chronolake.io import open_storage
from chronolake.maintenance import cleanup, compact_table, expire, remove_orphans


def _storage(bucket: str) -> str:
    return f"s3://{bucket}/{uuid.uuid4().hex[:8]}"


def _keys(server: S3Server, storage: str, tenant: str = "default") -> set[str]:
    """The files of ``tenant`` in the bucket, relative to its prefix."""
    base = f"{storage.removeprefix('s3://')}/data/{tenant}"
    found = server.filesystem().get_file_info(
        pafs.FileSelector(base, allow_not_found=True, recursive=True)
    )
    return {i.path[len(base) + 1 :] for i in found if i.type == pafs.FileType.File}


def _catalog(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'catalog.sqlite'}"


def _open(tmp_path: Path, server: S3Server, storage: str, **kw: Any) -> chronolake.Connection:
    return chronolake.connect(_catalog(tmp_path), storage, storage_options=server.options, **kw)


def test_writes_reads_time_travel_and_changes(
    tmp_path: Path, s3_server: S3Server, s3_bucket: str
) -> None:
    storage = _storage(s3_bucket)
    con = _open(tmp_path, s3_server, storage)
    con.execute("CREATE TABLE t (id INT, v VARCHAR)")
    con.execute("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')")
    con.execute("INSERT INTO t SELECT range, 'r' FROM range(10, 3000)")  # the COPY path
    con.execute("SET start = CURRENT_TIMESTAMP()")
    con.execute("UPDATE t SET v = 'bb' WHERE id = 2")
    con.execute("DELETE FROM t WHERE id = 3 OR id >= 2000")
    assert con.execute("SELECT count(*), max(id) FROM t").fetchone() == (1992, 1999)
    assert con.execute("SELECT v FROM t WHERE id = 2").fetchone() == ("bb",)
    assert con.execute("SELECT v FROM t AT(VERSION => 2) WHERE id = 2").fetchone() == ("b",)
    assert con.execute("SELECT count(*) FROM t BEFORE(VERSION => 4)").fetchone() == (2993,)
    changes = con.execute(
        "SELECT id, METADATA$ACTION, METADATA$ISUPDATE FROM t CHANGES(INFORMATION => DEFAULT) "
        "AT(VERSION => 3) WHERE id <= 3 ORDER BY id, METADATA$ACTION"
    ).fetchall()
    assert changes == [(2, "DELETE", True), (2, "INSERT", True), (3, "DELETE", False)]
    keys = _keys(s3_server, storage)
    assert len([k for k in keys if k.endswith("/del.parquet")]) == 2  # one per deleting stmt
    assert {k.split("/")[0] for k in keys} == {"tables"}
    assert {p.name.split("-")[0] for p in tmp_path.iterdir()} == {"catalog.sqlite"}  # no data
    con.close()
    # a new connection (a new engine) reads the same through the storage options alone
    with _open(tmp_path, s3_server, storage) as again:
        assert again.execute("SELECT count(*) FROM t").fetchone() == (1992,)


def test_rolled_back_files_are_removed_from_the_bucket(
    tmp_path: Path, s3_server: S3Server, s3_bucket: str
) -> None:
    storage = _storage(s3_bucket)
    with _open(tmp_path, s3_server, storage) as con:
        con.execute("CREATE TABLE t (id INT)")
        con.execute("INSERT INTO t VALUES (1)")
        before = _keys(s3_server, storage)
        con.execute("BEGIN")
        con.execute("INSERT INTO t SELECT range FROM range(5000)")
        con.execute("DELETE FROM t WHERE id = 1")
        assert len(_keys(s3_server, storage)) > len(before)
        con.execute("ROLLBACK")
        assert _keys(s3_server, storage) == before
        assert con.execute("SELECT id FROM t").fetchall() == [(1,)]


def test_clone_compaction_cleanup_and_metrics(
    tmp_path: Path, s3_server: S3Server, s3_bucket: str
) -> None:
    storage = _storage(s3_bucket)
    con = _open(tmp_path, s3_server, storage)
    con.execute("CREATE TABLE t (k INT, v VARCHAR) DATA_RETENTION_TIME_IN_DAYS = 0")
    for k in range(4):
        con.execute("INSERT INTO t VALUES (?, 'a'), (? + 100, 'b')", [k, k])
    con.execute("CREATE TABLE c CLONE t")
    con.execute("DELETE FROM t WHERE k >= 100")
    originals = _keys(s3_server, storage)
    report = compact_table(con, "t", min_age_s=0)
    assert (report.files_in, report.files_out, report.rows) == (4, 1, 4)
    assert con.execute("SELECT count(*) FROM t").fetchone() == (4,)
    assert con.execute("SELECT count(*) FROM c").fetchone() == (8,)
    metrics = {m.name: m for m in con.storage_metrics().tables}
    assert metrics["T"].active > 0  # the clone shares the files: they count for their owner
    assert metrics["C"].clone_group_id == metrics["T"].clone_group_id
    expire(con)
    done = cleanup(con, grace=0)
    # the clone still needs the original data files: only the delete file can go
    assert all(p.endswith("/del.parquet") for p in done.paths) and done.files == 1
    keys = _keys(s3_server, storage)
    assert not set(done.paths) & keys
    assert {k for k in originals if not k.endswith("/del.parquet")} <= keys
    con.execute("DROP TABLE c")
    con.execute("ALTER TABLE t SET DATA_RETENTION_TIME_IN_DAYS = 0")
    expire(con)
    done = cleanup(con, grace=0)
    assert done.files == 4 and done.bytes_reclaimed > 0  # the originals, now unneeded
    left = _keys(s3_server, storage)
    assert not left & originals and len(left) == 1  # the compacted file alone
    assert con.execute("SELECT count(*), min(k) FROM t").fetchone() == (4, 0)
    con.close()


def test_orphans_removes_only_unreferenced_files_of_this_tenant(
    tmp_path: Path, s3_server: S3Server, s3_bucket: str
) -> None:
    storage = _storage(s3_bucket)
    con = _open(tmp_path, s3_server, storage)
    con.execute("CREATE TABLE t (id INT)")
    con.execute("INSERT INTO t VALUES (1), (2)")
    con.execute("DELETE FROM t WHERE id = 2")
    committed = _keys(s3_server, storage)
    lake = open_storage(storage, s3_server.options)
    one_row = pa.table({"x": [1]})
    lake.for_tenant("default").write_parquet("tables/1/data-orphan.parquet", one_row)
    lake.for_tenant("other").write_parquet("tables/1/data-not-mine.parquet", one_row)
    assert remove_orphans(con).files == 0  # younger than the default grace
    dry = remove_orphans(con, grace=0, dry_run=True)
    assert dry.paths == ("tables/1/data-orphan.parquet",)
    report = remove_orphans(con, grace=0)
    assert report.paths == ("tables/1/data-orphan.parquet",) and report.bytes_reclaimed > 0
    assert _keys(s3_server, storage) == committed
    assert _keys(s3_server, storage, "other") == {"tables/1/data-not-mine.parquet"}
    assert con.execute("SELECT id FROM t").fetchall() == [(1,)]
    con.close()


def test_a_tenants_engine_reaches_only_its_own_prefix(
    tmp_path: Path, s3_server: S3Server, s3_bucket: str
) -> None:
    storage = _storage(s3_bucket)
    with _open(tmp_path, s3_server, storage, tenant="other") as other:
        other.execute("CREATE TABLE secret (x INT)")
        other.execute("INSERT INTO secret VALUES (42)")
    theirs = sorted(_keys(s3_server, storage, "other"))[0]
    with _open(tmp_path, s3_server, storage, tenant="acme") as con:
        con.execute("CREATE TABLE t (x INT)")
        con.execute("INSERT INTO t VALUES (1)")
        duck = con._session.duck  # the engine itself, past the SQL front end
        mine = sorted(_keys(s3_server, storage, "acme"))[0]
        base = f"{storage}/data"
        assert duck.execute(f"SELECT count(*) FROM '{base}/acme/{mine}'").fetchone() == (1,)
        for path in (
            f"{base}/other/{theirs}",
            f"{base}/acme/../other/{theirs}",
            f"{base}/acme/**",
            f"{storage}/**",
            f"s3a://{base.removeprefix('s3://')}/other/{theirs}",
        ):
            with pytest.raises(duckdb.Error, match=r"disabled by configuration|outside this"):
                duck.execute(f"SELECT * FROM read_parquet('{path}')").fetchall()
        with pytest.raises(duckdb.Error, match="the configuration has been locked"):
            duck.execute("SET allowed_directories = ['s3://']")
        # the SQL front end refuses file functions before the engine sees them
        with pytest.raises(chronolake.PermissionDenied, match="READ_PARQUET is not allowed"):
            con.execute(f"SELECT * FROM read_parquet('{base}/other/{theirs}')")


@pytest.mark.parametrize(
    ("case", "error", "message"),
    [
        ("missing bucket", chronolake.NotFound, "bucket 'no-such-bucket' does not exist"),
        ("wrong secret", chronolake.OperationalError, "denied: check access_key_id"),
        ("unreachable", chronolake.OperationalError, "Cannot reach the storage"),
    ],
)
def test_bad_storage_fails_clearly_and_creates_nothing(
    tmp_path: Path, s3_server: S3Server, case: str, error: type, message: str
) -> None:
    options = dict(s3_server.options)
    url = f"s3://{s3_server.create_bucket()}/lake"
    if case == "missing bucket":
        url = "s3://no-such-bucket/lake"
    elif case == "wrong secret":
        options["secret_access_key"] = "not-the-secret"
    else:
        options["endpoint_url"] = "http://127.0.0.1:9"  # discard port: nothing listens
    with pytest.raises(error, match=message) as info:
        chronolake.connect(_catalog(tmp_path), url, storage_options=options)
    assert "not-the-secret" not in str(info.value)
    assert s3_server.options["secret_access_key"] not in str(info.value)
    assert list(tmp_path.iterdir()) == []  # no catalog file either
    buckets = s3_server.filesystem().get_file_info(pafs.FileSelector("", recursive=False))
    assert "no-such-bucket" not in {b.path for b in buckets}


def test_bad_storage_arguments(tmp_path: Path) -> None:
    url = _catalog(tmp_path)
    with pytest.raises(chronolake.NotSupportedError, match="ftp:// is not supported"):
        chronolake.connect(url, "ftp://x/y")
    with pytest.raises(chronolake.ProgrammingError, match="Unknown storage option"):
        chronolake.connect(url, "s3://b/p", storage_options={"key": "k"})
    with pytest.raises(chronolake.ProgrammingError, match="storage_options go with S3"):
        chronolake.connect(url, str(tmp_path / "files"), storage_options={"region": "x"})
    with pytest.raises(chronolake.ProgrammingError, match="names no bucket"):
        chronolake.connect(url, "s3:///p")
    with pytest.raises(chronolake.ProgrammingError, match="storage= goes with a catalog URL"):
        chronolake.connect(tmp_path / "lake", "s3://b/p")
    assert list(tmp_path.iterdir()) == []


def test_shared_lake_on_s3(tmp_path: Path, s3_server: S3Server, s3_bucket: str) -> None:
    storage = _storage(s3_bucket)
    with chronolake.Lake(_catalog(tmp_path), storage, storage_options=s3_server.options) as lake:
        assert lake.location.endswith(f"+ {storage}")
        a, b = lake.connect(tenant="acme"), lake.connect(tenant="globex")
        a.execute("CREATE TABLE t (x INT)")
        a.execute("INSERT INTO t VALUES (1)")
        b.execute("CREATE TABLE t (x INT)")
        assert b.execute("SELECT count(*) FROM t").fetchone() == (0,)
        assert a.execute("SELECT x FROM t").fetchall() == [(1,)]
    assert _keys(s3_server, storage, "acme") and not _keys(s3_server, storage, "globex")
