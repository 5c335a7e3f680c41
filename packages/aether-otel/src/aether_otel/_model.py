"""``ModelCalls``: a provider layer making one ``chat`` span per model call, and the metrics.

It is put directly around the client's provider, under the retry layer, so each attempt is
one span (a retried call shows every attempt, each failed one with its ``error.type``) and the
conventions' metrics see each request the provider made. A stream's span covers its handshake
and every chunk; it ends when the stream ends, fails, is cancelled or is closed early.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from time import perf_counter
from typing import Any
from urllib.parse import urlsplit

from opentelemetry import context, trace
from opentelemetry.trace import Span, SpanKind

from aether.extensions.llm.pricing import PriceBook
from aether.llm.contracts import LLMProvider, LLMRequest, LLMResponse, LLMStreamChunk, ToolCall
from aether_otel import _content
from aether_otel._calls import CallState, current_call
from aether_otel._conventions import (
    AETHER_ATTEMPT,
    AETHER_USAGE_COST,
    END_ABANDONED,
    ERROR_TYPE,
    GEN_AI_INPUT_MESSAGES,
    GEN_AI_OPERATION_NAME,
    GEN_AI_OUTPUT_MESSAGES,
    GEN_AI_OUTPUT_TYPE,
    GEN_AI_PROVIDER_NAME,
    GEN_AI_REQUEST_FREQUENCY_PENALTY,
    GEN_AI_REQUEST_MAX_TOKENS,
    GEN_AI_REQUEST_MODEL,
    GEN_AI_REQUEST_PRESENCE_PENALTY,
    GEN_AI_REQUEST_SEED,
    GEN_AI_REQUEST_STOP_SEQUENCES,
    GEN_AI_REQUEST_STREAM,
    GEN_AI_REQUEST_TEMPERATURE,
    GEN_AI_REQUEST_TOP_P,
    GEN_AI_RESPONSE_FINISH_REASONS,
    GEN_AI_RESPONSE_ID,
    GEN_AI_RESPONSE_MODEL,
    GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
    GEN_AI_SYSTEM_INSTRUCTIONS,
    GEN_AI_TOKEN_TYPE,
    GEN_AI_TOOL_DEFINITIONS,
    GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
    GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
    GEN_AI_USAGE_INPUT_TOKENS,
    GEN_AI_USAGE_OUTPUT_TOKENS,
    GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
    OPERATION_CHAT,
    OUTPUT_TYPE_JSON,
    PROVIDER_NAMES,
    SERVER_ADDRESS,
    SERVER_PORT,
    TOKEN_TYPE_INPUT,
    TOKEN_TYPE_OUTPUT,
)
from aether_otel._telemetry import Telemetry, adds_context, end_reason, error_type, record_end

__all__ = ["ModelCalls", "server_of"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


def server_of(provider: object) -> dict[str, Any]:
    """``server.address`` and ``server.port`` from the provider's ``base_url`` (if it has one).

    Only the host and port: a URL can carry credentials, which never reach a span.
    """
    base_url = getattr(provider, "base_url", None)
    if not isinstance(base_url, str):
        return {}
    try:
        parts = urlsplit(base_url)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return {}
    if not parts.hostname:
        return {}
    found: dict[str, Any] = {SERVER_ADDRESS: parts.hostname}
    if port is not None:
        found[SERVER_PORT] = port
    return found


class ModelCalls:
    """Wraps a provider; satisfies :class:`~aether.llm.LLMProvider` (see the module docs).

    Args:
        inner: The provider the client calls (under its retry layer, if any).
        telemetry: Where spans and metrics go.
        provider: The provider's Aether name (mapped to ``gen_ai.provider.name``).
        prices: The client's price book, for ``aether.usage.cost``; None: no cost.
    """

    __slots__ = ("_common", "_prices", "_telemetry", "inner")

    def __init__(
        self,
        inner: LLMProvider,
        telemetry: Telemetry,
        *,
        provider: str,
        prices: PriceBook | None,
    ) -> None:
        self.inner = inner
        self._telemetry = telemetry
        self._prices = prices
        # The attributes every span and metric point of this provider carries.
        self._common: dict[str, Any] = {
            GEN_AI_OPERATION_NAME: OPERATION_CHAT,
            GEN_AI_PROVIDER_NAME: PROVIDER_NAMES.get(provider, provider),
            **server_of(inner),
        }

    def __repr__(self) -> str:
        return f"ModelCalls({self.inner!r})"

    @property
    def default_model(self) -> str:
        """The wrapped provider's default model; ``AttributeError`` when it has none."""
        return self.inner.default_model  # type: ignore[attr-defined,no-any-return]

    async def aclose(self) -> None:
        """Close the wrapped provider, when it can be closed."""
        close = getattr(self.inner, "aclose", None)
        if close is not None:
            await close()

    # --- calls -----------------------------------------------------------------------------

    async def complete(self, request: LLMRequest) -> LLMResponse:
        """The wrapped provider's answer, in a ``chat`` span.

        When nothing would be recorded (see :meth:`_steps_aside`), the provider is simply
        called.
        """
        span, metric, state, found = self._start(request, stream=False)
        if self._steps_aside(span):
            return await self.inner.complete(request)
        started = perf_counter()
        token = context.attach(trace.set_span_in_context(span)) if adds_context(span) else None
        try:
            response = await self.inner.complete(request)
        except BaseException as exc:
            duration = perf_counter() - started
            self._ended(span, metric, state, found, request, duration, None, None, exc)
            raise
        finally:
            if token is not None:
                context.detach(token)
        duration = perf_counter() - started
        self._ended(span, metric, state, found, request, duration, None, response, None)
        return response

    def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        """The wrapped provider's stream, in a ``chat`` span.

        When nothing would be recorded (see :meth:`_steps_aside`), the provider's own stream
        is handed back: no layer between it and the caller, so each chunk costs what it costs
        uninstrumented.
        """
        span, metric, state, found = self._start(request, stream=True)
        if self._steps_aside(span):
            return self.inner.stream(request)
        return self._watched(span, metric, state, found, request)

    async def _watched(
        self,
        span: Span,
        metric: dict[str, Any],
        state: CallState | None,
        found: dict[str, Any],
        request: LLMRequest,
    ) -> AsyncIterator[LLMStreamChunk]:
        started = perf_counter()
        chunks = self.inner.stream(request)
        seen = _Seen(self._telemetry.capture and span.is_recording())
        error: BaseException | None = None
        finished = False
        try:
            # Current for the handshake (where the request is sent), not between chunks.
            token = context.attach(trace.set_span_in_context(span)) if adds_context(span) else None
            try:
                chunk = await chunks.__anext__()
            except StopAsyncIteration:
                finished = True
                return
            finally:
                if token is not None:
                    context.detach(token)
            seen.first = perf_counter() - started
            seen.add(chunk)
            parts = seen.parts
            if parts is not None and chunk.text:
                parts.append(chunk.text)
            yield chunk
            async for chunk in chunks:
                # Per chunk, only what ends an answer is looked at: its finish, its usage
                # and its assembled tool calls come on the last chunks.
                if (
                    chunk.finish_reason is not None
                    or chunk.output_tokens
                    or chunk.input_tokens
                    or chunk.tool_calls
                ):
                    seen.add(chunk)
                if parts is not None and chunk.text:
                    parts.append(chunk.text)
                yield chunk
            finished = True
        except BaseException as exc:
            error = exc
            raise
        finally:
            if not finished:
                close = getattr(chunks, "aclose", None)
                if close is not None:
                    await close()
            duration = perf_counter() - started
            answer = seen.answer()
            self._ended(span, metric, state, found, request, duration, seen, answer, error)

    # --- spans and metrics -------------------------------------------------------------------

    def _steps_aside(self, span: Span) -> bool:
        """Whether the call records nothing at all, so the layer can leave it to the provider:
        a no-op meter, and a span that neither records nor changes the context (then ended
        here)."""
        if self._telemetry.metrics_dropped and not adds_context(span):
            span.end()
            return True
        return False

    def _start(
        self, request: LLMRequest, *, stream: bool
    ) -> tuple[Span, dict[str, Any], CallState | None, dict[str, Any]]:
        """The model call's span, started; its metric attributes so far; the call's state;
        the span attributes kept for its end (one ``set_attributes`` then, not two)."""
        model = request.model
        metric = self._common.copy()
        if model is not None:
            metric[GEN_AI_REQUEST_MODEL] = model
        span = self._telemetry.tracer.start_span(
            f"{OPERATION_CHAT} {model}" if model else OPERATION_CHAT,
            kind=SpanKind.CLIENT,
            attributes=metric,
        )
        if not span.is_recording():
            return span, metric, None, {}
        state = current_call()
        found = _settings(request, stream)
        if state is not None:
            found[AETHER_ATTEMPT] = state.attempt()
        if self._telemetry.capture:
            _add_input(found, request)
        return span, metric, state, found

    def _ended(
        self,
        span: Span,
        metric: dict[str, Any],
        state: CallState | None,
        found: dict[str, Any],
        request: LLMRequest,
        duration: float,
        seen: _Seen | None,
        answer: LLMResponse | None,
        error: BaseException | None,
    ) -> None:
        telemetry = self._telemetry
        first = seen.first if seen is not None else None
        if answer is not None and answer.model:
            metric[GEN_AI_RESPONSE_MODEL] = answer.model
        if span.is_recording():
            if answer is not None:
                self._describe(found, request, answer, state, whole=error is None)
            if first is not None:
                found[GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = first
            kind = record_end(span, error, found)
        else:
            kind = _error_kind(error)
        span.end()
        if kind is not None:
            metric[ERROR_TYPE] = kind
        telemetry.duration.record(duration, metric)
        if first is not None:
            telemetry.first_chunk.record(first, metric)
        if answer is not None and error is None and (answer.input_tokens or answer.output_tokens):
            # New dicts: an SDK may keep the attributes it was given.
            telemetry.token_usage.record(
                answer.input_tokens, {**metric, GEN_AI_TOKEN_TYPE: TOKEN_TYPE_INPUT}
            )
            telemetry.token_usage.record(
                answer.output_tokens, {**metric, GEN_AI_TOKEN_TYPE: TOKEN_TYPE_OUTPUT}
            )

    def _describe(
        self,
        found: dict[str, Any],
        request: LLMRequest,
        answer: LLMResponse,
        state: CallState | None,
        *,
        whole: bool,
    ) -> None:
        """Add what the answer says to ``found``; ``whole=False``: a stream that ended early,
        as far as it came (its token counts only if the provider sent them before it ended)."""
        if answer.model:
            found[GEN_AI_RESPONSE_MODEL] = answer.model
        if answer.response_id:
            found[GEN_AI_RESPONSE_ID] = answer.response_id
        if answer.finish_reason is not None:
            found[GEN_AI_RESPONSE_FINISH_REASONS] = (answer.finish_reason,)
        if whole or answer.input_tokens or answer.output_tokens:
            found[GEN_AI_USAGE_INPUT_TOKENS] = answer.input_tokens
            found[GEN_AI_USAGE_OUTPUT_TOKENS] = answer.output_tokens
        if answer.cached_input_tokens:
            found[GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = answer.cached_input_tokens
        if answer.cache_write_tokens:
            found[GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] = answer.cache_write_tokens
        if answer.reasoning_tokens:
            found[GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = answer.reasoning_tokens
        cost = self._cost(request, answer)
        if cost is not None:
            found[AETHER_USAGE_COST] = cost
        if state is not None:
            state.input_tokens += answer.input_tokens
            state.output_tokens += answer.output_tokens
            if cost is not None:
                state.cost = (state.cost or 0.0) + cost
        if self._telemetry.capture:
            found[GEN_AI_OUTPUT_MESSAGES] = _content.output_messages(
                answer.text, answer.tool_calls, answer.finish_reason
            )

    def _cost(self, request: LLMRequest, answer: LLMResponse) -> float | None:
        prices = self._prices
        model = answer.model or request.model
        if prices is None or not model or not (answer.input_tokens or answer.output_tokens):
            return None
        return prices.cost(
            model,
            answer.input_tokens,
            answer.output_tokens,
            answer.cached_input_tokens,
            answer.cache_write_tokens,
        )


def _settings(request: LLMRequest, stream: bool) -> dict[str, Any]:
    """The request settings the conventions name (what Aether asked for)."""
    found: dict[str, Any] = {GEN_AI_REQUEST_STREAM: True} if stream else {}
    temperature = request.temperature
    if temperature is None:
        temperature = request.default_temperature
    if temperature is not None:
        found[GEN_AI_REQUEST_TEMPERATURE] = temperature
    if request.max_tokens is not None:
        found[GEN_AI_REQUEST_MAX_TOKENS] = request.max_tokens
    if request.top_p is not None:
        found[GEN_AI_REQUEST_TOP_P] = request.top_p
    if request.stop:
        found[GEN_AI_REQUEST_STOP_SEQUENCES] = tuple(request.stop)
    if request.seed is not None:
        found[GEN_AI_REQUEST_SEED] = request.seed
    if request.presence_penalty is not None:
        found[GEN_AI_REQUEST_PRESENCE_PENALTY] = request.presence_penalty
    if request.frequency_penalty is not None:
        found[GEN_AI_REQUEST_FREQUENCY_PENALTY] = request.frequency_penalty
    if request.output is not None:  # conditionally required: only when an output is asked for
        found[GEN_AI_OUTPUT_TYPE] = OUTPUT_TYPE_JSON
    return found


def _add_input(found: dict[str, Any], request: LLMRequest) -> None:
    system, messages = _content.input_messages(request.messages)
    found[GEN_AI_INPUT_MESSAGES] = messages
    if system is not None:
        found[GEN_AI_SYSTEM_INSTRUCTIONS] = system
    if request.tools:
        found[GEN_AI_TOOL_DEFINITIONS] = _content.tool_definitions(request.tools)


def _error_kind(error: BaseException | None) -> str | None:
    """``error.type`` for the metrics when the span records nothing."""
    if error is None or end_reason(error) == END_ABANDONED:
        return None
    return error_type(error)


class _Seen:
    """What a stream showed so far: enough to describe its answer when it ends."""

    __slots__ = ("finish", "first", "model", "parts", "response_id", "tool_calls", "usage")

    def __init__(self, keep_text: bool) -> None:
        self.first: float | None = None
        self.model: str | None = None
        self.response_id: str | None = None
        self.finish: Any = None
        self.usage: LLMStreamChunk | None = None
        self.parts: list[str] | None = [] if keep_text else None
        self.tool_calls: list[ToolCall] = []

    def add(self, chunk: LLMStreamChunk) -> None:
        if chunk.model:
            self.model = chunk.model
        if chunk.response_id:
            self.response_id = chunk.response_id
        if chunk.finish_reason is not None:
            self.finish = chunk.finish_reason
        if chunk.input_tokens or chunk.output_tokens:
            self.usage = chunk
        if chunk.tool_calls:
            self.tool_calls.extend(chunk.tool_calls)

    def answer(self) -> LLMResponse | None:
        """The answer as far as it came, as a response (None before the first chunk)."""
        if self.first is None:
            return None
        usage = self.usage
        return LLMResponse.model_construct(
            text="".join(self.parts) if self.parts is not None else "",
            model=self.model or "",
            response_id=self.response_id,
            finish_reason=self.finish,
            tool_calls=self.tool_calls,
            input_tokens=usage.input_tokens if usage is not None else 0,
            output_tokens=usage.output_tokens if usage is not None else 0,
            cached_input_tokens=usage.cached_input_tokens if usage is not None else 0,
            cache_write_tokens=usage.cache_write_tokens if usage is not None else 0,
            reasoning_tokens=usage.reasoning_tokens if usage is not None else 0,
        )
