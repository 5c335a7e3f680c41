"""The Redis store passes the store suite and the session guarantees on a real server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from aether.testing.stores import ListableSessionStoreConformance, SessionGuaranteesConformance
from aether_memory_redis import RedisSessionStore
from aether_memory_redis.testing import RedisServer
from tests.memory_redis._cluster_path import ClusterPathStore


class _OnTheServer:
    """The ``store`` of each suite below: a ``kind`` of store, with a ``ttl``, on the server."""

    kind: type[RedisSessionStore] = RedisSessionStore
    ttl: float | None = None

    @pytest.fixture
    async def store(
        self, redis_server: RedisServer, prefix: str
    ) -> AsyncIterator[RedisSessionStore]:
        store = self.kind(redis_server.url, prefix=prefix, ttl=self.ttl)
        yield store
        await store.aclose()


class TestRedisSessionStore(_OnTheServer, ListableSessionStoreConformance):
    pass


class TestRedisSessionStoreWithTTL(_OnTheServer, ListableSessionStoreConformance):
    ttl = 600


class TestRedisSessionStoreOnTheClusterPath(_OnTheServer, ListableSessionStoreConformance):
    kind = ClusterPathStore


class TestRedisSessionGuarantees(_OnTheServer, SessionGuaranteesConformance):
    pass
