"""The Redis store passes the store conformance suite on a real server, with and without TTL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from aether.testing.stores import AppendableSessionStoreConformance
from aether_memory_redis import RedisSessionStore
from tests.memory_redis._server import RedisServer


class TestRedisSessionStore(AppendableSessionStoreConformance):
    @pytest.fixture
    async def store(
        self, redis_server: RedisServer, prefix: str
    ) -> AsyncIterator[RedisSessionStore]:
        store = RedisSessionStore(redis_server.url, prefix=prefix)
        yield store
        await store.aclose()


class TestRedisSessionStoreWithTTL(AppendableSessionStoreConformance):
    @pytest.fixture
    async def store(
        self, redis_server: RedisServer, prefix: str
    ) -> AsyncIterator[RedisSessionStore]:
        store = RedisSessionStore(redis_server.url, prefix=prefix, ttl=600)
        yield store
        await store.aclose()
