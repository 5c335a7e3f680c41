"""The HTTP plumbing every httpx-based provider shares, so no provider repeats it.

:class:`HTTPProviderClient` owns or borrows an ``httpx.AsyncClient``, sends JSON, maps every
failure to :mod:`aether.errors` exactly once, and streams server-sent events while making
sure the connection goes back to the pool on every exit path: normal end, error, a consumer
that stops early (``aclose``), and task cancellation. With the aiohttp transport, a client it
creates itself sends through aiohttp directly (see :mod:`aether.http._aiohttp`).
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from aether.errors import ConfigurationError, ProviderError
from aether.http._errors import (
    _redact,
    error_from_payload,
    error_from_response,
    map_transport_errors,
    parse_retry_after,
    request_id_from,
    stream_interrupted,
    transport_failure,
)
from aether.http._sse import DEFAULT_MAX_EVENT_BYTES, ServerSentEvent, SSEDecoder
from aether.http._transport import (
    HTTPTransport,
    create_http_client,
    default_timeout,
    resolve_transport,
)

if TYPE_CHECKING:
    import httpx

    from aether.http._aiohttp import AiohttpWire

__all__ = ["HTTPProviderClient", "RetryAfterFromBody"]

RetryAfterFromBody = Callable[[Any], "float | None"]
"""Hook reading a retry delay from a parsed error body (Gemini's ``RetryInfo.retryDelay``)."""

_JSON_HEADERS = {"content-type": "application/json", "accept": "application/json"}
_SSE_HEADERS = {"content-type": "application/json", "accept": "text/event-stream"}


def _dumps(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _httpx_timeout(timeout: float | httpx.Timeout | None) -> httpx.Timeout:
    """A created client's timeout as an ``httpx.Timeout`` (None: the default)."""
    import httpx  # here, not at the top: the aiohttp path never needs it

    if timeout is None:
        return default_timeout()
    return timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)


class HTTPProviderClient:
    """JSON-over-HTTP and SSE transport for one provider, with errors mapped at the boundary.

    Args:
        provider: The provider's registered name, put on every error.
        base_url: Prefix of every path, e.g. ``"https://api.openai.com/v1"``.
        headers: Sent with every request (authentication included). Never shown by ``repr``
            nor copied into errors.
        http_client: A client to borrow (its transport, proxies, limits and hooks are used);
            it is never closed by this object. None: one is created on first use and closed
            by :meth:`aclose`.
        timeout: Per-request timeout. None: :data:`DEFAULT_TIMEOUT` for a created client, the
            borrowed client's own setting otherwise. ``httpx.Timeout(None)`` disables it.
        secrets: Strings masked if a server echoes them in an error message (the API key).
        retry_after_from_body: Reads a retry delay from a parsed error body when the headers
            give none.
        max_event_bytes: Cap on one server-sent event, see :class:`~aether.http.SSEDecoder`.
        transport: For a created client: ``"httpx"`` or ``"aiohttp"``; None: the
            ``AETHER_HTTP_TRANSPORT`` environment variable, else httpx. See
            :func:`~aether.http.create_http_client`.

    Raises:
        ConfigurationError: Both ``http_client`` and ``transport`` were given, or the
            transport is unknown or not installed.
    """

    __slots__ = (
        "_base_url",
        "_borrowed",
        "_client",
        "_headers",
        "_json_headers",
        "_max_event_bytes",
        "_retry_after_from_body",
        "_secrets",
        "_sse_headers",
        "_timeout",
        "_timeout_setting",
        "_transport",
        "_urls",
        "_wire",
        "provider",
    )

    def __init__(
        self,
        *,
        provider: str,
        base_url: str,
        headers: Mapping[str, str] | None = None,
        http_client: httpx.AsyncClient | None = None,
        timeout: float | httpx.Timeout | None = None,
        secrets: Iterable[str] = (),
        retry_after_from_body: RetryAfterFromBody | None = None,
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
        transport: str | None = None,
    ) -> None:
        if http_client is not None and transport is not None:
            raise ConfigurationError(
                f"Pass either http_client or transport={transport!r} to the {provider!r} "
                f"provider, not both: a client you bring already has its transport."
            )
        # Resolved now so a bad AETHER_HTTP_TRANSPORT fails at construction, not mid-job.
        self._transport: HTTPTransport | None = (
            resolve_transport(transport) if http_client is None else None
        )
        self.provider = provider
        self._base_url = base_url.rstrip("/")
        self._headers = dict(headers or {})
        self._borrowed = http_client
        self._client: httpx.AsyncClient | None = http_client
        self._wire: AiohttpWire | None = None
        self._timeout_setting = timeout  # as given: the aiohttp wire reads it without httpx
        # What httpx is given per request, set with the client it goes with: here for a
        # borrowed one, in _get_client for an owned one. The aiohttp wire needs neither, so
        # that path never imports httpx.
        self._timeout: httpx.Timeout | httpx._client.UseClientDefault
        if http_client is not None:
            import httpx  # already loaded: the caller built the client with it

            self._timeout = httpx.USE_CLIENT_DEFAULT if timeout is None else _httpx_timeout(timeout)
        self._secrets = tuple(s for s in secrets if s)
        self._retry_after_from_body = retry_after_from_body
        self._max_event_bytes = max_event_bytes
        # Parsed once per path: httpx re-parses a str URL on every request (~5% of its cost).
        self._urls: dict[str, httpx.URL] = {}
        # Merged once here so no request pays for it.
        self._json_headers = {**_JSON_HEADERS, **self._headers}
        self._sse_headers = {**_SSE_HEADERS, **self._headers}

    def __repr__(self) -> str:
        owner = "borrowed" if self._borrowed is not None else f"owned, transport={self._transport}"
        return (
            f"{type(self).__name__}(provider={self.provider!r}, base_url={self._base_url!r}, "
            f"client={owner})"
        )

    @property
    def base_url(self) -> str:
        """The prefix every path is appended to."""
        return self._base_url

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` (which may carry a query string)."""
        return f"{self._base_url}/{path.lstrip('/')}"

    def _url(self, path: str) -> httpx.URL:
        url = self._urls.get(path)
        if url is None:
            import httpx  # only the httpx path sends to a parsed URL

            if len(self._urls) >= 256:  # paths carry model names: bound the cache
                self._urls.clear()
            url = self._urls[path] = httpx.URL(self.url(path))
        return url

    def _get_client(self) -> httpx.AsyncClient:
        client = self._client
        if client is None:
            # Created lazily: building an SSL context costs milliseconds at import-free start.
            timeout = self._timeout = _httpx_timeout(self._timeout_setting)
            client = self._client = create_http_client(transport=self._transport, timeout=timeout)
        return client

    def _get_wire(self) -> AiohttpWire | None:
        """The direct aiohttp sender when this object owns its client and chose aiohttp."""
        wire = self._wire
        if wire is None and self._transport == "aiohttp":
            from aether.http._aiohttp import AiohttpWire  # only this transport needs aiohttp

            wire = self._wire = AiohttpWire(
                provider=self.provider, timeout=self._timeout_setting, secrets=self._secrets
            )
        return wire

    async def aclose(self) -> None:
        """Close the client if this object created it; a borrowed client is left open."""
        wire, self._wire = self._wire, None
        if wire is not None:
            await wire.aclose()
        client = self._client
        if client is not None and self._borrowed is None:
            self._client = None
            await client.aclose()

    async def __aenter__(self) -> HTTPProviderClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def error_for(self, status_code: int, headers: Mapping[str, str], body: bytes) -> ProviderError:
        """The typed error for a non-2xx answer whose ``body`` was read in full."""
        retry_after = parse_retry_after(headers)
        if retry_after is None and self._retry_after_from_body is not None:
            try:
                parsed: Any = json.loads(body) if body.strip() else None
            except ValueError:
                parsed = None
            retry_after = self._retry_after_from_body(parsed)
        return error_from_response(
            provider=self.provider,
            status_code=status_code,
            headers=headers,
            body=body,
            retry_after=retry_after,
            secrets=self._secrets,
        )

    async def post_json(self, path: str, payload: Any) -> Any:
        """POST ``payload`` as JSON and return the decoded JSON answer.

        Raises:
            ProviderError: The typed subclass for the status; ProviderTimeoutError or
                ProviderConnectionError for transport failures; ProviderError when a 2xx
                body is not JSON.
        """
        wire = self._get_wire()
        status: int
        headers: Mapping[str, str]
        if wire is not None:
            status, headers, body = await wire.post(
                self.url(path), _dumps(payload), self._json_headers
            )
        else:
            client = self._get_client()
            with map_transport_errors(self.provider, secrets=self._secrets):
                response = await client.post(
                    self._url(path),
                    content=_dumps(payload),
                    headers=self._json_headers,
                    timeout=self._timeout,
                )
            status, headers, body = response.status_code, response.headers, response.content
        if not 200 <= status < 300:
            raise self.error_for(status, headers, body)
        try:
            return json.loads(body)
        except ValueError as exc:
            raise ProviderError(
                f"The server answered HTTP {status} with a body that is not "
                f"JSON ({body[:200]!r}); check that the base URL points at the API.",
                provider=self.provider,
                status_code=status,
            ) from exc

    async def _check_event_stream(
        self, status: int, headers: Mapping[str, str], read: Callable[[], Awaitable[bytes]]
    ) -> None:
        """Raise the typed error unless the answer is a 2xx event stream (body read first)."""
        if not 200 <= status < 300:
            raise self.error_for(status, headers, await read())
        if headers.get("content-type", "").startswith("application/json"):
            body = await read()
            try:
                parsed: Any = json.loads(body)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict) and "error" in parsed:
                # An error reported in-band under a 2xx: typed by what the error says.
                error = error_from_payload(
                    provider=self.provider, payload=parsed, secrets=self._secrets
                )
                error.request_id = error.request_id or request_id_from(headers)
                raise error
            start = _redact(body[:200].decode("utf-8", "replace"), self._secrets)
            raise ProviderError(
                f"Expected an event stream (text/event-stream) but the server answered "
                f"HTTP {status} with a JSON body ({start!r}); check that the base URL points "
                f"at the API and that it streams.",
                provider=self.provider,
                status_code=status,
                request_id=request_id_from(headers),
            )

    async def stream_sse(self, path: str, payload: Any) -> AsyncGenerator[ServerSentEvent, None]:
        """POST ``payload`` as JSON and yield the server-sent events of the answer.

        The response is always closed when the generator ends, is closed early by its
        consumer, or is cancelled. Wrap it in ``contextlib.aclosing`` when you may stop early,
        so the connection is released at once rather than when the generator is collected.

        Raises:
            ProviderError: The typed subclass for a non-2xx status (body read first), or when
                the server answered with JSON instead of an event stream.
            StreamInterruptedError: The connection broke after the response started.
        """
        wire = self._get_wire()
        if wire is not None:
            async with wire.stream(self.url(path), _dumps(payload), self._sse_headers) as answer:
                await self._check_event_stream(answer.status_code, answer.headers, answer.aread)
                decoder = SSEDecoder(max_event_bytes=self._max_event_bytes, provider=self.provider)
                feed = decoder.feed
                async for chunk in answer.chunks():
                    for event in feed(chunk):
                        yield event
                for event in decoder.flush():
                    yield event
            return
        client = self._get_client()
        request = client.build_request(
            "POST",
            self._url(path),
            content=_dumps(payload),
            headers=self._sse_headers,
            timeout=self._timeout,
        )
        with map_transport_errors(self.provider, secrets=self._secrets):
            response = await client.send(request, stream=True)
        try:

            async def read_body() -> bytes:
                with map_transport_errors(self.provider, secrets=self._secrets):
                    return await response.aread()

            await self._check_event_stream(response.status_code, response.headers, read_body)
            # Decoded inline rather than through aiter_sse: one generator fewer per event.
            # aiter_raw skips httpx's identity decoder and re-chunker when nothing is encoded.
            decoder = SSEDecoder(max_event_bytes=self._max_event_bytes, provider=self.provider)
            feed = decoder.feed
            raw = (
                not response.is_stream_consumed  # a body already read (mocks) must be replayed
                and response.headers.get("content-encoding", "identity") == "identity"
            )
            chunks = response.aiter_raw() if raw else response.aiter_bytes()
            async for chunk in chunks:
                for event in feed(chunk):
                    yield event
            for event in decoder.flush():
                yield event
        except Exception as exc:
            failure = transport_failure(exc)
            if failure is None:
                raise
            raise stream_interrupted(
                self.provider, exc, failure, status_code=response.status_code,
                secrets=self._secrets,
            ) from exc  # fmt: skip
        finally:
            await response.aclose()
