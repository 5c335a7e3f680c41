"""``EchoProvider``: the Echo API over :class:`aether.http.HTTPProviderClient`.

``HTTPProviderClient`` does the parts every HTTP provider shares: it maps statuses and
transport failures to :mod:`aether.errors` types, keeps the key out of errors, parses
server-sent events and gives the connection back on every exit path, cancellation included.
Its ``decode_event`` reads each event (the JSON object, or the typed error an error event
reports) and ``set_chunks_received`` tells a caller how much of a broken stream it already
has. What is left here is the mapping to and from the Echo API's JSON.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import TYPE_CHECKING

from aether.errors import ProviderError, StreamInterruptedError
from aether.http import (
    HTTPProviderBase,
    HTTPProviderClient,
    quote_wire,
    resolve_settings,
    set_chunks_received,
)
from aether.llm.capabilities import ProviderCapabilities
from aether.llm.contracts import LLMRequest, LLMResponse, LLMStreamChunk, ToolCall
from aether_example_echo._wire import PROVIDER, call_from_wire, finish_reason, payload, usage

if TYPE_CHECKING:
    import httpx  # for annotations only: the aiohttp transport never loads it

__all__ = ["DEFAULT_BASE_URL", "EchoProvider"]

DEFAULT_BASE_URL = "https://echo.example/v1"
DEFAULT_MODEL = "echo-1"


class EchoProvider(HTTPProviderBase):
    """The Echo API as an Aether provider.

    Args:
        api_key: Bearer token; default ``ECHO_API_KEY``. Required on the public endpoint's host;
            a gateway elsewhere that adds credentials needs none.
        default_model: Model when a request names none; default ``ECHO_MODEL``, then
            ``"echo-1"``.
        base_url: API root; default ``ECHO_BASE_URL``, then the public endpoint.
        http_client: An ``httpx.AsyncClient`` to borrow (never closed here).
        timeout: Seconds per request; None: Aether's HTTP default.

    Raises:
        MissingAPIKeyError: No key was given or found for the public endpoint's host.
        ConfigurationError: The base URL is not an ``http(s)://host`` URL, or the timeout is
            not a positive number of seconds (the error names the setting and its value).
    """

    name = PROVIDER
    # What the Echo API serves: the kit checks what is claimed here and names the rest, and
    # aether.llm.check_supported refuses a request that needs more, before anything is sent.
    capabilities = ProviderCapabilities(tools=True, streaming=True)

    def __init__(
        self,
        api_key: str | None = None,
        *,
        default_model: str | None = None,
        base_url: str | None = None,
        http_client: httpx.AsyncClient | None = None,
        timeout: float | None = None,
    ) -> None:
        settings = resolve_settings(
            PROVIDER,
            env_prefix="ECHO",
            api_key=api_key,
            default_model=default_model,
            base_url=base_url,
            fallback_model=DEFAULT_MODEL,
            fallback_base_url=DEFAULT_BASE_URL,
            timeout=timeout,
        )
        self.default_model, self.base_url = settings.default_model, settings.base_url
        self._http = HTTPProviderClient(
            provider=PROVIDER,
            base_url=self.base_url,
            headers={"authorization": f"Bearer {settings.api_key}"} if settings.api_key else {},
            http_client=http_client,
            timeout=settings.timeout,
            secrets=settings.secrets,
        )

    async def complete(self, request: LLMRequest) -> LLMResponse:
        """Send ``request`` and return the whole answer."""
        model = request.model or self.default_model
        data = await self._http.post_json("reply", payload(request, model, stream=False))
        if not isinstance(data, dict):
            shown = quote_wire(data, limit=200)  # the key masked, should the server echo it
            raise ProviderError(f"The Echo API answered {shown}.", provider=PROVIDER)
        input_tokens, output_tokens = usage(data)
        return LLMResponse(
            text=str(data.get("text") or ""),
            model=str(data.get("model") or model),
            response_id=data.get("id"),
            tool_calls=[call_from_wire(c) for c in data.get("calls") or ()],
            finish_reason=finish_reason(data.get("stop")),
            input_tokens=input_tokens,
            output_tokens=output_tokens,
        )

    async def stream(self, request: LLMRequest) -> AsyncGenerator[LLMStreamChunk, None]:
        """Yield text deltas, then one chunk with the tool calls, finish reason and usage.

        Raises:
            StreamInterruptedError: The stream broke, or ended before its ``stop`` event.
        """
        model = request.model or self.default_model
        calls: list[ToolCall] = []
        sent = 0
        events = self._http.stream_sse("reply", payload(request, model, stream=True))
        try:
            async with aclosing(events):
                async for event in events:
                    data = self._http.decode_event(event)
                    if "stop" in data:
                        input_tokens, output_tokens = usage(data)
                        yield LLMStreamChunk(
                            tool_calls=calls,
                            finish_reason=finish_reason(data["stop"]),
                            input_tokens=input_tokens,
                            output_tokens=output_tokens,
                        )
                        return
                    if "call" in data:
                        calls.append(call_from_wire(data["call"]))
                    elif data.get("delta"):
                        yield LLMStreamChunk(text=data["delta"], model=model)
                        sent += 1
        except StreamInterruptedError as exc:
            set_chunks_received(exc, sent)
            raise
        raise StreamInterruptedError(
            "The Echo API stream ended before its stop event; the answer is incomplete. "
            "Retry the call.",
            provider=PROVIDER,
            chunks_received=sent,
        )
