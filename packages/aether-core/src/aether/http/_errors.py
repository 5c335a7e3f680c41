"""HTTP failures translated to :mod:`aether.errors` types, once, at the provider boundary.

``error_from_response`` picks the error class from the status (and, for context-window
overflows, from the provider's message), pulls the provider's own message out of the common
JSON error shapes, and attaches ``retry_after``, ``should_retry`` and the request id from the
response headers. ``error_from_payload`` classifies an error a server reported in-band (a
``{"error": ...}`` stream event, or a 2xx body) by the error's own code, status or type.
``map_transport_errors`` does the same for httpx's and aiohttp's transport exceptions, and
``map_stream_errors`` for those that break an event stream already started. None of them
ever looks at request headers, and every piece of the answer or of an exception they quote
goes through :func:`~aether.http.quote_wire`, so an API key the server echoes is masked;
an exception they chain is scrubbed of the key and of the request headers first
(:func:`~aether.http.scrub_exception`).

httpx is never imported here, so the aiohttp transport does not load it for nothing: an
exception or a headers object can only be httpx's once something else imported httpx.
"""

from __future__ import annotations

import math
import re
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from email.utils import parsedate_to_datetime
from typing import Any

from aether.errors import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ContextLengthError,
    NotFoundError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    ServerError,
    StreamInterruptedError,
)
from aether.http._json import DEFAULT_MAX_JSON_DEPTH
from aether.http._json import loads as json_loads
from aether.http._quoting import quote_wire, scrub_exception

__all__ = [
    "error_from_payload",
    "error_from_response",
    "map_transport_errors",
    "parse_retry_after",
    "parse_should_retry",
    "request_id_from",
    "set_chunks_received",
]

_MAX_BODY_CHARS = 500  # of a body, an event or an exception's text quoted in a message
_MAX_MESSAGE_CHARS = 4000  # of the provider's own words: whole, bar a hostile flood
_MAX_LABEL_CHARS = 100  # of an error's type, code or status
_MAX_ID_CHARS = 128  # of a request id
_TRUNCATED = "... (truncated)"
_REQUEST_ID_HEADERS = (
    "x-request-id",
    "request-id",
    "x-goog-request-id",
    "x-amzn-requestid",
    "x-ms-request-id",
    "cf-ray",
)
_CONTEXT_CODES = frozenset({"context_length_exceeded", "string_above_max_length"})
_CONTEXT_PATTERN = re.compile(
    r"context[ _]length|context (window|size)|maximum context|prompt is too long"
    r"|exceeds? (the )?context limit"
    r"|exceeds the maximum number of tokens|input token count .* exceeds"
    r"|reduce the length of the messages",
    re.IGNORECASE,
)
# Quota exhaustion is reported as a 429 but waiting does not fix it.
_NO_RETRY_CODES = frozenset({"insufficient_quota", "billing_hard_limit_reached"})

_HINTS: dict[type[ProviderError], str] = {
    AuthenticationError: "Check the API key and that it has access to this model.",
    NotFoundError: "Check the model name and the base URL.",
    ConflictError: "A concurrent operation conflicted; retrying is safe.",
    ContextLengthError: "Shorten the conversation or lower max_tokens.",
    RateLimitError: "Slow down, or check the account's rate limits and quota.",
    BadRequestError: "The request was rejected as invalid; fix the parameters named above.",
    ServerError: "The provider failed; this is usually transient, retry later.",
    ProviderTimeoutError: "The server timed out the request; retry, or raise the timeout.",
    ProviderError: "The provider answered with an unexpected status.",
}
# In place of the last one when the error came inside a 2xx exchange.
_IN_BAND_HINT = (
    "The server reported this error inside a successful response without naming its kind; "
    "check the request and the server's logs."
)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    httpx = sys.modules.get("httpx")
    if value is None and not (httpx is not None and isinstance(headers, httpx.Headers)):
        # A plain dict may carry any casing; httpx.Headers is already case-insensitive.
        for key, candidate in headers.items():
            if key.lower() == name:
                return candidate
    return value


def _finite_seconds(raw: str, scale: float) -> float | None:
    try:
        value = float(raw) * scale
    except ValueError:
        return None
    if math.isnan(value) or math.isinf(value) or value < 0:
        return None
    return value


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds the server asked us to wait, or None when it did not say (usably).

    Reads ``retry-after-ms`` first (OpenAI, Anthropic), then ``retry-after`` as seconds or as
    an HTTP-date (a date in the past gives ``0.0``). Empty, negative, infinite, NaN and
    unparsable values give None. Huge values are returned as they are: capping them is the
    retry layer's decision.
    """
    raw_ms = _header(headers, "retry-after-ms")
    if raw_ms is not None and raw_ms.strip():
        value = _finite_seconds(raw_ms.strip(), 0.001)
        if value is not None:
            return value
    raw = _header(headers, "retry-after")
    if raw is None or not raw.strip():
        return None
    raw = raw.strip()
    value = _finite_seconds(raw, 1.0)
    if value is not None:
        return value
    try:
        moment = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:  # pragma: no cover - RFC dates always carry a zone
        return None
    return max(0.0, moment.timestamp() - time.time())


def parse_should_retry(headers: Mapping[str, str]) -> bool | None:
    """The server's explicit verdict from ``x-should-retry: true|false``, else None."""
    raw = _header(headers, "x-should-retry")
    if raw is None:
        return None
    raw = raw.strip().lower()
    if raw == "true":
        return True
    if raw == "false":
        return False
    return None


def request_id_from(headers: Mapping[str, str]) -> str | None:
    """The provider's request id (``x-request-id``, ``request-id``, ...), for support tickets."""
    for name in _REQUEST_ID_HEADERS:
        value = _header(headers, name)
        if value:
            return value.strip()
    return None


def _decode(body: bytes | str) -> str:
    return body.decode("utf-8", "replace") if isinstance(body, bytes) else body


def _error_object(payload: Any) -> dict[str, Any] | None:
    """The dict holding the message among the shapes providers use, else None."""
    if isinstance(payload, list) and len(payload) >= 1:
        payload = payload[0]  # Gemini wraps its error in a one-element list.
    if not isinstance(payload, dict):
        return None
    inner = payload.get("error")
    if isinstance(inner, dict):
        return inner
    if isinstance(inner, str):
        return {"message": inner}  # Ollama, llama.cpp: {"error": "model not found"}
    if isinstance(payload.get("message"), str):
        return payload
    if isinstance(payload.get("detail"), str):
        return {"message": payload["detail"]}  # FastAPI-based servers
    return None


def _body_request_id(*candidates: Any) -> str | None:
    """Anthropic repeats the request id in the body, beside or inside the error object."""
    for candidate in candidates:
        if isinstance(candidate, dict):
            value = candidate.get("request_id")
            if isinstance(value, str) and value:
                return value
    return None


def _summary(value: object, secrets: Iterable[str]) -> str:
    """The start of a body (or any value from the wire) on one line, secrets masked."""
    return quote_wire(value, secrets, limit=_MAX_BODY_CHARS, collapse=True, marker=_TRUNCATED)


def _classify(status: int, message: str, code: str | None) -> type[ProviderError]:
    if code in _CONTEXT_CODES or (status in (400, 413, 422) and _CONTEXT_PATTERN.search(message)):
        return ContextLengthError
    if status in (401, 403):
        return AuthenticationError
    if status == 404:
        return NotFoundError
    if status == 408:
        return ProviderTimeoutError
    if status == 409:
        return ConflictError
    if status == 413:
        return ContextLengthError
    if status in (429, 529):
        return RateLimitError
    if 400 <= status < 500:
        return BadRequestError
    if status >= 500:
        return ServerError
    return ProviderError


def error_from_response(
    *,
    provider: str,
    status_code: int,
    headers: Mapping[str, str],
    body: bytes | str,
    message: str | None = None,
    retry_after: float | None = None,
    secrets: Iterable[str] = (),
    max_json_depth: int = DEFAULT_MAX_JSON_DEPTH,
) -> ProviderError:
    """Build (not raise) the typed error for a failed HTTP response.

    Args:
        provider: The provider's registered name, e.g. ``"openai"``.
        status_code: The HTTP status.
        headers: The *response* headers.
        body: The response body, read in full.
        message: Overrides the message extracted from the body.
        retry_after: Overrides ``retry-after`` from the headers (e.g. Gemini's ``retryDelay``
            from the body).
        secrets: Strings to mask in the message if the provider echoed them (the API key).
        max_json_depth: A body nested deeper is quoted as text, not read as JSON.

    Returns:
        The most specific :class:`~aether.errors.ProviderError` subclass, with ``status_code``,
        ``retry_after``, ``should_retry`` and ``request_id`` set.
    """
    text = _decode(body)
    parsed: Any = None
    try:
        parsed = json_loads(text, max_depth=max_json_depth) if text.strip() else None
    except ValueError:  # not JSON, or nested too deep: quoted as text
        parsed = None
    return _build(
        provider=provider,
        classify_as=status_code,
        status_code=status_code,
        detail=_error_object(parsed),
        parsed=parsed,
        text=text,
        headers=headers,
        message=message,
        retry_after=retry_after,
        in_band=False,
        secrets=secrets,
    )


def _build(
    *,
    provider: str,
    classify_as: int,
    status_code: int | None,
    detail: Mapping[str, Any] | None,
    parsed: Any,
    text: object,
    headers: Mapping[str, str],
    message: str | None,
    retry_after: float | None,
    in_band: bool,
    secrets: Iterable[str],
) -> ProviderError:
    """The one place an error is put together, for a failed status and an in-band error alike.

    Args:
        classify_as: The status the class is picked by.
        status_code: The status put on the error (None: the exchange itself succeeded).
        detail: The error object holding the message, if the body had one.
        parsed: The whole decoded body, for a request id beside the error object.
        text: The body (as text, or the object to show as JSON), summarised when no message
            could be found; None or blank text: there was none.
        message: Overrides the message found in ``detail``.
        in_band: The error came inside a 2xx exchange: a class that says nothing more than
            "a provider error" gets a hint saying so, not one about an unexpected status.
    """
    code: str | None = None
    labels: list[str] = []
    provider_message: str | None = None
    if detail is not None:
        raw_message = detail.get("message")
        provider_message = raw_message if isinstance(raw_message, str) else None
        for key in ("type", "code", "status"):
            value = detail.get(key)
            if isinstance(value, (str, int)) and not isinstance(value, bool) and value != "":
                shown = quote_wire(value, secrets, limit=_MAX_LABEL_CHARS, marker="...")
                labels.append(f"{key}: {shown}")
                if key == "code" and isinstance(value, str):
                    code = value
    # Classified by the provider's words as they came, shown masked.
    said = message if message is not None else provider_message
    if message is not None:
        message = _words(message, secrets)
    elif provider_message:
        message = _words(provider_message, secrets)
    elif text is None or (isinstance(text, str) and not text.strip()):
        message = "The response body was empty."
    else:
        message = f"Unexpected error body: {_summary(text, secrets)}"
    cls = _classify(classify_as, said or message, code)
    should_retry = parse_should_retry(headers)
    if should_retry is None and code in _NO_RETRY_CODES:
        should_retry = False
    request_id = _shown_id(request_id_from(headers) or _body_request_id(detail, parsed), secrets)
    if retry_after is None:
        retry_after = parse_retry_after(headers)
    label = f" ({', '.join(labels)})" if labels else ""
    hint = _IN_BAND_HINT if in_band and cls is ProviderError else _HINTS[cls]
    # The provider's words first, verbatim (a message that ends its own sentence gets no
    # second full stop), then the labels, then Aether's hint.
    stop = "" if label or message.rstrip().endswith((".", "!", "?")) else "."
    return cls(
        f"{message.rstrip()}{stop}{label}{'.' if label else ''} {hint}",
        provider=provider,
        status_code=status_code,
        retry_after=retry_after,
        should_retry=should_retry,
        request_id=request_id,
        provider_message=_words(provider_message, secrets) if provider_message else None,
    )


def _words(text: str, secrets: Iterable[str]) -> str:
    """The provider's own message, masked."""
    return quote_wire(text, secrets, limit=_MAX_MESSAGE_CHARS, marker=_TRUNCATED)


def _shown_id(request_id: str | None, secrets: Iterable[str]) -> str | None:
    """A request id read from the answer, as an error carries and shows it."""
    if request_id is None:
        return None
    return quote_wire(request_id, secrets, limit=_MAX_ID_CHARS, collapse=True, marker="...")


# An in-band error names its kind instead of an HTTP status: gRPC status names (Gemini) and
# the ``type``/``code`` strings of OpenAI, Anthropic and the servers that copy them.
_IN_BAND_STATUS: dict[str, int] = {
    "INVALID_ARGUMENT": 400,
    "FAILED_PRECONDITION": 400,
    "OUT_OF_RANGE": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "ABORTED": 409,
    "ALREADY_EXISTS": 409,
    "RESOURCE_EXHAUSTED": 429,
    "INTERNAL": 500,
    "UNKNOWN": 500,
    "DATA_LOSS": 500,
    "UNIMPLEMENTED": 501,
    "UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
    "invalid_request_error": 400,
    "context_length_exceeded": 400,
    "authentication_error": 401,
    "invalid_api_key": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "model_not_found": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "rate_limit_exceeded": 429,
    "insufficient_quota": 429,
    "tokens": 429,
    "requests": 429,
    "server_error": 500,
    "api_error": 500,
    "internal_error": 500,
    "service_unavailable": 503,
    "overloaded_error": 529,
    "timeout": 408,
    "timeout_error": 504,
}


def _in_band_status(detail: Mapping[str, Any]) -> int | None:
    """The HTTP status an in-band error object stands for, if it names one."""
    code = detail.get("code")
    if isinstance(code, str) and code.isdigit():
        code = int(code)
    if isinstance(code, int) and not isinstance(code, bool) and 400 <= code <= 599:
        return code
    for key in ("status", "code", "type"):
        value = detail.get(key)
        if isinstance(value, str) and value in _IN_BAND_STATUS:
            return _IN_BAND_STATUS[value]
    return None


def error_from_payload(
    *,
    provider: str,
    payload: Any,
    default_status: int | None = 500,
    retry_after: float | None = None,
    headers: Mapping[str, str] | None = None,
    secrets: Iterable[str] = (),
    max_json_depth: int = DEFAULT_MAX_JSON_DEPTH,
) -> ProviderError:
    """Build (not raise) the typed error for an error the server reported in-band.

    A stream's ``{"error": {...}}`` event, an ``event: error`` event, or a 2xx body holding
    an error object arrives under HTTP 200, so the status says nothing. The class comes from
    the error object instead: a numeric ``code`` (``{"code": 503}``), then a gRPC ``status``
    (``"UNAVAILABLE"``) or a ``type``/``code`` name (``"server_error"``, ``"rate_limit_error"``).
    A rate limit thus stays retryable as :class:`~aether.errors.RateLimitError` and a server
    failure as :class:`~aether.errors.ServerError`.

    Args:
        provider: The provider's registered name.
        payload: The decoded event or body, or its raw text when it was not JSON.
        default_status: The status to classify by when the object names none (500: the
            server failed to produce an answer); None: a plain
            :class:`~aether.errors.ProviderError`.
        retry_after: A delay the provider read from the payload (Gemini's ``retryDelay``);
            None: the ``retry-after`` of ``headers``, if any.
        headers: The headers of the response that carried the error, when there is one:
            its request id, ``retry-after`` and ``x-should-retry`` are read as for a failed
            status.
        secrets: Strings to mask in the message.
        max_json_depth: Raw text nested deeper is quoted as text, not read as JSON.

    Returns:
        The typed error. ``status_code`` is the numeric code the server put in the error, or
        None when it gave none (the HTTP status of the exchange was a success).
    """
    if isinstance(payload, (str, bytes)):
        text = _decode(payload).strip()
        try:
            parsed: Any = json_loads(text, max_depth=max_json_depth)
        except ValueError:  # not JSON, or nested too deep: the text is the message
            parsed = {"message": text or "The server sent an empty error event."}
    else:
        parsed = payload
    detail = _error_object(parsed)
    if detail is None:
        detail = {"message": f"Unexpected error payload: {_summary(parsed, secrets)}"}
    status = _in_band_status(detail)
    reported = detail.get("code")
    if isinstance(reported, str) and reported.isdigit():
        reported = int(reported)
    message = detail.get("message")
    # What is summarised as the message when the object has none of its own.
    unexplained = not (isinstance(message, str) and message)
    body = {"error": detail} if unexplained else None
    return _build(
        provider=provider,
        classify_as=status or default_status or 200,  # 200 classifies as ProviderError
        # Only a code the server put in the error: the exchange itself was a success.
        status_code=reported if isinstance(reported, int) and status == reported else None,
        detail=detail,
        parsed=parsed,
        text=body,
        headers=headers or {},
        message=None,
        retry_after=retry_after,
        in_band=True,
        secrets=secrets,
    )


def transport_failure(exc: BaseException) -> str | None:
    """``"timeout"``, ``"connection"`` or ``"local"`` for a transport failure, else None.

    Knows httpx's transport errors, and aiohttp's too: an httpx client over aiohttp
    (``httpx-aiohttp``) lets some of them through unmapped, such as a refused connection.
    ``"local"``: the request could not be sent as built (httpx's ``LocalProtocolError``, a
    header no HTTP can carry), which sending again cannot fix. Each library is only
    consulted when something already imported it.
    """
    httpx = sys.modules.get("httpx")
    if httpx is not None:
        if isinstance(exc, httpx.TimeoutException):
            return "timeout"
        if isinstance(exc, httpx.LocalProtocolError):
            return "local"
        if isinstance(exc, httpx.TransportError):
            return "connection"
    aiohttp = sys.modules.get("aiohttp")
    if aiohttp is not None:
        if isinstance(exc, aiohttp.ServerTimeoutError):
            return "timeout"
        if isinstance(exc, aiohttp.ClientError):
            return "connection"
    return None


@contextmanager
def map_stream_errors(
    provider: str, *, status_code: int | None, secrets: Iterable[str] = ()
) -> Iterator[None]:
    """Turn a transport failure while reading a started event stream into
    :class:`~aether.errors.StreamInterruptedError` (the original error, scrubbed of
    ``secrets`` and request headers, is the ``__cause__``; any other error is scrubbed too).

    The counterpart of :func:`map_transport_errors` once events may have reached the caller:
    the call did not just fail, its answer is incomplete. ``chunks_received`` is left at 0
    for the provider to set (see :func:`~aether.http.set_chunks_received`).
    """
    try:
        yield
    except Exception as exc:
        scrub_exception(exc, secrets)  # whatever it is, it leaves masked
        failure = transport_failure(exc)
        if failure is None:
            raise
        kind = "timed out" if failure == "timeout" else "broke"
        raise StreamInterruptedError(
            f"The event stream {kind} mid-way ({type(exc).__name__}: "
            f"{_exception_text(exc, secrets)}); the answer is incomplete. Retry the call.",
            provider=provider,
            status_code=status_code,
        ) from exc


def set_chunks_received(error: StreamInterruptedError, chunks: int) -> None:
    """Record on ``error`` that the stream's caller had already been given ``chunks`` chunks.

    Core raises :class:`~aether.errors.StreamInterruptedError` where the count is unknown (a
    broken connection, an event that is not JSON), so it carries 0; only the provider's
    ``stream`` knows how many chunks it yielded. This is the one way to fix it on an error
    escaping that generator: the error is updated in place, so its type, message, cause,
    ``retry_after``, ``should_retry`` and ``request_id`` all stay as they were::

        except StreamInterruptedError as exc:
            set_chunks_received(exc, sent)
            raise
    """
    error.chunks_received = chunks


@contextmanager
def map_transport_errors(provider: str, *, secrets: Iterable[str] = ()) -> Iterator[None]:
    """Translate transport failures inside the block to Aether's typed errors.

    A timeout becomes :class:`~aether.errors.ProviderTimeoutError`; any other transport
    failure (refused, DNS, TLS, reset) becomes :class:`~aether.errors.ProviderConnectionError`
    (see :func:`transport_failure`); one the request itself caused is not retryable. The
    original error is the ``__cause__``, scrubbed of ``secrets`` and of the request headers
    it holds (:func:`~aether.http.scrub_exception`); any other error leaving the block is
    scrubbed alike. A plain (sync) context manager, so it also wraps ``await`` expressions.
    """
    try:
        yield
    except Exception as exc:
        scrub_exception(exc, secrets)  # whatever it is, it leaves masked
        failure = transport_failure(exc)
        if failure is None:
            raise
        detail = f"{type(exc).__name__}: {_exception_text(exc, secrets)}"
        if failure == "timeout":
            raise ProviderTimeoutError(
                f"The request timed out ({detail}). Retry, or raise the provider's timeout.",
                provider=provider,
            ) from exc
        if failure == "local":
            raise ProviderConnectionError(
                f"The request could not be sent as built ({detail}). Check the headers given "
                f"to the provider (extra_headers, the API key); sending it again cannot help, "
                f"so it is not retried.",
                provider=provider,
                should_retry=False,
            ) from exc
        raise ProviderConnectionError(
            f"Could not talk to the server ({detail}). Check the network and the base URL; "
            f"the call can be retried.",
            provider=provider,
        ) from exc


def _exception_text(exc: BaseException, secrets: Iterable[str]) -> str:
    """An exception's text (its type's name when it has none) as a message quotes it."""
    return quote_wire(exc, secrets, limit=_MAX_BODY_CHARS, collapse=True, marker=_TRUNCATED)
