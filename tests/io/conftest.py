"""Fixtures for the storage tests: one SeaweedFS server per test session (started only when
a test asks for it) and a fresh bucket per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from services.s3 import S3Server, start_s3


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    server = start_s3()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def s3_bucket(s3_server: S3Server) -> str:
    return s3_server.create_bucket()
