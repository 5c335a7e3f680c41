"""What every httpx-based provider shares: SSE parsing, status-to-error mapping, plumbing.

Only providers import this package (``import aether`` never does). It needs httpx, installed
with ``pip install aether-core[http]``, but imports it only when it is used: with the faster
transport for high concurrency (``aether-core[aiohttp]``, chosen with
``AETHER_HTTP_TRANSPORT=aiohttp``) a provider never loads it, saving its memory and start-up.
Third-party providers are welcome to use it:

    from aether.errors import StreamInterruptedError
    from aether.http import HTTPProviderClient, resolve_settings, set_chunks_received

    # api_key / default_model / base_url: keyword, else ACME_API_KEY / ACME_MODEL /
    # ACME_BASE_URL, else the defaults; a key is required on the public endpoint's host. A
    # base URL that is not http(s)://host..., a timeout that is not positive seconds, or a
    # key no HTTP header can carry (a smart quote; whitespace around it is dropped) is a
    # ConfigurationError naming the setting, raised here rather than on the first request.
    settings = resolve_settings("acme", env_prefix="ACME", api_key=None, default_model=None,
                                base_url=None, fallback_model="acme-1",
                                fallback_base_url="https://api.acme.ai/v1", timeout=30)
    http = HTTPProviderClient(provider="acme", base_url=settings.base_url,
                              headers={"authorization": f"Bearer {settings.api_key}"},
                              secrets=settings.secrets, timeout=settings.timeout,
                              answer_keys=("output",))  # other JSON: check the base URL
    data = await http.post_json("chat", {"prompt": "hi"})  # an in-band error is raised
    sent = 0  # chunks yielded so far
    try:
        async for event in http.stream_sse("chat", {"prompt": "hi", "stream": True}):
            data = http.decode_event(event)  # a dict; an in-band error is raised typed
            ...  # yield a chunk made of data, then: sent += 1
    except StreamInterruptedError as exc:
        set_chunks_received(exc, sent)  # tell the caller how much it already has
        raise

Whatever a provider quotes from an answer in its own errors goes through ``quote_wire``
(``quote_wire(value, settings.secrets, limit=200)``), which masks the key in every form a
server may echo it in; tool-call arguments are read with ``parse_tool_arguments`` (text) or
``tool_arguments`` (a decoded object), which keep malformed or too deeply nested ones as
raw text for the tool loop to refuse. Bytes the API takes as base64 (an image's data URL) go
into a body as ``Base64Data(data, prefix="data:image/png;base64,")``, which the client writes
without escaping it character by character.
"""

import typing

from aether.http._arguments import (
    DEFAULT_MAX_ARGUMENT_DEPTH,
    RAW_ARGUMENTS_KEY,
    dump_tool_arguments,
    parse_tool_arguments,
    tool_arguments,
)
from aether.http._body import Base64Data
from aether.http._client import HTTPProviderClient, RetryAfterFromBody
from aether.http._errors import (
    error_from_payload,
    error_from_response,
    map_transport_errors,
    parse_retry_after,
    parse_should_retry,
    request_id_from,
    set_chunks_received,
)
from aether.http._json import DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_JSON_DEPTH, JSONLimitError
from aether.http._json import loads as json_loads
from aether.http._provider import HTTPProviderBase
from aether.http._quoting import MaskedError, quote_wire, scrub_exception
from aether.http._settings import ProviderSettings, resolve_settings
from aether.http._sse import DEFAULT_MAX_EVENT_BYTES, ServerSentEvent, SSEDecoder, aiter_sse
from aether.http._transport import (
    TRANSPORT_ENV,
    HTTPTransport,
    PoolSettings,
    create_http_client,
    pool_settings,
    resolve_transport,
)

if typing.TYPE_CHECKING:
    import httpx

    DEFAULT_LIMITS: httpx.Limits
    """The in-code pool of a created client (1000 connections, 100 kept alive, 5 s); the
    ``AETHER_HTTP_*`` pool variables override it (see :func:`pool_settings`)."""
    DEFAULT_TIMEOUT: httpx.Timeout
    """600 s read, 5 s connect: the timeout of a created client when none is given."""
else:
    # PEP 562: both are httpx objects, so they are built when first read rather than at
    # import, and the aiohttp path (which never reads them) never imports httpx. Hidden from
    # type checkers, which would otherwise accept any name imported from this package.
    from aether.http import _transport

    _HTTPX_DEFAULTS = {
        "DEFAULT_LIMITS": _transport.default_limits,
        "DEFAULT_TIMEOUT": _transport.default_timeout,
    }

    def __getattr__(name: str) -> object:
        if name in _HTTPX_DEFAULTS:
            return _HTTPX_DEFAULTS[name]()
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted({*globals(), *_HTTPX_DEFAULTS})


__all__ = [
    "Base64Data",
    "DEFAULT_LIMITS",
    "DEFAULT_MAX_ARGUMENT_DEPTH",
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_MAX_EVENT_BYTES",
    "DEFAULT_MAX_JSON_DEPTH",
    "DEFAULT_TIMEOUT",
    "HTTPProviderBase",
    "HTTPProviderClient",
    "HTTPTransport",
    "JSONLimitError",
    "MaskedError",
    "PoolSettings",
    "ProviderSettings",
    "RAW_ARGUMENTS_KEY",
    "RetryAfterFromBody",
    "SSEDecoder",
    "ServerSentEvent",
    "TRANSPORT_ENV",
    "aiter_sse",
    "create_http_client",
    "dump_tool_arguments",
    "error_from_payload",
    "error_from_response",
    "json_loads",
    "map_transport_errors",
    "parse_retry_after",
    "parse_should_retry",
    "parse_tool_arguments",
    "pool_settings",
    "quote_wire",
    "request_id_from",
    "resolve_settings",
    "resolve_transport",
    "scrub_exception",
    "set_chunks_received",
    "tool_arguments",
]
