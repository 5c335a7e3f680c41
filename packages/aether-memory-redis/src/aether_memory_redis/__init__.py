"""A Redis session store for Aether: conversations shared by many application servers.

    from aether import Aether
    from aether_memory_redis import RedisSessionStore

    client = Aether(memory_store=RedisSessionStore("redis://localhost:6379/0", ttl=86400))

or, without code: ``AETHER_SESSION_STORE=redis://localhost:6379/0?ttl=86400``.

:class:`RedisCache` is a response-cache backend on the same server (cache kind ``redis``).
:class:`RedisCircuitBreaker` and :class:`RedisRateLimiter` build provider layers whose circuit
breaker and requests/tokens-per-minute limits every process sharing the server keeps together.
"""

from __future__ import annotations

from aether_memory_redis._cache import (
    DEFAULT_CACHE_PREFIX,
    RedisCache,
    create_redis_cache,
    create_rediss_cache,
)
from aether_memory_redis._factory import create_redis_store, create_rediss_store
from aether_memory_redis._fleet_breaker import (
    DEFAULT_BREAKER_PREFIX,
    RedisCircuitBreaker,
    RedisCircuitBreakerProvider,
)
from aether_memory_redis._keys import DEFAULT_PREFIX, session_keys
from aether_memory_redis._rate_limit import (
    DEFAULT_RATE_LIMIT_PREFIX,
    RateLimit,
    RateLimitExceededError,
    RedisRateLimitedProvider,
    RedisRateLimiter,
    estimate_tokens,
)
from aether_memory_redis._store import RedisSessionStore

__all__ = [
    "DEFAULT_BREAKER_PREFIX",
    "DEFAULT_CACHE_PREFIX",
    "DEFAULT_PREFIX",
    "DEFAULT_RATE_LIMIT_PREFIX",
    "RateLimit",
    "RateLimitExceededError",
    "RedisCache",
    "RedisCircuitBreaker",
    "RedisCircuitBreakerProvider",
    "RedisRateLimitedProvider",
    "RedisRateLimiter",
    "RedisSessionStore",
    "create_redis_cache",
    "create_redis_store",
    "create_rediss_cache",
    "create_rediss_store",
    "estimate_tokens",
    "session_keys",
]
