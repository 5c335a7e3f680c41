"""``RedisCache``: a response-cache backend on Redis, shared by every process that reaches it.

An entry is one string key, ``PREFIX:KEY``, written with ``SET`` (``PX`` when it has a time to
live, so Redis itself expires it), read with ``GET``, dropped with ``DEL``. Each command is
atomic on the server, so readers see a whole value or none, and a retried ``SET`` after a
lost connection writes the same value again. Failures raise
:class:`~aether.errors.SessionStoreError` (the package's one error type) saying what to check;
whether a failing cache is a miss is the cache layer's decision, not this backend's.
"""

from __future__ import annotations

import asyncio
import math
import os
import weakref
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TypeVar

from redis import exceptions as rx
from redis.asyncio import Redis, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff

from aether import config
from aether.errors import ConfigurationError, SessionStoreError
from aether_memory_redis._errors import _advice, _scrub, redact_url, secrets_of
from aether_memory_redis._factory import URL_ENV
from aether_memory_redis._store import _check_url, _seconds, _ttl_ms

__all__ = ["DEFAULT_CACHE_PREFIX", "RedisCache", "create_redis_cache", "create_rediss_cache"]

T = TypeVar("T")

DEFAULT_CACHE_PREFIX = "aether:cache"
"""The start of every cache key when no prefix is given."""

_DEFAULT_URL = "redis://localhost:6379/0"


class RedisCache:
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
        if (url is None) == (client is None):
            raise ValueError("RedisCache takes exactly one of url= or client=.")
        if url is not None and not isinstance(url, str):
            raise TypeError(f"url must be a str, got {type(url).__name__}.")
        if not isinstance(prefix, str) or not prefix:
            raise ValueError(f"The cache's key prefix must be a non-empty string, got {prefix!r}.")
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise ValueError(f"retries must be an integer >= 0, got {retries!r}.")
        self._prefix = prefix + ":"
        self._ttl = None if ttl is None else _seconds("ttl", ttl)
        self._timeout = _seconds("timeout", timeout)
        self._retries = retries
        self._url = url
        self._where = redact_url(url) if url is not None else f"<{type(client).__name__}>"
        self._secrets = secrets_of(url) if url is not None else ()
        self._closed = False
        # The client made now (no I/O) checks the URL early and serves the first loop.
        self._spare: Redis | RedisCluster | None = client if client is not None else self._connect()
        self._given = client
        self._by_loop: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, Redis | RedisCluster
        ] = weakref.WeakKeyDictionary()
        self._pid = os.getpid()

    def __repr__(self) -> str:
        ttl = "" if self._ttl is None else f", ttl={self._ttl!r}"
        return f"RedisCache({self._where!r}, prefix={self.prefix!r}{ttl})"

    @property
    def url(self) -> str:
        """The server's URL with the password masked (safe to log)."""
        return self._where

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
            px = _ttl_ms(lifetime)
            await self._run("writing an entry", lambda c: c.set(name, data, px=px))

    async def delete(self, key: str) -> None:
        """Forget ``key``; an absent key is fine."""
        name = self._prefix + key
        await self._run("deleting an entry", lambda c: c.delete(name))

    # --- lifecycle ---------------------------------------------------------------------

    async def check(self) -> None:
        """Ping the server, so a wrong URL or a stopped server shows at start-up.

        Raises:
            SessionStoreError: The server cannot be reached or refused the credentials.
        """
        await self._run("connecting", lambda c: c.ping())

    async def aclose(self) -> None:
        """Close this cache's connections (not a ``client=`` it was given); later calls raise."""
        if self._closed:
            return
        self._closed = True
        if self._given is not None or self._pid != os.getpid():
            return  # the caller's client; or a forked child, which must not close the parent's
        current = asyncio.get_running_loop()
        pools, self._by_loop = list(self._by_loop.items()), weakref.WeakKeyDictionary()
        for loop, client in pools:
            if loop is current:
                await client.aclose()
            elif loop.is_running():  # a loop in another thread: close them there
                asyncio.run_coroutine_threadsafe(client.aclose(), loop)

    async def __aenter__(self) -> RedisCache:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # --- plumbing ----------------------------------------------------------------------

    def _connect(self) -> Redis:
        assert self._url is not None
        _check_url(self._url, self._where)
        try:
            return Redis.from_url(
                self._url,
                socket_timeout=self._timeout,
                socket_connect_timeout=self._timeout,
                retry=Retry(ExponentialBackoff(cap=0.5, base=0.02), self._retries),
            )
        except (ValueError, TypeError):
            # The client's message may quote the URL, password included: say it ourselves.
            raise ValueError(
                f"{self._where} is not a Redis URL the client accepts; write it as "
                f"redis://[[user]:password@]host[:port][/db] (percent-encode special "
                f"characters in the password)."
            ) from None

    def _current(self) -> Redis | RedisCluster:
        if self._closed:
            raise SessionStoreError(
                f"Redis cache {self._where}: the cache was closed; create a new RedisCache."
            )
        if self._given is not None:
            return self._given  # the caller's client: its loop is the caller's business
        loop = asyncio.get_running_loop()
        if self._pid != os.getpid():
            # Forked: the inherited connections are the parent's; leave them alone.
            self._by_loop, self._pid, self._spare = weakref.WeakKeyDictionary(), os.getpid(), None
        client = self._by_loop.get(loop)
        if client is None:
            client, self._spare = self._spare or self._connect(), None
            self._by_loop[loop] = client
        return client

    async def _run(self, doing: str, call: Callable[[Redis | RedisCluster], Awaitable[T]]) -> T:
        client = self._current()
        try:
            return await call(client)
        except (rx.RedisError, OSError, asyncio.TimeoutError) as exc:
            raise _translate(exc, self._where, doing, self._secrets, self._timeout) from exc


_CHECK_SERVER = (
    "check that the Redis server is running and reachable at that address, and that the URL is "
    "right (RedisCache(url) or the cache spec redis://host:port/db)"
)


def _cache_advice(exc: BaseException, timeout: float) -> str:
    """What to do, where the session store's advice (``_errors._advice``) would mislead."""
    text = str(exc)
    if isinstance(exc, rx.AuthenticationError):
        return _advice(exc, timeout)
    if isinstance(exc, rx.NoPermissionError) or text.startswith("NOPERM"):
        return "the Redis user lacks GET, SET or DEL on the cache's keys; grant them in the ACL"
    if isinstance(exc, rx.TimeoutError | asyncio.TimeoutError | TimeoutError):
        return (
            f"the server did not answer after {timeout:g} s; it may be overloaded or "
            f"unreachable: {_CHECK_SERVER}, or raise timeout="
        )
    if isinstance(exc, rx.ConnectionError | OSError):
        return _CHECK_SERVER
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
    return _advice(exc, timeout)


def _translate(
    exc: BaseException, where: str, doing: str, secrets: tuple[str, ...], timeout: float
) -> SessionStoreError:
    detail = _scrub(str(exc) or type(exc).__name__, secrets)
    return SessionStoreError(
        f"Redis cache {where}: {doing} failed ({detail}): {_cache_advice(exc, timeout)}."
    )


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
    url = f"redis://{location}" if location else config.env_str(URL_ENV, _DEFAULT_URL)
    assert url is not None
    return _build(url, prefix=prefix, ttl=ttl, timeout=timeout, retries=retries)


def create_rediss_cache(
    location: str | None = None,
    *,
    prefix: str | None = None,
    ttl: str | float | None = None,
    timeout: str | float | None = None,
    retries: str | int | None = None,
) -> RedisCache:
    """The cache for ``rediss://...`` (Redis over TLS); options as :func:`create_redis_cache`."""
    if not location:
        raise ConfigurationError(
            "The rediss cache needs a server: name it in the cache spec, rediss://host:port/0."
        )
    return _build(f"rediss://{location}", prefix=prefix, ttl=ttl, timeout=timeout, retries=retries)


def _build(
    url: str,
    *,
    prefix: str | None,
    ttl: str | float | None,
    timeout: str | float | None,
    retries: str | int | None,
) -> RedisCache:
    lifetime = None if ttl is None else _number("ttl", ttl)
    try:
        return RedisCache(
            url,
            prefix=DEFAULT_CACHE_PREFIX if prefix is None else prefix,
            ttl=lifetime or None,
            timeout=2.0 if timeout is None else _number("timeout", timeout),
            retries=1 if retries is None else _count("retries", retries),
        )
    except (TypeError, ValueError) as exc:
        # The cache's messages mask the password; the URL itself is never repeated here.
        raise ConfigurationError(f"Cannot build the Redis cache: {exc}") from None


def _number(name: str, value: str | float) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ConfigurationError(
            f"The Redis cache's {name} must be a number of seconds, got {value!r}."
        ) from None
    if not math.isfinite(number) or number < 0:
        raise ConfigurationError(
            f"The Redis cache's {name} must be finite and >= 0, got {value!r}."
        )
    return number


def _count(name: str, value: str | int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ConfigurationError(
            f"The Redis cache's {name} must be an integer, got {value!r}."
        ) from None
    if number < 0:
        raise ConfigurationError(f"The Redis cache's {name} must be >= 0, got {value!r}.")
    return number
