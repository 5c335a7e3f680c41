"""``AnthropicProvider``: the Anthropic Messages API (``POST /v1/messages``) on plain httpx."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from contextlib import aclosing
from typing import TYPE_CHECKING, Any

from aether.errors import (
    ConfigurationError,
    StreamInterruptedError,
)
from aether.http import (
    HTTPProviderBase,
    HTTPProviderClient,
    resolve_settings,
    set_chunks_received,
)
from aether.llm.capabilities import ProviderCapabilities
from aether.llm.contracts import LLMRequest, LLMResponse, LLMStreamChunk
from aether_anthropic._headers import call_headers, pop_betas
from aether_anthropic._mapping import build_payload
from aether_anthropic._models import PROVIDER, claude_traits
from aether_anthropic._response import response_from_wire
from aether_anthropic._streaming import StreamAssembler
from aether_anthropic._thinking import call_thinks, plan_thinking

if TYPE_CHECKING:  # annotations only: the aiohttp transport never loads httpx
    import httpx

__all__ = [
    "API_VERSION",
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_TOKENS",
    "DEFAULT_MODEL",
    "AnthropicProvider",
]

DEFAULT_BASE_URL = "https://api.anthropic.com"
DEFAULT_MODEL = "claude-sonnet-4-5"
DEFAULT_MAX_TOKENS = 4096
"""``max_tokens`` sent when a request sets none (the API requires the field)."""
API_VERSION = "2023-06-01"
"""The ``anthropic-version`` header: the wire format this adapter was written for."""

_PATH = "v1/messages"


class AnthropicProvider(HTTPProviderBase):
    """The Anthropic Messages API as an Aether provider: ``complete`` and ``stream``.

    Each setting is taken from the keyword, else from the environment variable named, else
    from the default. Use it as an async context manager, or call :meth:`aclose`, to release
    the connection pool it creates (a client passed in is never closed).

    Args:
        api_key: Sent in the ``x-api-key`` header (``ANTHROPIC_API_KEY``). Required by the
            public API; a gateway at another ``base_url`` that adds credentials needs none.
        default_model: Model used when a request names none (``ANTHROPIC_MODEL``, else
            ``"claude-sonnet-4-5"``).
        base_url: API root, without ``/v1`` (``ANTHROPIC_BASE_URL``, else
            ``https://api.anthropic.com``); requests go to ``{base_url}/v1/messages``.
        http_client: An ``httpx.AsyncClient`` to send through (its transport, proxies and
            limits are used); None: one is created on first use.
        timeout: Seconds or an ``httpx.Timeout``; None: 600 s read, 5 s connect (or the given
            client's own setting).
        default_max_tokens: ``max_tokens`` for requests that set none (4096).
        extra_headers: More headers for every request, applied last (e.g. another
            ``anthropic-version``). ``anthropic-beta`` names are combined with those of each
            call's ``extra_headers`` and those the request needs (``files-api-2025-04-14``
            for a part sent by ``file_id``).

    Raises:
        MissingAPIKeyError: The public API is targeted and no key was found.
        ConfigurationError: ``default_max_tokens`` is below 1, the base URL is not an
            ``http(s)://host`` URL, or the timeout is not a positive number of seconds.
    """

    name = PROVIDER
    capabilities = ProviderCapabilities(
        tools=True,
        streaming=True,
        image_input=True,
        document_input=True,
        # Images and documents go inside the tool_result block itself.
        media_in_tool_results=True,
        reasoning=True,
        structured_output=True,
    )

    def __init__(
        self,
        *,
        api_key: str | None = None,
        default_model: str | None = None,
        base_url: str | None = None,
        http_client: httpx.AsyncClient | None = None,
        timeout: float | httpx.Timeout | None = None,
        default_max_tokens: int = DEFAULT_MAX_TOKENS,
        extra_headers: Mapping[str, str] | None = None,
    ) -> None:
        settings = resolve_settings(
            PROVIDER,
            env_prefix="ANTHROPIC",
            api_key=api_key,
            default_model=default_model,
            base_url=base_url,
            fallback_model=DEFAULT_MODEL,
            fallback_base_url=DEFAULT_BASE_URL,
            timeout=timeout,
        )
        self.default_model, self.base_url = settings.default_model, settings.base_url
        api_key = settings.api_key
        if default_max_tokens < 1:
            raise ConfigurationError(
                f"default_max_tokens must be at least 1, got {default_max_tokens}."
            )
        self.default_max_tokens = default_max_tokens
        headers = {"anthropic-version": API_VERSION}
        if api_key:
            headers["x-api-key"] = api_key
        headers.update(extra_headers or {})
        # Sent per call, combined with the call's own and the ones a request needs: left among
        # the client's headers, they would win over a call's (credentials are protected so).
        self._betas = pop_betas(headers)
        self._secrets = settings.secrets
        self._http = HTTPProviderClient(
            provider=PROVIDER,
            base_url=self.base_url,
            headers=headers,
            http_client=http_client,
            timeout=settings.timeout,
            secrets=self._secrets,
            # Every Messages answer has content (a list, maybe empty): a 200 body without it
            # is not Anthropic's, and post_json says to check the base URL.
            answer_keys=("content",),
        )

    def supports_native_output(self, model: str | None = None) -> bool:
        """Whether ``model`` (None: the default model) answers in a schema ``LLMRequest.output``
        gives, as its row in :data:`~aether_anthropic.MODELS` says (``native_output``).

        Without it, ask for a structured answer through a tool (or instructions); a request
        with ``output`` for such a model is refused before sending.
        """
        return claude_traits(model or self.default_model).native_output

    def supports_forced_tool_choice(self, request: LLMRequest) -> bool:
        """Whether ``request`` may force a tool (``tool_choice`` ``required`` or a tool's name).

        Anthropic refuses a forced tool while thinking is on, so this is False when the
        request's reasoning settings (or a ``thinking`` in its ``provider_options``) turn
        thinking on for its model; such a request is refused before sending.
        """
        model = request.model or self.default_model
        try:
            planned = plan_thinking(
                request,
                model=model,
                traits=claude_traits(model),
                default_max_tokens=self.default_max_tokens,
                interleaved=True,  # room for the budget is another question
            )
        except ConfigurationError:
            return True  # the reasoning settings are refused on their own when sent
        return not call_thinks(request, planned)

    def _prepare(
        self, request: LLMRequest, *, stream: bool
    ) -> tuple[dict[str, Any], dict[str, str] | None]:
        """The body and the call's headers (None: only the client's own)."""
        call = call_headers(request, self._betas)
        payload = build_payload(
            request,
            model=request.model or self.default_model,
            max_tokens=self.default_max_tokens,
            stream=stream,
            interleaved_thinking=call.interleaved_thinking,
            structured_outputs_beta=call.structured_outputs_beta,
        )
        return payload, call.headers

    async def complete(self, request: LLMRequest) -> LLMResponse:
        """Send ``request`` and return the whole answer.

        Raises:
            ConfigurationError: A part, setting or combination Anthropic or the model does not
                take, raised before anything is sent.
            ProviderError: The typed subclass for an HTTP or transport failure, or for a 200
                body of ``type: error`` (raised by core's ``post_json``, typed by its error's
                ``type``).
        """
        model = request.model or self.default_model
        payload, headers = self._prepare(request, stream=False)
        # An object with content: post_json refuses any other body (answer_keys).
        body = await self._http.post_json(_PATH, payload, headers=headers)
        return response_from_wire(body, model=model)

    async def stream(self, request: LLMRequest) -> AsyncGenerator[LLMStreamChunk, None]:
        """Send ``request`` and yield the answer as it is produced.

        Text and thinking deltas come as they arrive, each tool call whole once its block
        ends, then one chunk with the finish reason and the usage.

        Raises:
            ConfigurationError: A part, setting or combination Anthropic or the model does not
                take, raised before anything is sent.
            StreamInterruptedError: The stream broke, or ended before ``message_stop``;
                ``chunks_received`` says how much the caller already has.
            ProviderError: The typed subclass for an HTTP or transport failure, or for an
                ``error`` event in the stream (``overloaded_error`` is a ``RateLimitError``,
                as HTTP 529 is).
        """
        assembler = StreamAssembler(request.model or self.default_model)
        # Typed in-band errors (an ``error`` event, overloaded_error included), non-JSON
        # events refused.
        decode = self._http.decode_event
        payload, headers = self._prepare(request, stream=True)
        try:
            async with aclosing(self._http.stream_sse(_PATH, payload, headers=headers)) as events:
                async for event in events:
                    if assembler.done or event.event == "ping":
                        continue  # after message_stop: read on so the connection is reused
                    chunk = assembler.feed(decode(event), event.event)
                    if chunk is not None:
                        yield chunk
        except StreamInterruptedError as exc:
            set_chunks_received(exc, assembler.chunks)
            raise
        if not assembler.done:
            raise StreamInterruptedError(
                "Anthropic's stream ended before message_stop; the answer is incomplete. "
                "Retry the call.",
                provider=PROVIDER,
                chunks_received=assembler.chunks,
            )
        yield assembler.finish()
