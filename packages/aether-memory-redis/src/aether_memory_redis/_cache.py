"""``RedisCache``: a response-cache backend on Redis, shared by every process that reaches it.

An entry is one string key, ``PREFIX:KEY``, written with ``SET`` (``PX`` when it has a time to
live, so Redis itself expires it), read with ``GET``, dropped with ``DEL``. Each command is
atomic on the server, so readers see a whole value or none, and a retried ``SET`` after a
lost connection writes the same value again. Failures raise
:class:`~aether.errors.SessionStoreError` (the package's one error type) saying what to check;
whether a failing cache is a miss is the cache layer's decision, not this backend's.
"""

from __future__ import annotations

from redis import exceptions as rx
from redis.asyncio import Redis, RedisCluster

from aether.memory.factory import option_int, option_seconds
from aether_memory_redis._connection import Connected, check_seconds, ttl_ms
from aether_memory_redis._errors import _advice
from aether_memory_redis._factory import Count, Seconds, construct, redis_url, rediss_url

__all__ = ["DEFAULT_CACHE_PREFIX", "RedisCache", "create_redis_cache", "create_rediss_cache"]

DEFAULT_CACHE_PREFIX = "aether:cache"
"""The start of every cache key when no prefix is given."""

_OWNER = "Redis cache"  # in the factories' messages: "The Redis cache's ttl must be ..."


class RedisCache(Connected[Redis | RedisCluster]):
    """A :class:`~aether.extensions.llm.caching.CacheBackend` on a Redis server.

    Building it does no I/O; the connection opens on first use. Close it with
    ``await cache.aclose()`` (or ``async with``). Connections belong to the event loop that
    opened them, so each loop gets its own, and a forked child opens its own.

    Args:
        url: ``redis://[[user]:password@]host[:port][/db]``, ``rediss://`` (TLS) or
            ``unix:///path/to/redis.sock``. The password never appears in messages or ``repr``.
        client: A configured ``redis.asyncio`` client (Sentinel, Cluster, custom TLS) instead
            of ``url``; the caller keeps owning it (``aclose`` leaves it open).
        prefix: Start of every key (``PREFIX:KEY``), so applications sharing a database, and
            the session store, keep apart.
        ttl: Default seconds an entry lives when ``set`` gives none; None: until deleted (or
            evicted by the server's ``maxmemory-policy``).
        timeout: Seconds to wait for the server to connect or answer. Shorter than the session
            store's default: a cache sits in front of a call, and waiting on it longer than the
            call would take defeats it.
        retries: Retries of a command after a lost connection or a timeout (every command here
            may safely run twice).
    """

    _NOUN = "cache"
    _SHORT = "cache"
    _BACKOFF = (0.5, 0.02)

    def __init__(
        self,
        url: str | None = None,
        *,
        client: Redis | RedisCluster | None = None,
        prefix: str = DEFAULT_CACHE_PREFIX,
        ttl: float | None = None,
        timeout: float = 2.0,
        retries: int = 1,
    ) -> None:
        if not isinstance(prefix, str) or not prefix:
            raise ValueError(f"The cache's key prefix must be a non-empty string, got {prefix!r}.")
        self._prefix = prefix + ":"
        self._ttl = None if ttl is None else check_seconds("ttl", ttl)
        super().__init__(url, client, timeout=timeout, retries=retries)

    def __repr__(self) -> str:
        ttl = "" if self._ttl is None else f", ttl={self._ttl!r}"
        return f"RedisCache({self._where!r}, prefix={self.prefix!r}{ttl})"

    @property
    def prefix(self) -> str:
        """The start of every key this cache writes (``PREFIX:KEY``)."""
        return self._prefix[:-1]

    @property
    def ttl(self) -> float | None:
        """Default seconds an entry lives, or None."""
        return self._ttl

    # --- CacheBackend ------------------------------------------------------------------

    async def get(self, key: str) -> bytes | None:
        """The stored value, or None when absent or expired."""
        name = self._prefix + key
        value = await self._run("reading an entry", lambda c: c.get(name))
        if value is None or isinstance(value, bytes):
            return value
        # A client built with decode_responses=True hands back text; the value is the bytes.
        return str(value).encode("utf-8", "surrogateescape")

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        """Store ``value`` under ``key``; ``ttl`` seconds overrides the default lifetime."""
        name, data = self._prefix + key, bytes(value)
        lifetime = self._ttl if ttl is None else ttl
        if lifetime is None:
            await self._run("writing an entry", lambda c: c.set(name, data))
        else:
            px = ttl_ms(lifetime)
            await self._run("writing an entry", lambda c: c.set(name, data, px=px))

    async def delete(self, key: str) -> None:
        """Forget ``key``; an absent key is fine."""
        name = self._prefix + key
        await self._run("deleting an entry", lambda c: c.delete(name))

    # --- Connected -------------------------------------------------------------------

    def _bind(self, client: Redis | RedisCluster) -> Redis | RedisCluster:
        return client

    def _client_of(self, bound: Redis | RedisCluster) -> Redis | RedisCluster:
        return bound

    def _advice(self, exc: BaseException) -> str:
        return _cache_advice(exc, self._timeout)


_CHECK_SERVER = (
    "check that the Redis server is running and reachable at that address, and that the URL is "
    "right (RedisCache(url) or the cache spec redis://host:port/db)"
)


def _cache_advice(exc: BaseException, timeout: float) -> str:
    """What to do, where the session store's advice (``_errors._advice``) would mislead."""
    text = str(exc)
    if isinstance(exc, rx.NoPermissionError) or text.startswith("NOPERM"):
        return "the Redis user lacks GET, SET or DEL on the cache's keys; grant them in the ACL"
    if isinstance(exc, rx.OutOfMemoryError):
        return (
            "the server reached its maxmemory limit; raise maxmemory, give cache entries a "
            "ttl, or let Redis evict them (maxmemory-policy volatile-lru evicts keys with a "
            "ttl only, so sessions without one stay)"
        )
    if text.startswith("WRONGTYPE"):
        return "another application uses this key; give the cache its own prefix="
    if text.startswith(("MOVED", "ASK", "CLUSTERDOWN")):
        return (
            "this is a Redis Cluster; pass a cluster-aware client, "
            "RedisCache(client=redis.asyncio.RedisCluster(...))"
        )
    return _advice(exc, timeout, _CHECK_SERVER)


# --- the plugin's factories ------------------------------------------------------------------


def create_redis_cache(
    location: str | None = None,
    *,
    prefix: str | None = None,
    ttl: str | float | None = None,
    timeout: str | float | None = None,
    retries: str | int | None = None,
) -> RedisCache:
    """The cache for ``redis://[[user]:password@]host[:port][/db][?prefix=..&ttl=..]`` or ``redis``.

    Options arrive as text from a spec's query or as values from code.

    Args:
        location: What follows ``redis://``; None: ``AETHER_REDIS_URL``, else localhost.
        prefix: Key prefix; default ``aether:cache``.
        ttl: Default seconds an entry lives; None or 0: until deleted.
        timeout: Seconds to wait for the server (default 2).
        retries: Retries after a lost connection or a timeout (default 1).
    """
    return _build(redis_url(location), prefix, ttl, timeout, retries)


def create_rediss_cache(
    location: str | None = None,
    *,
    prefix: str | None = None,
    ttl: str | float | None = None,
    timeout: str | float | None = None,
    retries: str | int | None = None,
) -> RedisCache:
    """The cache for ``rediss://...`` (Redis over TLS); options as :func:`create_redis_cache`."""
    url = rediss_url(
        location,
        "The rediss cache needs a server: name it in the cache spec, rediss://host:port/0.",
    )
    return _build(url, prefix, ttl, timeout, retries)


def _build(
    url: str, prefix: str | None, ttl: Seconds, timeout: Seconds, retries: Count
) -> RedisCache:
    return construct(
        RedisCache,
        url,
        _OWNER,
        prefix=DEFAULT_CACHE_PREFIX if prefix is None else prefix,
        ttl=0.0 if ttl is None else option_seconds(ttl, option="ttl", owner=_OWNER),
        timeout=2.0 if timeout is None else option_seconds(timeout, option="timeout", owner=_OWNER),
        retries=1 if retries is None else option_int(retries, option="retries", owner=_OWNER),
    )
