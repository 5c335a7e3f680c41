"""``GeminiProvider``: Google's Gemini API (``generateContent``) directly on httpx."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from aether.errors import (
    AuthenticationError,
    BadRequestError,
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
from aether_gemini._mapping import (
    PROVIDER,
    empty_answer_error,
    finish_reason,
    raise_if_prompt_blocked,
    read_candidate,
    retry_delay,
    usage,
)
from aether_gemini._models import traits_for
from aether_gemini._request import build_payload
from aether_gemini._schema import DeclarationCache
from aether_gemini._streaming import StreamState

if TYPE_CHECKING:  # annotations only: the aiohttp transport never loads httpx
    import httpx

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_MODEL", "GeminiProvider"]

DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com/v1beta"
DEFAULT_MODEL = "gemini-2.5-flash"
_KEY_MARKS = ("API key not valid", "API_KEY_INVALID")
_ANSWER_KEYS = ("candidates", "promptFeedback", "usageMetadata", "modelVersion", "responseId")
_ALT_SSE_LOST = (
    "Gemini answers streamGenerateContent with one JSON body instead of server-sent events "
    "when the ?alt=sse query is lost on the way (a proxy or gateway at base_url may drop "
    "it). Check the base URL, or use complete() instead of stream()."
)


class GeminiProvider(HTTPProviderBase):
    """The Gemini API as an Aether provider: ``complete`` and ``stream``.

    Settings follow Aether's precedence, keyword > environment > default.

    Args:
        api_key: The API key; default ``GEMINI_API_KEY``. Sent in the ``x-goog-api-key``
            header, never in the URL (URLs end up in logs). Required on the public
            endpoint's host; optional on another (a proxy or gateway that adds it).
        default_model: Model used when a request names none; default ``GEMINI_MODEL``, then
            ``"gemini-2.5-flash"``.
        base_url: API root; default ``GEMINI_BASE_URL``, then the public v1beta endpoint.
        http_client: An ``httpx.AsyncClient`` to borrow (never closed here); None: one is
            created on first use and closed by :meth:`aclose`.
        timeout: Seconds (or an ``httpx.Timeout``) per request; None: the default.

    Raises:
        MissingAPIKeyError: No key was given or found for the public endpoint's host.
        ConfigurationError: The base URL is not an ``http(s)://host`` URL, or the timeout is
            not a positive number of seconds (the error names the setting and its value).
    """

    name = PROVIDER
    capabilities = ProviderCapabilities(
        tools=True,
        streaming=True,
        image_input=True,
        document_input=True,
        audio_input=True,
        video_input=True,
        # A tool's media goes as parts after its functionResponse, in the same user turn.
        media_in_tool_results=True,
        reasoning=True,
        structured_output=True,
    )

    def __init__(
        self,
        api_key: str | None = None,
        *,
        default_model: str | None = None,
        base_url: str | None = None,
        http_client: httpx.AsyncClient | None = None,
        timeout: float | httpx.Timeout | None = None,
    ) -> None:
        settings = resolve_settings(
            PROVIDER,
            env_prefix="GEMINI",
            api_key=api_key,
            default_model=default_model,
            base_url=base_url,
            fallback_model=DEFAULT_MODEL,
            fallback_base_url=DEFAULT_BASE_URL,
            timeout=timeout,
        )
        self.default_model, self.base_url = settings.default_model, settings.base_url
        key = settings.api_key
        self._secrets = settings.secrets
        self._http = HTTPProviderClient(
            provider=PROVIDER,
            base_url=self.base_url,
            headers={"x-goog-api-key": key} if key else {},
            http_client=http_client,
            timeout=settings.timeout,
            secrets=self._secrets,
            # RetryInfo.retryDelay, for a 429 status and an in-band 429 alike.
            retry_after_from_body=retry_delay,
            # An error in a 200 body is raised by post_json, typed by its own code (a 503
            # stays retryable); one with candidates is an answer. So is a blocked prompt's
            # (promptFeedback) or an empty one's (usage, model version): a body with none of
            # these is not Gemini's, and post_json says to check the base URL.
            answer_keys=_ANSWER_KEYS,
            not_an_event_stream_hint=_ALT_SSE_LOST,
        )
        self._declarations = DeclarationCache()

    def _path(self, model: str, method: str) -> str:
        name = model if model.startswith(("models/", "tunedModels/")) else f"models/{model}"
        return f"{quote(name, safe='/-._~')}:{method}"

    def supports_native_output(self, model: str | None = None, *, with_tools: bool = False) -> bool:
        """Whether ``model`` answers in a schema natively (``LLMRequest.output``).

        Read from :data:`~aether_gemini.MODELS` (``native_output``), so a row registered there
        decides for its models.

        Args:
            model: The model; None or empty: the provider's default model.
            with_tools: The request also lets the model call functions, which models before
                Gemini 3 cannot do while answering in a schema.
        """
        traits = traits_for(model or self.default_model)
        return traits.native_output and (traits.output_with_tools or not with_tools)

    def _payload(self, request: LLMRequest) -> dict[str, Any]:
        return build_payload(request, request.model or self.default_model, self._declarations)

    async def complete(self, request: LLMRequest) -> LLMResponse:
        """Send the conversation to ``generateContent`` and return the whole answer.

        Raises:
            ConfigurationError: A part or setting the model cannot take (nothing was sent).
            ResponseBlockedError: The prompt was blocked, or no text nor tool call came back.
            ProviderError: The typed subclass for an HTTP or transport failure.
        """
        model = request.model or self.default_model
        payload = self._payload(request)
        try:
            body = await self._http.post_json(
                self._path(model, "generateContent"), payload, headers=request.extra_headers
            )
        except BadRequestError as exc:
            rejected = _key_rejected(exc)
            if rejected is None:
                raise
            raise rejected from exc
        if isinstance(body, list):  # post_json let through only an answer, maybe wrapped
            body = body[0]  # some Gemini front ends wrap the body in a one-element list
        raise_if_prompt_blocked(body)
        candidate = read_candidate(body)
        reason = finish_reason(candidate.finish_raw, has_tool_calls=bool(candidate.tool_calls))
        if not (candidate.text or candidate.tool_calls) and reason != "length":
            had_candidate = bool(body.get("candidates"))
            raise empty_answer_error(candidate, had_candidate=had_candidate)
        return LLMResponse(
            text=candidate.text,
            reasoning_text=candidate.reasoning_text,
            tool_calls=candidate.tool_calls,
            finish_reason=reason,
            model=str(body.get("modelVersion") or model),
            response_id=body.get("responseId") if isinstance(body.get("responseId"), str) else None,
            **usage(body.get("usageMetadata")),
        )

    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        """Stream the answer from ``streamGenerateContent?alt=sse``.

        Yields content chunks as they arrive, then one chunk with the finish reason and usage.

        Raises:
            ConfigurationError: A part or setting the model cannot take (nothing was sent).
            StreamInterruptedError: The stream broke (or ended without a finish reason) after
                it started; ``chunks_received`` says how much the caller already has.
            ResponseBlockedError: The prompt was blocked, or nothing but silence came back.
            ProviderError: The typed subclass for an HTTP or transport failure.
        """
        model = request.model or self.default_model
        state = StreamState(model)
        decode = self._http.decode_event  # typed in-band errors, non-JSON events refused
        sent = 0
        events = self._http.stream_sse(
            self._path(model, "streamGenerateContent") + "?alt=sse",
            self._payload(request),
            headers=request.extra_headers,
        )
        try:
            async with aclosing(events):
                async for event in events:
                    chunk = state.feed(decode(event))
                    if chunk is not None:
                        yield chunk
                        sent += 1
        except BadRequestError as exc:
            rejected = _key_rejected(exc)
            if rejected is None:
                raise
            raise rejected from exc
        except StreamInterruptedError as exc:
            set_chunks_received(exc, sent)
            raise
        yield state.finish(chunks_received=sent)


def _key_rejected(exc: BadRequestError) -> AuthenticationError | None:
    """Gemini reports a wrong API key as HTTP 400 ``API_KEY_INVALID``, not 401."""
    if exc.status_code != 400 or not any(mark in exc.message for mark in _KEY_MARKS):
        return None
    words = (exc.provider_message or "").rstrip()
    if words and not words.endswith((".", "!", "?")):
        words += "."
    return AuthenticationError(
        # Gemini's own words whole, then the fix; not core's hint for a 400, which would
        # send the user after the request's parameters.
        f"{words or 'Gemini rejected the API key.'} Check GEMINI_API_KEY (or the api_key "
        f"argument) and that the key is enabled for the Generative Language API.",
        provider=PROVIDER,
        status_code=exc.status_code,
        request_id=exc.request_id,
        provider_message=exc.provider_message,
    )
