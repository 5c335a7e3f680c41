"""aiohttp's connection pool and HTTP parser, driven directly for a provider's own requests.

Measured on ``bench/bench_http.py``, httpx's client layer (request and header models, cookie
extraction, auth and redirect machinery) costs about twice what aiohttp itself does per
request, even with aiohttp plugged in underneath it (``httpx-aiohttp``). A provider's calls
need none of that layer: one POST of bytes it already built, to a URL it already knows, with
headers merged once. So when :class:`~aether.http.HTTPProviderClient` creates its own client
with ``transport="aiohttp"`` it sends through this module instead; a client the caller brings
is always used as given.

aiohttp's failures go through the same mapping as httpx's (:func:`~aether.http.
map_transport_errors`, which knows both), and a stream is read by the same loop in
:class:`~aether.http.HTTPProviderClient` whichever library carries it (an open answer of
either offers the same small interface, ``_client._OpenStream``), so a provider cannot tell
the two paths apart.
This path never imports httpx (see :mod:`aether.http._transport` for what that saves): the
timeout is read from an httpx object only when the caller passed one.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import aiohttp

from aether.http._errors import map_transport_errors
from aether.http._transport import _CONNECT_TIMEOUT, _READ_TIMEOUT, pool_settings

if TYPE_CHECKING:
    import httpx

__all__ = ["AiohttpWire"]


def _client_timeout(timeout: float | httpx.Timeout | None) -> aiohttp.ClientTimeout:
    # httpx's pool timeout bounds the wait for a free connection, as aiohttp's connect does;
    # read is per socket read in both. There is no total: long generations are legitimate.
    pool: float | None
    connect: float | None
    read: float | None
    if timeout is None:  # aether.http.DEFAULT_TIMEOUT's values
        pool, connect, read = _READ_TIMEOUT, _CONNECT_TIMEOUT, _READ_TIMEOUT
    elif isinstance(timeout, (int, float)):  # as httpx.Timeout(seconds): the same for all
        pool = connect = read = timeout
    else:
        pool, connect, read = timeout.pool, timeout.connect, timeout.read
    return aiohttp.ClientTimeout(total=None, connect=pool, sock_connect=connect, sock_read=read)


class AiohttpWire:
    """One ``aiohttp.ClientSession`` with errors mapped to :mod:`aether.errors`.

    Created on first use inside the running event loop (aiohttp requires one).

    Args:
        provider: Put on every error.
        timeout: Connect, pool and read limits (httpx's write timeout has no aiohttp twin), or
            seconds for all of them; None: those of ``aether.http.DEFAULT_TIMEOUT``.
        secrets: Masked if they ever appear in an exception's text.
    """

    __slots__ = ("_provider", "_secrets", "_session", "_timeout")

    def __init__(
        self,
        *,
        provider: str,
        timeout: float | httpx.Timeout | None = None,
        secrets: Iterable[str] = (),
    ) -> None:
        self._provider = provider
        self._timeout = _client_timeout(timeout)
        self._secrets = tuple(secrets)
        self._session: aiohttp.ClientSession | None = None

    def _get_session(self) -> aiohttp.ClientSession:
        session = self._session
        if session is None or session.closed:
            # aiohttp's own connection limit and httpx's keep-alive expiry, unless the
            # environment says otherwise (see _transport.pool_settings).
            pool = pool_settings("aiohttp")
            connector = aiohttp.TCPConnector(
                limit=pool.max_connections, keepalive_timeout=pool.keepalive_expiry
            )
            session = self._session = aiohttp.ClientSession(
                connector=connector, timeout=self._timeout, cookie_jar=aiohttp.DummyCookieJar()
            )
        return session

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def post(
        self, url: str, content: bytes, headers: Mapping[str, str]
    ) -> tuple[int, Mapping[str, str], bytes]:
        """POST ``content`` and read the whole answer: status, headers, body."""
        with map_transport_errors(self._provider, secrets=self._secrets):
            async with self._get_session().post(url, data=content, headers=headers) as response:
                return response.status, response.headers, await response.read()

    @asynccontextmanager
    async def stream(
        self, url: str, content: bytes, headers: Mapping[str, str]
    ) -> AsyncIterator[_StreamedResponse]:
        """POST ``content`` and hold the answer open for reading; always released on exit.

        Only sending is mapped here; failures while reading the answer are mapped by the
        caller, the same way for both transports.
        """
        with map_transport_errors(self._provider, secrets=self._secrets):
            response = await self._get_session().post(url, data=content, headers=headers)
        try:
            yield _StreamedResponse(response)
        finally:
            response.release()


class _StreamedResponse:
    """An open aiohttp answer, as the SSE reader sees either transport's (``_OpenStream``).

    ``aread`` reads the whole body (to report a failure); ``chunks`` gives the body as it
    arrives. Neither maps errors: the reader does, once, for both transports.
    """

    __slots__ = ("_content", "aread", "headers", "status_code")

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.status_code: int = response.status
        self.headers: Mapping[str, str] = response.headers
        self.aread: Callable[[], Awaitable[bytes]] = response.read
        self._content = response.content

    def chunks(self) -> AsyncIterable[bytes]:
        # aiohttp's own iterator, not a generator around it: one layer fewer per chunk.
        return self._content.iter_any()
