"""Which HTTP transport a provider sends through when it creates its own client.

httpx's own transport (httpcore) is the default. ``aiohttp`` uses aiohttp's connection pool
and HTTP parser, which cost far less CPU per request at high concurrency. Nothing else
changes for a provider: the same errors, the same events. Choose it without touching code:

    AETHER_HTTP_TRANSPORT=aiohttp      # pip install aether-core[aiohttp]

or in code with ``HTTPProviderClient(..., transport="aiohttp")``. A provider's own requests
then go to aiohttp directly (:mod:`aether.http._aiohttp`); :func:`create_http_client` builds
an ``httpx.AsyncClient`` over aiohttp (via ``httpx-aiohttp``) for code that wants the httpx API.

httpx itself is only imported once something needs it (an httpx client, or one of the
httpx-typed defaults below), so the aiohttp path never loads it: measured with the openai
provider, about 1 MB less peak memory at 500 concurrent requests and 12-15 ms less start-up.
(A bare ``import httpx`` costs about 14 MB and 50 ms, but most of that is the standard library,
ssl and sockets, which Aether and aiohttp load anyway.)
"""

from __future__ import annotations

import functools
import importlib.util
import logging
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, get_args

from aether._names import close_matches
from aether.config import env_float, env_int, env_str, report_invalid, warn_once
from aether.errors import ConfigurationError

if TYPE_CHECKING:
    import httpx

__all__ = [
    "HTTPTransport",
    "KEEPALIVE_EXPIRY_ENV",
    "MAX_CONNECTIONS_ENV",
    "MAX_KEEPALIVE_ENV",
    "PoolSettings",
    "TRANSPORT_ENV",
    "create_http_client",
    "pool_settings",
    "resolve_transport",
]

logger = logging.getLogger("aether.config")

HTTPTransport = Literal["httpx", "aiohttp"]
"""The transports a created client can use."""

TRANSPORT_ENV = "AETHER_HTTP_TRANSPORT"
"""Environment variable choosing the transport when no ``transport=`` is given."""

# aiohttp's own default, which its pool keeps alive whole: measured at 1000, peak memory at 500
# concurrent calls was 2.45x; at 250 or 500, 0.81-0.91x the requests per second of 100.
_AIOHTTP_MAX_CONNECTIONS = 100
_READ_TIMEOUT = 600.0
_CONNECT_TIMEOUT = 5.0

MAX_CONNECTIONS_ENV = "AETHER_HTTP_MAX_CONNECTIONS"
"""Connections a created client may hold open at once (default 1000; aiohttp's pool 100)."""
MAX_KEEPALIVE_ENV = "AETHER_HTTP_MAX_KEEPALIVE"
"""Idle connections an httpx client keeps for reuse (default 100); aiohttp keeps all of its."""
KEEPALIVE_EXPIRY_ENV = "AETHER_HTTP_KEEPALIVE_EXPIRY"
"""Seconds an idle connection is kept before it is closed (default 5)."""


class PoolSettings(NamedTuple):
    """The connection pool of a client a provider creates itself (not of one given to it).

    Read by :func:`pool_settings` when the client is created (at a provider's first request).
    A named tuple rather than a dataclass: it is built on the path to a process's first
    answer, where a dataclass costs about a millisecond to define.
    """

    max_connections: int
    """Connections open at once; a call beyond them waits for one to be free."""
    max_keepalive: int
    """Idle connections kept for reuse (the httpx transport; aiohttp keeps all of its pool)."""
    keepalive_expiry: float
    """Seconds an idle connection is kept; 0 closes each one once its answer is read."""


_DEFAULT_POOL = PoolSettings(max_connections=1000, max_keepalive=100, keepalive_expiry=5.0)
"""The httpx transport's pool when the environment sets none (``DEFAULT_LIMITS``); aiohttp
keeps :data:`_AIOHTTP_MAX_CONNECTIONS` and the same expiry. Plain numbers, so the aiohttp path
reads them without importing httpx."""


def pool_settings(transport: HTTPTransport) -> PoolSettings:
    """The pool a created client of ``transport`` gets: the environment's, else the defaults.

    ``AETHER_HTTP_MAX_CONNECTIONS`` (default 1000 over httpx, 100 over aiohttp),
    ``AETHER_HTTP_MAX_KEEPALIVE`` (default 100; httpx only, said once if set for aiohttp) and
    ``AETHER_HTTP_KEEPALIVE_EXPIRY`` (default 5 s). A value that cannot be used is reported
    and the default taken, as for every setting (see :mod:`aether.config`).
    """
    aiohttp = transport == "aiohttp"
    default = _DEFAULT_POOL
    most = env_int(
        MAX_CONNECTIONS_ENV,
        _AIOHTTP_MAX_CONNECTIONS if aiohttp else default.max_connections,
        minimum=1,
    )
    kept = env_int(MAX_KEEPALIVE_ENV, default.max_keepalive, minimum=0)
    if aiohttp and env_str(MAX_KEEPALIVE_ENV) is not None:
        warn_once(
            logger,
            MAX_KEEPALIVE_ENV,
            f"{MAX_KEEPALIVE_ENV} applies to the httpx transport only: aiohttp keeps every "
            f"connection of its pool alive, so {MAX_CONNECTIONS_ENV} bounds those. Unset "
            f"{MAX_KEEPALIVE_ENV}, or lower {MAX_CONNECTIONS_ENV}.",
        )
    expiry = env_float(KEEPALIVE_EXPIRY_ENV, default.keepalive_expiry, minimum=0.0)
    return PoolSettings(max_connections=most, max_keepalive=kept, keepalive_expiry=expiry)


@functools.cache
def default_limits() -> httpx.Limits:
    """``aether.http.DEFAULT_LIMITS``, built (importing httpx) on first use: the in-code
    defaults, which the ``AETHER_HTTP_*`` pool variables override (:func:`pool_settings`).

    The openai SDK's pool (1000 connections, 100 kept alive, 5 s), not httpx's 100/20: with
    httpx's, every call above 20 concurrent ones closed a connection and the next opened one
    again, a new TLS handshake each time (486 of every 1,000 requests at 500 concurrent calls
    over HTTPS on ``bench/bench_http.py``, 0.60x the throughput of a raw httpx with this pool;
    about 10 per 1,000 and 1.1-1.3x with it). Keeping all 1000 alive is not better: httpcore's
    pool bookkeeping grows with the square of the connections it holds. The aiohttp transport
    keeps aiohttp's own limit of 100 connections.
    """
    return _limits(_DEFAULT_POOL)


@functools.cache
def default_timeout() -> httpx.Timeout:
    """``aether.http.DEFAULT_TIMEOUT``, built (importing httpx) on first use.

    Generous read timeout (long generations), short connect timeout (fail fast when down).
    """
    import httpx

    return httpx.Timeout(_READ_TIMEOUT, connect=_CONNECT_TIMEOUT)


_CHOICES: tuple[str, ...] = get_args(HTTPTransport)
_INSTALL_HINT = "pip install aether-core[aiohttp]"


def resolve_transport(transport: str | None = None) -> HTTPTransport:
    """The transport to use: ``transport`` if given, else ``AETHER_HTTP_TRANSPORT``, else httpx.

    The choice is checked here, so a misconfiguration shows when the provider is built, not
    on its first request. An unusable ``AETHER_HTTP_TRANSPORT`` is treated as every other
    setting is: reported once, and the default (httpx) used (see :mod:`aether.config`).

    Raises:
        ConfigurationError: ``transport=`` is not a known transport, or names ``aiohttp``
            while it is not installed; the same for the environment variable under
            ``AETHER_STRICT=1``.
    """
    from_env = transport is None
    if transport is None:
        transport = env_str(TRANSPORT_ENV)
        if transport is None:
            return "httpx"
    name = transport.strip().lower()
    if name == "httpx":
        return "httpx"
    if name == "aiohttp":
        if importlib.util.find_spec("aiohttp") is not None:
            return "aiohttp"
        problem = f"unusable: the aiohttp package is not installed (`{_INSTALL_HINT}` adds it)"
    else:
        close = "".join(f"; did you mean {m!r}?" for m in close_matches(name, _CHOICES, limit=1))
        problem = f"not an HTTP transport (choose one of {', '.join(_CHOICES)}{close})"
    if from_env:
        report_invalid(TRANSPORT_ENV, transport, problem, fallback="the default 'httpx'")
        return "httpx"
    raise ConfigurationError(f"transport={transport!r} is {problem}.")


def create_http_client(
    *,
    transport: str | None = None,
    timeout: float | httpx.Timeout | None = None,
    limits: httpx.Limits | None = None,
    **kwargs: Any,
) -> httpx.AsyncClient:
    """A new ``httpx.AsyncClient`` sending through the chosen transport.

    Args:
        transport: ``"httpx"`` or ``"aiohttp"``; None: :func:`resolve_transport` decides.
        timeout: Passed to the client (seconds or an ``httpx.Timeout``); None disables it.
        limits: Connection pool limits (``max_connections`` caps aiohttp's pool too); None:
            :func:`pool_settings`' (the environment's, else ``aether.http.DEFAULT_LIMITS``).
        **kwargs: Any other ``httpx.AsyncClient`` keyword (headers, base_url, verify, ...).

    Raises:
        ConfigurationError: See :func:`resolve_transport`; also when ``httpx-aiohttp``, which
            puts aiohttp under the httpx API, is missing.
    """
    chosen = resolve_transport(transport)
    if limits is None:
        limits = _limits(pool_settings(chosen))
    if chosen == "aiohttp":
        try:
            from httpx_aiohttp import HttpxAiohttpClient
        except ImportError as exc:
            raise ConfigurationError(
                f"An httpx client over aiohttp needs the httpx-aiohttp package ({exc}); "
                f"install it with `{_INSTALL_HINT}`."
            ) from exc
        client: httpx.AsyncClient = HttpxAiohttpClient(timeout=timeout, limits=limits, **kwargs)
        return client
    import httpx

    return httpx.AsyncClient(timeout=timeout, limits=limits, **kwargs)


def _limits(pool: PoolSettings) -> httpx.Limits:
    """``pool`` as httpx's limits (importing httpx: only an httpx client needs them)."""
    import httpx

    return httpx.Limits(
        max_connections=pool.max_connections,
        max_keepalive_connections=pool.max_keepalive,
        keepalive_expiry=pool.keepalive_expiry,
    )
