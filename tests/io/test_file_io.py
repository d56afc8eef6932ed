"""The FileIO contract, the same tests on a local folder and on S3 (SeaweedFS)."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pyarrow as pa
import pytest
from services.s3 import SECRET_KEY, S3Server

import chronolake
from chronolake.io import FileIO, open_storage


@pytest.fixture(params=["local", "s3"])
def io(request: pytest.FixtureRequest, tmp_path: Path) -> FileIO:
    if request.param == "local":
        return open_storage(str(tmp_path / "store"))
    server: S3Server = request.getfixturevalue("s3_server")
    bucket: str = request.getfixturevalue("s3_bucket")
    return open_storage(f"s3://{bucket}/{uuid.uuid4().hex[:8]}", server.options)


TABLE = pa.table({"x": [1, 2, 3], "s": ["a", "b", None]})


def test_write_read_size_exists_delete(io: FileIO) -> None:
    size = io.write_parquet("t/1/a.parquet", TABLE)
    assert io.exists("t/1/a.parquet")
    assert io.size("t/1/a.parquet") == size > 0
    assert io.read_parquet("t/1/a.parquet").equals(TABLE)
    assert io.read_metadata("t/1/a.parquet").num_rows == 3
    assert io.delete("t/1/a.parquet") is True
    assert not io.exists("t/1/a.parquet")
    assert io.delete("t/1/a.parquet") is False  # already gone: not an error


def test_list_gives_relative_paths_sizes_and_times(io: FileIO) -> None:
    before = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    a = io.write_parquet("t/1/a.parquet", TABLE)
    b = io.write_parquet("t/2/deletes-x/del.parquet", TABLE)
    found = {e.path: e for e in io.list()}
    assert set(found) == {"t/1/a.parquet", "t/2/deletes-x/del.parquet"}
    assert (found["t/1/a.parquet"].size, found["t/2/deletes-x/del.parquet"].size) == (a, b)
    assert all(e.modified > before for e in found.values())
    assert [e.path for e in io.list("t/1")] == ["t/1/a.parquet"]
    assert io.list("nothing/here") == []


def test_a_failed_write_leaves_no_file(io: FileIO) -> None:
    def fail(sink: object) -> None:
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        io.write_with("t/1/half.parquet", fail)
    assert not io.exists("t/1/half.parquet")
    assert [e.path for e in io.list()] == []


def test_upload_makes_a_local_file_visible(io: FileIO, tmp_path: Path) -> None:
    local = tmp_path / "staged.bin"
    local.write_bytes(b"x" * 1000)
    assert io.upload(str(local), "t/9/f.bin") == 1000
    assert io.size("t/9/f.bin") == 1000


def test_tenant_views_cannot_name_paths_outside(io: FileIO) -> None:
    acme, other = io.for_tenant("acme"), io.for_tenant("other")
    acme.write_parquet("f.parquet", TABLE)
    assert not other.exists("f.parquet")
    assert [e.path for e in io.list()] == ["data/acme/f.parquet"]
    for bad in ("../other/f.parquet", "/etc/passwd", "a/./b", ""):
        assert not acme.contains(bad)
        with pytest.raises(chronolake.OperationalError, match="Invalid file path"):
            acme.read_parquet(bad)
    with pytest.raises(chronolake.ProgrammingError, match="Invalid tenant name"):
        io.for_tenant("../x")


def test_a_missing_file_is_a_clear_error(io: FileIO) -> None:
    with pytest.raises(chronolake.OperationalError, match=r"Cannot read .*nope\.parquet"):
        io.read_parquet("nope.parquet")
    with pytest.raises(chronolake.OperationalError, match="does not exist"):
        io.size("nope.parquet")


def test_uri_is_what_the_engine_reads(io: FileIO) -> None:
    uri = io.for_tenant("acme").uri("tables/1/a.parquet")
    if io.is_local:
        assert uri == f"{io.root}/data/acme/tables/1/a.parquet"
    else:
        assert uri == f"s3://{io.root}/data/acme/tables/1/a.parquet"
    assert SECRET_KEY not in repr(io) + uri
