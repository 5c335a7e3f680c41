"""The ``openai`` provider: Chat Completions over plain httpx, whole or streamed."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from contextlib import aclosing
from typing import TYPE_CHECKING

from aether.config import env_str
from aether.errors import StreamInterruptedError
from aether.http import (
    HTTPProviderBase,
    HTTPProviderClient,
    resolve_settings,
    set_chunks_received,
)
from aether.llm.capabilities import ProviderCapabilities
from aether.llm.contracts import LLMRequest, LLMResponse, LLMStreamChunk
from aether_openai._mapping import PROVIDER, response_from_wire
from aether_openai._models import MODELS
from aether_openai._request import MaxTokensField, build_payload
from aether_openai._streaming import StreamAssembler

if TYPE_CHECKING:  # annotations only: the aiohttp transport never loads httpx
    import httpx

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_MODEL", "OpenAIProvider"]

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_MODEL = "gpt-4o-mini"
_PATH = "chat/completions"


class OpenAIProvider(HTTPProviderBase):
    """Chat Completions against OpenAI or any server speaking its wire format.

    Each request is mapped for its model as :data:`aether_openai.MODELS` describes it (what
    is sent, what is refused before sending); ``provider_options`` is deep-merged into the
    body last and ``extra_headers`` go with the request. A structured answer
    (``LLMRequest.output``) is asked for with a ``json_schema`` ``response_format`` from
    models that take one (:meth:`supports_native_output`).

    Each argument is taken from the keyword, else from the environment variable named,
    else from the default. Use it as an async context manager, or call :meth:`aclose`, to
    release the connection pool it creates (a client passed in is never closed).

    Args:
        api_key: Sent as a bearer token (``OPENAI_API_KEY``). Required by the public API;
            a server at another ``base_url`` (Ollama, vLLM, ...) gets no header without one.
        default_model: Model used when a request names none (``OPENAI_MODEL``, else
            ``"gpt-4o-mini"``).
        base_url: API root (``OPENAI_BASE_URL``, else ``https://api.openai.com/v1``).
        http_client: An ``httpx.AsyncClient`` to send through (its transport, proxies and
            limits are used); None: one is created on first use.
        timeout: Seconds or an ``httpx.Timeout``; None: 600 s read, 5 s connect (or the given
            client's own setting).
        organization: ``OpenAI-Organization`` header (``OPENAI_ORG_ID``).
        project: ``OpenAI-Project`` header (``OPENAI_PROJECT_ID``).
        extra_headers: More headers for every request (e.g. OpenRouter's ``HTTP-Referer``).
        max_tokens_field: Which body field carries ``max_tokens``. None: OpenAI's current
            ``max_completion_tokens`` for the public API; for any other server the widely
            supported ``max_tokens``, except to a model ``MODELS`` knows as one of OpenAI's
            reasoning models (Azure, OpenRouter, ...), which rejects it.

    Raises:
        MissingAPIKeyError: The public API is targeted and no key was found.
        ConfigurationError: The base URL is not an ``http(s)://host`` URL, or the timeout is
            not a positive number of seconds (the error names the setting and its value).
    """

    name = PROVIDER
    # Not media_in_tool_results: a chat tool message takes text only, so the tool loop sends
    # a note in place of an image a tool returned.
    capabilities = ProviderCapabilities(
        tools=True,
        streaming=True,
        image_input=True,
        document_input=True,
        audio_input=True,
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
        organization: str | None = None,
        project: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        max_tokens_field: MaxTokensField | None = None,
    ) -> None:
        settings = resolve_settings(
            PROVIDER,
            env_prefix="OPENAI",
            api_key=api_key,
            default_model=default_model,
            base_url=base_url,
            fallback_model=DEFAULT_MODEL,
            fallback_base_url=DEFAULT_BASE_URL,
            timeout=timeout,
        )
        self.default_model, self.base_url = settings.default_model, settings.base_url
        api_key, public = settings.api_key, settings.on_default_host
        organization = organization or env_str("OPENAI_ORG_ID")
        project = project or env_str("OPENAI_PROJECT_ID")
        headers: dict[str, str] = {}
        if api_key:
            headers["authorization"] = f"Bearer {api_key}"
        if organization:
            headers["openai-organization"] = organization
        if project:
            headers["openai-project"] = project
        headers.update(extra_headers or {})
        # None: chosen per model by build_payload.
        self._max_tokens_field: MaxTokensField | None = max_tokens_field or (
            "max_completion_tokens" if public else None
        )
        self._secrets = settings.secrets
        self._http = HTTPProviderClient(
            provider=PROVIDER,
            base_url=self.base_url,
            headers=headers,
            http_client=http_client,
            timeout=settings.timeout,
            secrets=self._secrets,
            # A compatible server may report a failure in a 200 body: raised, typed by its own
            # code, by post_json. One with choices is an answer, whatever else it carries; one
            # without is not OpenAI's, and post_json says to check the base URL.
            answer_keys=("choices",),
        )

    def supports_native_output(self, model: str | None = None) -> bool:
        """Whether ``model`` (None: the default model) answers in a response schema.

        Read from :data:`aether_openai.MODELS` (``native_output``), where a model no row
        matches, as on an OpenAI-compatible server, is taken to (register it otherwise).
        """
        return MODELS.lookup(model or self.default_model).native_output

    async def complete(self, request: LLMRequest) -> LLMResponse:
        """Send ``request`` and return the whole answer."""
        payload = build_payload(
            request,
            model=request.model or self.default_model,
            stream=False,
            max_tokens_field=self._max_tokens_field,
        )
        headers = request.extra_headers or None
        return response_from_wire(await self._http.post_json(_PATH, payload, headers=headers))

    async def stream(self, request: LLMRequest) -> AsyncGenerator[LLMStreamChunk, None]:
        """Send ``request`` and yield text deltas, then one chunk with tool calls and usage.

        Raises:
            StreamInterruptedError: The stream broke, or ended without ``[DONE]``.
            ProviderError: The server reported an error in the stream; the typed subclass
                its code or type names (ServerError, RateLimitError, ...).
        """
        payload = build_payload(
            request,
            model=request.model or self.default_model,
            stream=True,
            max_tokens_field=self._max_tokens_field,
        )
        assembler = StreamAssembler()
        decode = self._http.decode_event  # typed in-band errors, non-JSON events refused
        done = False
        try:
            events = self._http.stream_sse(_PATH, payload, headers=request.extra_headers or None)
            async with aclosing(events):
                async for event in events:
                    if done:
                        continue  # read to the end so the connection can be reused
                    if event.data == "[DONE]":
                        done = True
                        continue
                    chunk = assembler.feed(decode(event))
                    if chunk is not None:
                        yield chunk
        except StreamInterruptedError as exc:
            set_chunks_received(exc, assembler.chunks)
            raise
        if not done:
            raise StreamInterruptedError(
                "The stream ended before OpenAI's [DONE] marker; the answer is incomplete. "
                "Retry the call.",
                provider=PROVIDER,
                chunks_received=assembler.chunks,
            )
        yield assembler.finish()
