"""A store taking the path a Redis Cluster client takes, on the tests' single server.

On a cluster the index of sessions lives in a slot of its own, so each write updates it with
a second script just after the session's own (``_Bound.one_node`` is False). There is no
cluster in the tests; this store takes that path on one server, so both paths are tested.
"""

from __future__ import annotations

import dataclasses

from redis.asyncio import Redis, RedisCluster

from aether_memory_redis import RedisSessionStore
from aether_memory_redis._store import _Bound


class ClusterPathStore(RedisSessionStore):
    def _bind(self, client: Redis | RedisCluster) -> _Bound:
        return dataclasses.replace(super()._bind(client), one_node=False)
