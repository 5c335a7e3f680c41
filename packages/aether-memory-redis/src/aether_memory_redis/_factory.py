"""Build a ``RedisSessionStore`` from a store spec (``AETHER_SESSION_STORE=redis://...``).

The cache's factories (``_cache``) read their server the same way, with :func:`redis_url`,
:func:`rediss_url` and :func:`construct`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from aether import config
from aether.errors import ConfigurationError
from aether.memory.factory import option_int, option_seconds
from aether_memory_redis._keys import DEFAULT_PREFIX
from aether_memory_redis._store import RedisSessionStore

__all__ = [
    "PREFIX_ENV",
    "TIMEOUT_ENV",
    "TTL_ENV",
    "URL_ENV",
    "Count",
    "Seconds",
    "construct",
    "create_redis_store",
    "create_rediss_store",
    "redis_url",
    "rediss_url",
]

T = TypeVar("T")

Seconds = str | float | None
"""A factory's option in seconds: text from a spec, a number from code, or None (default)."""
Count = str | int | None
"""A factory's whole-number option: text from a spec, a number from code, or None."""

URL_ENV = "AETHER_REDIS_URL"
"""The server when the spec is just ``redis`` (default ``redis://localhost:6379/0``)."""

PREFIX_ENV = "AETHER_REDIS_PREFIX"
"""The key prefix when the spec gives none (default ``aether:session``)."""

TTL_ENV = "AETHER_REDIS_TTL"
"""Seconds of inactivity before a session expires, when the spec gives none (default: never)."""

TIMEOUT_ENV = "AETHER_REDIS_TIMEOUT"
"""Seconds to wait for the server when the spec gives none (default 5)."""

_DEFAULT_URL = "redis://localhost:6379/0"
_OWNER = "Redis session store"  # in messages: "The Redis session store's ttl must be ..."


def create_redis_store(
    location: str | None = None,
    *,
    prefix: str | None = None,
    ttl: str | float | None = None,
    timeout: str | float | None = None,
    retries: str | int | None = None,
) -> RedisSessionStore:
    """The store for ``redis://[[user]:password@]host[:port][/db][?prefix=..&ttl=..]`` or ``redis``.

    Args:
        location: What follows ``redis://``; None: ``AETHER_REDIS_URL``, else localhost.
        prefix: Key prefix; None: ``AETHER_REDIS_PREFIX``, else ``aether:session``.
        ttl: Seconds before an idle session expires; None: ``AETHER_REDIS_TTL``, else never.
        timeout: Seconds to wait for the server; None: ``AETHER_REDIS_TIMEOUT``, else 5.
        retries: Retries after a lost connection or a timeout (default 2).
    """
    return _build(redis_url(location), prefix, ttl, timeout, retries)


def create_rediss_store(
    location: str | None = None,
    *,
    prefix: str | None = None,
    ttl: str | float | None = None,
    timeout: str | float | None = None,
    retries: str | int | None = None,
) -> RedisSessionStore:
    """The store for ``rediss://...`` (Redis over TLS); options as :func:`create_redis_store`."""
    url = rediss_url(
        location,
        "The rediss session store needs a server: AETHER_SESSION_STORE=rediss://host:port/0.",
    )
    return _build(url, prefix, ttl, timeout, retries)


def _build(
    url: str, prefix: str | None, ttl: Seconds, timeout: Seconds, retries: Count
) -> RedisSessionStore:
    chosen_ttl = (
        option_seconds(ttl, option="ttl", owner=_OWNER)
        if ttl is not None
        else config.env_float(TTL_ENV, 0.0, minimum=0.0)
    )
    chosen_timeout = (
        option_seconds(timeout, option="timeout", owner=_OWNER)
        if timeout is not None
        else config.env_float(TIMEOUT_ENV, 5.0, minimum=0.001)
    )
    return construct(
        RedisSessionStore,
        url,
        _OWNER,
        prefix=prefix
        if prefix is not None
        else config.env_str(PREFIX_ENV, DEFAULT_PREFIX) or DEFAULT_PREFIX,
        ttl=chosen_ttl,
        timeout=chosen_timeout,
        retries=2 if retries is None else option_int(retries, option="retries", owner=_OWNER),
    )


def redis_url(location: str | None) -> str:
    """``redis://LOCATION``; without a location, ``AETHER_REDIS_URL``, else localhost."""
    url = f"redis://{location}" if location else config.env_str(URL_ENV, _DEFAULT_URL)
    assert url is not None
    return url


def rediss_url(location: str | None, missing: str) -> str:
    """``rediss://LOCATION``; a TLS server has no default, so ``missing`` says to name one."""
    if not location:
        raise ConfigurationError(missing)
    return f"rediss://{location}"


def construct(
    cls: Callable[..., T],
    url: str,
    owner: str,
    *,
    prefix: str,
    ttl: float,
    timeout: float,
    retries: int,
) -> T:
    """``cls(url, ...)`` with a factory's options, ``ttl`` 0 meaning none.

    A bad argument comes out as a :class:`ConfigurationError` naming ``owner``; the class's
    messages mask the password, and the URL itself is never repeated here.
    """
    try:
        return cls(url, prefix=prefix, ttl=ttl or None, timeout=timeout, retries=retries)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"Cannot build the {owner}: {exc}") from None
