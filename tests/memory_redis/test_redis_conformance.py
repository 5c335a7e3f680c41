"""The Redis store passes the store suite and the session guarantees on a real server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from aether.testing.stores import ListableSessionStoreConformance, SessionGuaranteesConformance
from aether_memory_redis import RedisSessionStore
from aether_memory_redis.testing import RedisServer
from tests.memory_redis._cluster_path import ClusterPathStore


class TestRedisSessionStore(ListableSessionStoreConformance):
    @pytest.fixture
    async def store(
        self, redis_server: RedisServer, prefix: str
    ) -> AsyncIterator[RedisSessionStore]:
        store = RedisSessionStore(redis_server.url, prefix=prefix)
        yield store
        await store.aclose()


class TestRedisSessionStoreWithTTL(ListableSessionStoreConformance):
    @pytest.fixture
    async def store(
        self, redis_server: RedisServer, prefix: str
    ) -> AsyncIterator[RedisSessionStore]:
        store = RedisSessionStore(redis_server.url, prefix=prefix, ttl=600)
        yield store
        await store.aclose()


class TestRedisSessionStoreOnTheClusterPath(ListableSessionStoreConformance):
    @pytest.fixture
    async def store(
        self, redis_server: RedisServer, prefix: str
    ) -> AsyncIterator[ClusterPathStore]:
        store = ClusterPathStore(redis_server.url, prefix=prefix)
        yield store
        await store.aclose()


class TestRedisSessionGuarantees(SessionGuaranteesConformance):
    @pytest.fixture
    async def store(
        self, redis_server: RedisServer, prefix: str
    ) -> AsyncIterator[RedisSessionStore]:
        store = RedisSessionStore(redis_server.url, prefix=prefix)
        yield store
        await store.aclose()
