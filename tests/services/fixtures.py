"""Pytest fixtures of the services the tests start themselves (registered in conftest.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from services.postgres import Database, PostgresServer, PostgresUnavailable
from services.s3 import S3Server, start_s3


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole session, killed at its end."""
    try:
        server = PostgresServer.start()
    except PostgresUnavailable as e:
        if os.environ.get("CI"):  # CI must run every backend
            pytest.fail(str(e), pytrace=False)
        pytest.skip(str(e))
    yield server
    server.stop()


@pytest.fixture
def pg_database(postgres_server: PostgresServer) -> Database:
    """A database (and a role owning it) of the test's own."""
    return postgres_server.create_database()


@pytest.fixture
def pg_catalog(pg_database: Database) -> str:
    """The catalog URL of a new, empty PostgreSQL catalog."""
    return pg_database.url


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """One S3-compatible server (SeaweedFS) for the whole session, killed at its end."""
    server = start_s3()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def s3_bucket(s3_server: S3Server) -> str:
    """A new, empty bucket for the test module."""
    return s3_server.create_bucket()
