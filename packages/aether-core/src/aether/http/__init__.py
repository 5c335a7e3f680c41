"""What every httpx-based provider shares: SSE parsing, status-to-error mapping, plumbing.

Only providers import this package (``import aether`` never does), so it may import httpx;
install it with ``pip install aether-core[http]`` (``aether-core[aiohttp]`` adds the faster
transport for high concurrency, chosen with ``AETHER_HTTP_TRANSPORT=aiohttp``).
Third-party providers are welcome to use it:

    from aether.http import HTTPProviderClient

    http = HTTPProviderClient(provider="acme", base_url="https://api.acme.ai/v1",
                              headers={"authorization": f"Bearer {key}"}, secrets=[key])
    data = await http.post_json("chat", {"prompt": "hi"})
    async for event in http.stream_sse("chat", {"prompt": "hi", "stream": True}):
        ...
"""

from aether.http._arguments import RAW_ARGUMENTS_KEY, dump_tool_arguments, parse_tool_arguments
from aether.http._client import DEFAULT_TIMEOUT, HTTPProviderClient, RetryAfterFromBody
from aether.http._errors import (
    error_from_payload,
    error_from_response,
    map_transport_errors,
    parse_retry_after,
    parse_should_retry,
    request_id_from,
)
from aether.http._json import loads as json_loads
from aether.http._provider import HTTPProviderBase
from aether.http._sse import DEFAULT_MAX_EVENT_BYTES, ServerSentEvent, SSEDecoder, aiter_sse
from aether.http._transport import (
    DEFAULT_LIMITS,
    TRANSPORT_ENV,
    HTTPTransport,
    create_http_client,
    resolve_transport,
)

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_MAX_EVENT_BYTES",
    "DEFAULT_TIMEOUT",
    "HTTPProviderBase",
    "HTTPProviderClient",
    "HTTPTransport",
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
    "request_id_from",
    "resolve_transport",
]
