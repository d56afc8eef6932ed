"""The forms a lake takes in the tests, so one test runs on each.

* ``local``: the embedded default, a folder with its SQLite catalog and its files;
* ``shared``: a PostgreSQL catalog (a database of the test's own on the suite's server) with
  the files in a folder of their own, as stateless nodes share them.

A ``LakeSpec`` says where a lake is; it opens connections and ``Lake`` objects, and travels to
child processes as one JSON argument (``to_arg`` / ``from_arg``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy

import chronolake

FORMS = ("local", "shared")


@dataclass(frozen=True)
class LakeSpec:
    form: str
    location: str  # the lake's folder, or its catalog URL
    storage: str | None = None  # where the files are, with a catalog URL

    def connect(self, **kw: Any) -> chronolake.Connection:
        return chronolake.connect(self.location, self.storage, **kw)

    def lake(self, **kw: Any) -> chronolake.Lake:
        return chronolake.Lake(self.location, self.storage, **kw)

    @property
    def files(self) -> Path:
        """The local folder below which the tenants' files live (``data/<tenant>``)."""
        return Path(self.storage if self.storage is not None else self.location)

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
        return LakeSpec("shared", database.url, str(folder))
    raise ValueError(form)


@pytest.fixture(params=FORMS)
def lake_spec(request: pytest.FixtureRequest, tmp_path: Path) -> LakeSpec:
    """A new, empty lake, in each form in turn."""
    return make_spec(request.param, tmp_path / "lake", request)
