"""The HTTP plumbing every httpx-based provider shares, so no provider repeats it.

:class:`HTTPProviderClient` owns or borrows an ``httpx.AsyncClient``, sends JSON, maps every
failure to :mod:`aether.errors` exactly once, and streams server-sent events while making
sure the connection goes back to the pool on every exit path: normal end, error, a consumer
that stops early (``aclose``), and task cancellation. With the aiohttp transport, a client it
creates itself sends through aiohttp directly (see :mod:`aether.http._aiohttp`); both are read
by the same code, so they fail the same way.

An error a server reports *inside* a 2xx exchange is recognised here as well, so no provider
repeats it: in a JSON body answering a call or a stream request, and in a stream's events
(:meth:`HTTPProviderClient.decode_event`). Each becomes the typed error its own code, status
or type names (:func:`~aether.http.error_from_payload`), with the provider's
``retry_after_from_body`` hook applied.

So is a 2xx answer that is not the API's at all (a web page where JSON or events were asked
for, another service's JSON): an :class:`~aether.errors.UnexpectedResponseError` saying to
check the base URL, the same for a call and a stream, never retried. JSON too large or too
deeply nested to parse safely is refused the same way (a whole body) or as a broken stream
(an event), within limits set per client (``max_json_depth``, ``max_body_bytes``,
``max_event_bytes``).

Everything of an answer that a message quotes goes through
:func:`~aether.http.quote_wire`, so the key (and any credential a header carries) never shows
in any form a server may echo it in; headers that no HTTP request can carry are refused when
the client is built.
"""

from __future__ import annotations

from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Mapping,
)
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Protocol

from aether.config import env_int, is_secret_name
from aether.errors import (
    ConfigurationError,
    ProviderError,
    StreamInterruptedError,
    UnexpectedResponseError,
)
from aether.http._body import dumps as _dumps
from aether.http._errors import (
    _shown_id,
    error_from_payload,
    error_from_response,
    map_stream_errors,
    map_transport_errors,
    parse_retry_after,
    request_id_from,
)
from aether.http._json import DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_JSON_DEPTH, JSONLimitError
from aether.http._json import loads as json_loads
from aether.http._quoting import exchange_secrets, mask_wire_logs, quote_wire, scrub_exception
from aether.http._settings import header_problem, shown_url
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

__all__ = ["HTTPProviderClient", "RetryAfterFromBody", "answer_arrived"]

RetryAfterFromBody = Callable[[Any], "float | None"]
"""Hook reading a retry delay from a parsed error body (Gemini's ``RetryInfo.retryDelay``)."""

_JSON_HEADERS = {"content-type": "application/json", "accept": "application/json"}
_SSE_HEADERS = {"content-type": "application/json", "accept": "text/event-stream"}
_START = 200  # characters of an unexpected body quoted in an error
# Bytes of a stream's start kept to quote it: past _START, so a secret straddling the cut is
# still whole when it is masked.
_KEPT = 4096
_TOKEN = "!#$%&'*+-.^_`|~"  # what a header name may hold beside letters and digits
_MAX_JSON_DEPTH_ENV = "AETHER_HTTP_MAX_JSON_DEPTH"
_MAX_BODY_BYTES_ENV = "AETHER_HTTP_MAX_BODY_BYTES"

# The status an in-band error that names no kind is classified by. A stream that cannot
# start or go on is a server failure (retryable); a whole 2xx body holding an error says
# nothing of the sort (Ollama's {"error": "model not found"}), so it stays a plain
# ProviderError.
_STREAM_DEFAULT_STATUS = 500
_BODY_DEFAULT_STATUS = None
_EVENT_STREAM = "an event stream (text/event-stream)"

# Whether the last exchange of the current context got the API's answer (a JSON body, or an
# event stream): what goes wrong after that is the answer's doing (see HTTPProviderBase).
_ANSWERED: ContextVar[bool] = ContextVar("aether_http_answered", default=False)


def answer_arrived() -> bool:
    """Whether the current context's last exchange was answered with JSON or events."""
    return _ANSWERED.get()


def _checked_headers(headers: Mapping[str, str], provider: str) -> dict[str, str]:
    """``headers`` with surrounding whitespace dropped from values, once each can be sent.

    Raises:
        ConfigurationError: A name that is not an HTTP token, or a value with a control or
            non-ASCII character; the header is named, its value never shown.
    """
    checked: dict[str, str] = {}
    for name, value in headers.items():
        if not name or not all(c.isascii() and (c.isalnum() or c in _TOKEN) for c in name):
            raise ConfigurationError(
                f"A header name given to the {provider!r} provider is not an HTTP token "
                f"({len(name)} characters: letters, digits and {_TOKEN} only)."
            )
        value = value.strip()
        problem = header_problem(value)
        if problem is not None:
            raise ConfigurationError(
                f"The {name!r} header given to the {provider!r} provider {problem}, which no "
                f"HTTP header can carry; fix the value (the API key, or extra_headers)."
            )
        checked[name] = value
    return checked


def _credentials(headers: Mapping[str, str]) -> list[str]:
    """The values of the headers that carry credentials (of ``Bearer <token>``, the token)."""
    found: list[str] = []
    for name, value in headers.items():
        if is_secret_name(name) and value:
            scheme, _, token = value.partition(" ")
            found.append(token.strip() if token.strip() and scheme.isalpha() else value)
    return found


def _content_type(headers: Mapping[str, str]) -> str:
    """The media type alone, lower-cased (``text/html; charset=utf-8`` gives ``text/html``)."""
    return headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _unwrapped(body: Any) -> Any:
    """Some Gemini front ends wrap a body in a one-element list: the body itself."""
    return body[0] if isinstance(body, list) and len(body) == 1 else body


def _names_an_error(value: dict[str, Any]) -> bool:
    """Whether a decoded object reports an error: a truthy ``error`` member (OpenAI and the
    servers that copy it, Gemini, Ollama) or ``"type": "error"`` (Anthropic, OpenAI's
    Responses API)."""
    return bool(value.get("error")) or value.get("type") == "error"


class _OpenStream(Protocol):
    """An answer held open for reading, as :meth:`HTTPProviderClient.stream_sse` reads it.

    Both transports give one (``_HttpxStream`` here, ``_StreamedResponse`` in
    :mod:`aether.http._aiohttp`); neither maps errors, so the reader maps them once for both.
    """

    status_code: int
    headers: Mapping[str, str]
    aread: Callable[[], Awaitable[bytes]]
    """Reads the whole body (of an answer that is not an event stream)."""

    def chunks(self) -> AsyncIterable[bytes]:
        """The body as it arrives."""
        ...


class _HttpxStream:
    """An open httpx answer, as an :class:`_OpenStream`."""

    __slots__ = ("_response", "aread", "headers", "status_code")

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self.status_code: int = response.status_code
        self.headers: Mapping[str, str] = response.headers
        self.aread: Callable[[], Awaitable[bytes]] = response.aread

    def chunks(self) -> AsyncIterable[bytes]:
        response = self._response
        # aiter_raw skips httpx's identity decoder and re-chunker when nothing is encoded.
        raw = (
            not response.is_stream_consumed  # a body already read (mocks) must be replayed
            and response.headers.get("content-encoding", "identity") == "identity"
        )
        return response.aiter_raw() if raw else response.aiter_bytes()


def _merged_headers(extra: Mapping[str, str], own: Mapping[str, str]) -> dict[str, str]:
    """``extra`` beside ``own``; a name both hold (in any case) keeps ``own``'s value."""
    taken = {name.lower() for name in own}
    return {**{k: v for k, v in extra.items() if k.lower() not in taken}, **own}


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
            The values of headers named like credentials (``authorization``, ``x-api-key``,
            ...) are masked too, given here or not.
        retry_after_from_body: Reads a retry delay from a parsed error body when the headers
            give none; applied to every error this object builds, in-band ones included.
        max_event_bytes: Cap on one server-sent event, see :class:`~aether.http.SSEDecoder`.
        max_json_depth: Deepest JSON nesting accepted in a body or an event; None:
            ``AETHER_HTTP_MAX_JSON_DEPTH``, else :data:`~aether.http.DEFAULT_MAX_JSON_DEPTH`
            (512). Deeper JSON is refused as a malformed answer, never parsed.
        max_body_bytes: Largest whole JSON body parsed; None: ``AETHER_HTTP_MAX_BODY_BYTES``,
            else :data:`~aether.http.DEFAULT_MAX_BODY_BYTES` (64 MiB).
        transport: For a created client: ``"httpx"`` or ``"aiohttp"``; None: the
            ``AETHER_HTTP_TRANSPORT`` environment variable, else httpx. See
            :func:`~aether.http.create_http_client`.
        answer_keys: The keys an answer of this API has, one at least (OpenAI's
            ``choices``). A 2xx JSON body with one is an answer, even when it also carries an
            ``error`` member; one that reports an error (a truthy ``error``, or ``"type":
            "error"``; alone or in a one-element list) is raised as the error it reports; any
            other is not this API's answer (:class:`~aether.errors.UnexpectedResponseError`).
            Empty: every 2xx JSON body that reports no error is an answer.
        not_an_event_stream_hint: What to advise when a stream request is answered with one
            JSON body instead of events (Gemini: the ``?alt=sse`` query was lost); None:
            check the base URL. Either way an ``UnexpectedResponseError``, never retried.

    Header values are stripped of surrounding whitespace (as HTTP itself ignores it).

    Raises:
        ConfigurationError: Both ``http_client`` and ``transport`` were given, the
            transport is unknown or not installed, or a header cannot be sent (a control or
            non-ASCII character in its value; the header is named, its value never shown).
    """

    __slots__ = (
        "_answer_keys",
        "_base_url",
        "_borrowed",
        "_client",
        "_headers",
        "_json_headers",
        "_max_body_bytes",
        "_max_event_bytes",
        "_max_json_depth",
        "_not_an_event_stream_hint",
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
        answer_keys: Iterable[str] = (),
        not_an_event_stream_hint: str | None = None,
        max_json_depth: int | None = None,
        max_body_bytes: int | None = None,
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
        self._headers = _checked_headers(headers or {}, provider)
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
        given = [secret for secret in secrets if secret]
        self._secrets = tuple(dict.fromkeys([*given, *_credentials(self._headers)]))
        if self._secrets:
            mask_wire_logs()
        self._retry_after_from_body = retry_after_from_body
        self._max_event_bytes = max_event_bytes
        self._max_json_depth = (
            env_int(_MAX_JSON_DEPTH_ENV, DEFAULT_MAX_JSON_DEPTH, minimum=1)
            if max_json_depth is None
            else max_json_depth
        )
        self._max_body_bytes = (
            env_int(_MAX_BODY_BYTES_ENV, DEFAULT_MAX_BODY_BYTES, minimum=1)
            if max_body_bytes is None
            else max_body_bytes
        )
        if self._max_json_depth < 1 or self._max_body_bytes < 1:
            raise ConfigurationError(
                f"max_json_depth={max_json_depth!r} and max_body_bytes={max_body_bytes!r} "
                f"must each be at least 1 (None: the default)."
            )
        self._answer_keys = tuple(answer_keys)
        self._not_an_event_stream_hint = not_an_event_stream_hint
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
                parsed: Any = json_loads(body, **self._limits()) if body.strip() else None
            except ValueError:  # not JSON, or over a limit
                parsed = None
            retry_after = self._retry_after_from_body(parsed)
        return error_from_response(
            provider=self.provider,
            status_code=status_code,
            headers=headers,
            body=body,
            retry_after=retry_after,
            secrets=self._secrets,
            max_json_depth=self._max_json_depth,
        )

    def _limits(self, *, event: bool = False) -> dict[str, int]:
        """The keywords of ``json_loads`` for a whole body, or for one event."""
        size = self._max_event_bytes if event else self._max_body_bytes
        return {"max_depth": self._max_json_depth, "max_bytes": size}

    def _in_band_error(
        self,
        payload: Any,
        *,
        default_status: int | None,
        headers: Mapping[str, str] | None = None,
    ) -> ProviderError:
        """The typed error for one reported inside a 2xx exchange, built the one way.

        Args:
            payload: The decoded error object, or an event's raw text.
            default_status: See ``_STREAM_DEFAULT_STATUS`` and ``_BODY_DEFAULT_STATUS``.
            headers: Those of the answer, when the error is its whole body.
        """
        parsed = payload
        if isinstance(payload, str):
            try:
                parsed = json_loads(payload, **self._limits(event=True))
            except ValueError:  # raw text, or over a limit: error_from_payload quotes it
                parsed = None
        # As for a failed status: a retry-after header wins over the body.
        retry_after = parse_retry_after(headers) if headers else None
        if retry_after is None and self._retry_after_from_body is not None:
            retry_after = self._retry_after_from_body(parsed)
        return error_from_payload(
            provider=self.provider,
            payload=payload if parsed is None else parsed,
            default_status=default_status,
            retry_after=retry_after,
            headers=headers,
            secrets=self._secrets,
            max_json_depth=self._max_json_depth,
        )

    def _error_body(self, body: Any) -> dict[str, Any] | None:
        """The error object a 2xx JSON body reports instead of an answer, else None."""
        body = _unwrapped(body)
        if not isinstance(body, dict) or not _names_an_error(body):
            return None
        if any(key in body for key in self._answer_keys):
            return None
        return body

    def _is_answer(self, body: Any) -> bool:
        """Whether a 2xx JSON body that reports no error has the shape of this API's answer."""
        if not self._answer_keys:
            return True
        body = _unwrapped(body)
        return isinstance(body, dict) and any(key in body for key in self._answer_keys)

    def _start(self, body: bytes | str) -> str:
        """The beginning of an unexpected body or event, safe to put in an error."""
        return quote_wire(body[:_KEPT], self._secrets, limit=_START)

    def _not_the_api(
        self,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
        *,
        found: str,
        expected: str,
        advice: str | None = None,
    ) -> UnexpectedResponseError:
        """The error for a 2xx answer that is not this API's, worded alike for every path.

        Args:
            found: What came, e.g. ``"a text/html page"``.
            expected: What was asked for, e.g. ``"the API's JSON"``.
            advice: What to do; None: check the base URL.
        """
        if advice is None:
            advice = (
                f"The base URL ({shown_url(self._base_url)}) most likely does not point at "
                f"the {self.provider} API: a web page, a proxy or another service answers "
                f"there. Check the base URL; asking again gets the same answer, so this is "
                f"not retried."
            )
        return UnexpectedResponseError(
            f"The server answered with {found} ({self._start(body)!r}) where {expected} "
            f"was expected. {advice}",
            provider=self.provider,
            status_code=status,
            request_id=_shown_id(request_id_from(headers), self._secrets),
        )

    def _found(self, headers: Mapping[str, str], what: str) -> str:
        """``"a text/html page"``, else ``"a body of type <type> <what>"``: see ``_not_the_api``."""
        media = _content_type(headers)
        if not media:
            return f"a body with no content type {what}"
        shown = quote_wire(media, self._secrets, limit=100)
        if media in ("text/html", "application/xhtml+xml"):
            return f"a {shown} page"
        return f"a body of type {shown} {what}"

    def _refused(
        self, status: int, headers: Mapping[str, str], error: JSONLimitError
    ) -> UnexpectedResponseError:
        """The error for a whole JSON body over a limit: refused, never parsed nor retried."""
        setting = "max_body_bytes" if error.setting == "max_bytes" else error.setting
        env = _MAX_BODY_BYTES_ENV if setting == "max_body_bytes" else _MAX_JSON_DEPTH_ENV
        return UnexpectedResponseError(
            f"The server's JSON answer {error.problem}, past the {setting} limit; no "
            f"{self.provider} answer comes close, so it was refused unread and is not "
            f"retried. Check that the base URL ({shown_url(self._base_url)}) points at the "
            f"API, or raise the limit ({setting}=..., or {env}).",
            provider=self.provider,
            status_code=status,
            request_id=_shown_id(request_id_from(headers), self._secrets),
        )

    def _extra_headers(
        self, extra: Mapping[str, str] | None, own: dict[str, str]
    ) -> dict[str, str]:
        """The headers of one call: ``extra`` checked, beside the client's own, which win."""
        if not extra:
            return own
        return _merged_headers(_checked_headers(extra, self.provider), own)

    async def post_json(
        self, path: str, payload: Any, *, headers: Mapping[str, str] | None = None
    ) -> Any:
        """POST ``payload`` as JSON and return the decoded JSON answer.

        ``headers`` are sent beside the client's own (a call's ``extra_headers``); the
        client's own win, so a call cannot replace the credentials.

        Raises:
            ProviderError: The typed subclass for the status, or for the error a 2xx body
                reports (see ``answer_keys``); ProviderTimeoutError or
                ProviderConnectionError for transport failures.
            UnexpectedResponseError: A 2xx body that is not JSON (a web page), or JSON that
                is not this API's answer (see ``answer_keys``).
        """
        exchange_secrets(self._secrets)  # what the provider quotes of the answer is masked
        _ANSWERED.set(False)
        wire = self._get_wire()
        status: int
        sent = self._extra_headers(headers, self._json_headers)
        if wire is not None:
            status, headers, body = await wire.post(self.url(path), _dumps(payload), sent)
        else:
            client = self._get_client()
            with map_transport_errors(self.provider, secrets=self._secrets):
                response = await client.post(
                    self._url(path),
                    content=_dumps(payload),
                    headers=sent,
                    timeout=self._timeout,
                )
            status, headers, body = response.status_code, response.headers, response.content
        if not 200 <= status < 300:
            raise self.error_for(status, headers, body)
        expected = "the API's JSON"
        try:
            data = json_loads(body, **self._limits())
        except JSONLimitError as exc:
            raise self._refused(status, headers, exc) from None
        except ValueError as exc:
            scrub_exception(exc, self._secrets)  # a JSONDecodeError holds the whole body
            found = self._found(headers, "that is not JSON")
            raise self._not_the_api(status, headers, body, found=found, expected=expected) from exc
        error = self._error_body(data)
        if error is not None:
            raise self._in_band_error(error, default_status=_BODY_DEFAULT_STATUS, headers=headers)
        if not self._is_answer(data):
            found = f"a JSON body that is not an answer of the {self.provider} API"
            raise self._not_the_api(status, headers, body, found=found, expected=expected)
        _ANSWERED.set(True)
        return data

    async def _check_event_stream(self, answer: _OpenStream) -> bool:
        """Raise the typed error unless the answer is a 2xx stream (the body read first).

        Returns whether the answer says it is an event stream. One that does not say so (no
        content type, ``text/plain``, a web page) is read as one, as some servers send
        events under another type; the reader refuses it if it holds no event at all.

        Reading the body of a refused answer can fail too (a server that closes early): that
        is the transport error it is, on both transports, as no event has reached anyone.
        """
        status, headers = answer.status_code, answer.headers
        success = 200 <= status < 300
        if success:
            media = _content_type(headers)
            if media == "text/event-stream":
                return True
            if media != "application/json":
                return False
        with map_transport_errors(self.provider, secrets=self._secrets):
            body = await answer.aread()
        if not success:
            raise self.error_for(status, headers, body)
        try:
            parsed: Any = json_loads(body, **self._limits())
        except ValueError:  # not JSON, or over a limit: refused as no event stream below
            parsed = None
        error = self._error_body(parsed)
        if error is not None:
            raise self._in_band_error(error, default_status=_STREAM_DEFAULT_STATUS, headers=headers)
        raise self._not_the_api(
            status,
            headers,
            body,
            found="a JSON body",
            expected=_EVENT_STREAM,
            advice=self._not_an_event_stream_hint,
        )

    @asynccontextmanager
    async def _httpx_stream(
        self, path: str, content: bytes, headers: Mapping[str, str]
    ) -> AsyncIterator[_HttpxStream]:
        """The httpx twin of ``AiohttpWire.stream``: sent, held open, always closed on exit."""
        client = self._get_client()
        # Built inside too: a borrowed client's own headers may fail to encode, and that
        # error holds their values.
        with map_transport_errors(self.provider, secrets=self._secrets):
            request = client.build_request(
                "POST",
                self._url(path),
                content=content,
                headers=headers,
                timeout=self._timeout,
            )
            response = await client.send(request, stream=True)
        try:
            yield _HttpxStream(response)
        finally:
            await response.aclose()

    async def stream_sse(
        self, path: str, payload: Any, *, headers: Mapping[str, str] | None = None
    ) -> AsyncGenerator[ServerSentEvent, None]:
        """POST ``payload`` as JSON and yield the server-sent events of the answer.

        ``headers`` are sent beside the client's own, which win (see :meth:`post_json`).

        The response is always closed when the generator ends, is closed early by its
        consumer, or is cancelled. Wrap it in ``contextlib.aclosing`` when you may stop early,
        so the connection is released at once rather than when the generator is collected.
        Read each event with :meth:`decode_event`.

        Raises:
            ProviderError: The typed subclass for a non-2xx status (body read first), or for
                the error a JSON body reports.
            UnexpectedResponseError: A 2xx answer that is not an event stream: JSON that
                reports no error, or a body holding no event at all (a web page).
            ProviderTimeoutError, ProviderConnectionError: Sending failed, or reading the
                body of a refused answer did.
            StreamInterruptedError: The connection broke after the event stream started.
        """
        exchange_secrets(self._secrets)  # what the provider quotes of the events is masked
        _ANSWERED.set(False)
        content = _dumps(payload)
        wire = self._get_wire()
        sent = self._extra_headers(headers, self._sse_headers)
        opened: AbstractAsyncContextManager[_OpenStream] = (
            wire.stream(self.url(path), content, sent)
            if wire is not None
            else self._httpx_stream(path, content, sent)
        )
        async with opened as answer:
            declared = await self._check_event_stream(answer)
            _ANSWERED.set(True)
            # Decoded inline rather than through aiter_sse: one generator fewer per event.
            decoder = SSEDecoder(max_event_bytes=self._max_event_bytes, provider=self.provider)
            feed = decoder.feed
            start: bytearray | None = None
            with map_stream_errors(
                self.provider, status_code=answer.status_code, secrets=self._secrets
            ):
                if declared:  # the common case, kept to the bare loop
                    async for chunk in answer.chunks():
                        for event in feed(chunk):
                            yield event
                else:
                    # The start is kept until an event proves this an event stream, to quote
                    # it should none come.
                    start = bytearray()
                    async for chunk in answer.chunks():
                        if start is not None and len(start) < _KEPT:
                            start += chunk[: _KEPT - len(start)]
                        for event in feed(chunk):
                            start = None
                            yield event
            last = decoder.flush()
            if start is not None and not last:
                found = self._found(answer.headers, "holding no server-sent event")
                raise self._not_the_api(
                    answer.status_code,
                    answer.headers,
                    bytes(start),
                    found=found,
                    expected=_EVENT_STREAM,
                )
            for event in last:
                yield event

    def decode_event(self, event: ServerSentEvent) -> dict[str, Any]:
        """The JSON object ``event`` carries, or the typed error it reports.

        The one way for a provider to read the events of :meth:`stream_sse`, so that none
        re-implements it:

        * ``event: error``, whatever its data, and an object reporting an error (a truthy
          ``error`` member, or ``"type": "error"``) raise the error they report, typed by
          its own code, status or type (a server failure when it names none), with
          ``retry_after_from_body`` applied;
        * data that is not JSON, JSON that is not an object, and JSON over the limits
          (``max_json_depth``, ``max_event_bytes``) raise
          :class:`~aether.errors.StreamInterruptedError`: the answer cannot be trusted;
        * blank data (a keep-alive) gives an empty object, which carries nothing.

        A provider sentinel that is not JSON (OpenAI's ``[DONE]``) is checked before.
        A ``StreamInterruptedError`` raised here carries ``chunks_received=0``: set the
        count on the way out of the provider's ``stream`` with
        :func:`~aether.http.set_chunks_received`.
        """
        data = event.data
        if event.event == "error":
            raise self._in_band_error(data, default_status=_STREAM_DEFAULT_STATUS)
        try:
            value = json_loads(
                data, max_depth=self._max_json_depth, max_bytes=self._max_event_bytes
            )
        except JSONLimitError as exc:
            setting = "max_event_bytes" if exc.setting == "max_bytes" else exc.setting
            raise self._bad_event(f"{exc.problem} (the {setting} limit)", data) from None
        except ValueError as exc:
            if not data or data.isspace():
                return {}
            scrub_exception(exc, self._secrets)  # a JSONDecodeError holds the whole event
            raise self._bad_event("is not JSON", data) from exc
        if not isinstance(value, dict):
            raise self._bad_event("is not a JSON object", data)
        if _names_an_error(value):
            raise self._in_band_error(value, default_status=_STREAM_DEFAULT_STATUS)
        return value

    def _bad_event(self, what: str, data: str) -> StreamInterruptedError:
        return StreamInterruptedError(
            f"The server sent a stream event that {what} ({self._start(data)!r}); the answer "
            f"is incomplete. Retry the call.",
            provider=self.provider,
        )
