"""Build a ``RedisSessionStore`` from a store spec (``AETHER_SESSION_STORE=redis://...``)."""

from __future__ import annotations

import math

from aether import config
from aether.errors import ConfigurationError
from aether_memory_redis._keys import DEFAULT_PREFIX
from aether_memory_redis._store import RedisSessionStore

__all__ = [
    "PREFIX_ENV",
    "TIMEOUT_ENV",
    "TTL_ENV",
    "URL_ENV",
    "create_redis_store",
    "create_rediss_store",
]

URL_ENV = "AETHER_REDIS_URL"
"""The server when the spec is just ``redis`` (default ``redis://localhost:6379/0``)."""

PREFIX_ENV = "AETHER_REDIS_PREFIX"
"""The key prefix when the spec gives none (default ``aether:session``)."""

TTL_ENV = "AETHER_REDIS_TTL"
"""Seconds of inactivity before a session expires, when the spec gives none (default: never)."""

TIMEOUT_ENV = "AETHER_REDIS_TIMEOUT"
"""Seconds to wait for the server when the spec gives none (default 5)."""

_DEFAULT_URL = "redis://localhost:6379/0"


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
    url = f"redis://{location}" if location else config.env_str(URL_ENV, _DEFAULT_URL)
    assert url is not None
    return _build(url, prefix=prefix, ttl=ttl, timeout=timeout, retries=retries)


def create_rediss_store(
    location: str | None = None,
    *,
    prefix: str | None = None,
    ttl: str | float | None = None,
    timeout: str | float | None = None,
    retries: str | int | None = None,
) -> RedisSessionStore:
    """The store for ``rediss://...`` (Redis over TLS); options as :func:`create_redis_store`."""
    if not location:
        raise ConfigurationError(
            "The rediss session store needs a server: AETHER_SESSION_STORE=rediss://host:port/0."
        )
    return _build(f"rediss://{location}", prefix=prefix, ttl=ttl, timeout=timeout, retries=retries)


def _build(
    url: str,
    *,
    prefix: str | None,
    ttl: str | float | None,
    timeout: str | float | None,
    retries: str | int | None,
) -> RedisSessionStore:
    chosen_ttl = (
        _number("ttl", ttl) if ttl is not None else config.env_float(TTL_ENV, 0.0, minimum=0.0)
    )
    chosen_timeout = (
        _number("timeout", timeout)
        if timeout is not None
        else config.env_float(TIMEOUT_ENV, 5.0, minimum=0.001)
    )
    try:
        return RedisSessionStore(
            url,
            prefix=prefix
            if prefix is not None
            else config.env_str(PREFIX_ENV, DEFAULT_PREFIX) or DEFAULT_PREFIX,
            ttl=chosen_ttl or None,
            timeout=chosen_timeout,
            retries=2 if retries is None else _count("retries", retries),
        )
    except (TypeError, ValueError) as exc:
        # The store's messages mask the password; the URL itself is never repeated here.
        raise ConfigurationError(f"Cannot build the Redis session store: {exc}") from None


def _number(name: str, value: str | float) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ConfigurationError(
            f"The Redis session store's {name} must be a number of seconds, got {value!r}."
        ) from None
    if not math.isfinite(number) or number < 0:
        raise ConfigurationError(
            f"The Redis session store's {name} must be finite and >= 0, got {value!r}."
        )
    return number


def _count(name: str, value: str | int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ConfigurationError(
            f"The Redis session store's {name} must be an integer, got {value!r}."
        ) from None
    if number < 0:
        raise ConfigurationError(f"The Redis session store's {name} must be >= 0, got {value!r}.")
    return number
