"""The forms a lake takes in the tests, so one test runs on each.

* ``local``: the embedded default, a folder with its SQLite catalog and its files;
* ``shared``: a PostgreSQL catalog (a database of the test's own on the suite's server) with
  the files in an S3-compatible bucket (a prefix of the test's own on the suite's SeaweedFS),
  as stateless nodes share them.

A ``LakeSpec`` says where a lake is; it opens connections and ``Lake`` objects, and travels to
child processes as one JSON argument (``to_arg`` / ``from_arg``).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest
import sqlalchemy

import chronolake

FORMS = ("local", "shared")


@dataclass(frozen=True)
class LakeSpec:
    form: str
    location: str  # the lake's folder, or its catalog URL
    storage: str | None = None  # where the files are, with a catalog URL
    storage_options: dict[str, str] | None = None

    def _options(self, kw: dict[str, Any]) -> dict[str, Any]:
        return {**kw, "storage_options": self.storage_options} if self.storage_options else kw

    def connect(self, **kw: Any) -> chronolake.Connection:
        return chronolake.connect(self.location, self.storage, **self._options(kw))

    def lake(self, **kw: Any) -> chronolake.Lake:
        return chronolake.Lake(self.location, self.storage, **self._options(kw))

    @property
    def files(self) -> Path:
        """The local folder below which the tenants' files live (``data/<tenant>``); only for
        a lake whose files are local (see ``tenant_files`` for any lake)."""
        if self.storage is not None and "://" in self.storage:
            raise AssertionError(f"the files of this lake are not local: {self.storage}")
        return Path(self.storage if self.storage is not None else self.location)

    def tenant_files(self, tenant: str = "default") -> tuple[pafs.FileSystem, str]:
        """(file system, base path) of a tenant's files, local or on S3."""
        if self.storage is None or "://" not in self.storage:
            return pafs.LocalFileSystem(), str(self.files / "data" / tenant)
        o = self.storage_options or {}
        s3 = pafs.S3FileSystem(
            access_key=o.get("access_key_id"),
            secret_key=o.get("secret_access_key"),
            endpoint_override=o.get("endpoint_url", "").split("://")[-1] or None,
            scheme="http" if o.get("endpoint_url", "").startswith("http://") else "https",
            region=o.get("region", "us-east-1"),
        )
        return s3, f"{self.storage.split('://', 1)[1].rstrip('/')}/data/{tenant}"

    def list_files(self, tenant: str = "default") -> dict[str, int]:
        """Every file below the tenant's prefix: relative path -> size."""
        fs, base = self.tenant_files(tenant)
        selector = pafs.FileSelector(base, recursive=True, allow_not_found=True)
        return {
            info.path[len(base) + 1 :]: int(info.size or 0)
            for info in fs.get_file_info(selector)
            if info.type == pafs.FileType.File
        }

    def parquet_metadata(self, rel: str, tenant: str = "default") -> Any:
        fs, base = self.tenant_files(tenant)
        with fs.open_input_file(f"{base}/{rel}") as f:
            return pq.read_metadata(f)

    def parquet_table(
        self, rel: str, columns: list[str], tenant: str = "default", **kw: Any
    ) -> Any:
        fs, base = self.tenant_files(tenant)
        return pq.read_table(f"{base}/{rel}", columns=columns, filesystem=fs, **kw)

    @property
    def catalog_url(self) -> str:
        if self.storage is None:
            return f"sqlite:///{Path(self.location) / 'catalog.sqlite'}"
        return self.location

    def catalog_rows(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        """Rows of a query on the lake's catalog database (for checks of its internals)."""
        engine = sqlalchemy.create_engine(self.catalog_url, poolclass=sqlalchemy.NullPool)
        try:
            with engine.connect() as conn:
                return [tuple(r) for r in conn.execute(sqlalchemy.text(sql), params)]
        finally:
            engine.dispose()

    def cli_args(self) -> list[str]:
        """The CLI's options naming this lake."""
        if self.storage is None:
            return ["--lake", self.location]
        options = [f"{k}={v}" for k, v in (self.storage_options or {}).items()]
        return [
            "--catalog",
            self.location,
            "--storage",
            self.storage,
            *[arg for o in options for arg in ("--storage-option", o)],
        ]

    def catalog_execute(self, sql: str, **params: Any) -> None:
        """Run and commit one statement on the lake's catalog database (to stage races)."""
        engine = sqlalchemy.create_engine(self.catalog_url, poolclass=sqlalchemy.NullPool)
        try:
            with engine.begin() as conn:
                conn.execute(sqlalchemy.text(sql), params)
        finally:
            engine.dispose()

    def delete_files(self, suffix: str, tenant: str = "default") -> int:
        """Delete the tenant's files whose names end in ``suffix``; how many there were."""
        fs, base = self.tenant_files(tenant)
        names = [p for p in self.list_files(tenant) if p.endswith(suffix)]
        for rel in names:
            fs.delete_file(f"{base}/{rel}")
        return len(names)

    def to_arg(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_arg(cls, text: str) -> LakeSpec:
        return cls(**json.loads(text))


def connect_at(path: Any, catalog: str | None = None, **kw: Any) -> chronolake.Connection:
    """A lake whose files are in ``path``: its catalog there too, or at the ``catalog`` URL."""
    if catalog is None:
        return chronolake.connect(path, **kw)
    return chronolake.connect(catalog, path, **kw)


def make_spec(form: str, folder: Path, request: pytest.FixtureRequest) -> LakeSpec:
    """A new, empty lake of ``form`` whose local parts live in ``folder``."""
    if form == "local":
        return LakeSpec("local", str(folder))
    if form == "shared":
        database = request.getfixturevalue("pg_database")
        s3 = request.getfixturevalue("s3_server")
        bucket = request.getfixturevalue("s3_bucket")
        prefix = f"s3://{bucket}/{uuid.uuid4().hex[:12]}"
        return LakeSpec("shared", database.url, prefix, dict(s3.options))
    raise ValueError(form)


@pytest.fixture(params=FORMS)
def lake_spec(request: pytest.FixtureRequest, tmp_path: Path) -> LakeSpec:
    """A new, empty lake, in each form in turn."""
    return make_spec(request.param, tmp_path / "lake", request)
