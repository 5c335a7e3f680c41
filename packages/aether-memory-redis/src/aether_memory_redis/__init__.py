"""A Redis session store for Aether: conversations shared by many application servers.

    from aether import Aether
    from aether_memory_redis import RedisSessionStore

    client = Aether(memory_store=RedisSessionStore("redis://localhost:6379/0", ttl=86400))

or, without code: ``AETHER_SESSION_STORE=redis://localhost:6379/0?ttl=86400``.
"""

from __future__ import annotations

from aether_memory_redis._factory import create_redis_store, create_rediss_store
from aether_memory_redis._keys import DEFAULT_PREFIX, session_keys
from aether_memory_redis._store import RedisSessionStore

__all__ = [
    "DEFAULT_PREFIX",
    "RedisSessionStore",
    "create_redis_store",
    "create_rediss_store",
    "session_keys",
]
