"""Fixtures shared by every test package."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from tests.redis_server import redis_server


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real Redis server for this test run (see :mod:`tests.redis_server`)."""
    with redis_server() as url:
        yield url


@pytest.fixture
def redis_db(redis_url: str) -> Iterator[str]:
    """``redis_url`` with the database flushed before and after the test."""
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    try:
        yield redis_url
    finally:
        client.flushdb()
        client.close()
