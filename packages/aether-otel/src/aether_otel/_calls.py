"""The span around one logical call (core's call scope), and what the call's pieces add to it.

One ``aether.complete`` / ``aether.stream`` span per ``ask``, ``complete`` or stream: every
attempt of every model call, every tool round and every tool thread of the call nests under
it. Core enters the scope around the call's work (each wait for a chunk of a stream), so the
span is current for all of it and for none of the consumer's code between chunks.
"""

from __future__ import annotations

from typing import Any

from opentelemetry import context, trace
from opentelemetry.trace import Span, SpanKind

from aether.events import CallInfo, RequestRetry
from aether.llm.contracts import LLMRequest, LLMResponse, LLMStreamChunk
from aether_otel._conventions import (
    AETHER_CACHE_HIT,
    AETHER_CALL_MODEL,
    AETHER_CALL_MODEL_CALLS,
    AETHER_CALL_PROVIDER,
    AETHER_CALL_RETRIES,
    AETHER_CALL_SPAN,
    AETHER_RETRY_ATTEMPT,
    AETHER_RETRY_DELAY,
    AETHER_RETRY_EVENT,
    AETHER_USAGE_COST,
    AETHER_USAGE_INPUT_TOKENS,
    AETHER_USAGE_OUTPUT_TOKENS,
    ERROR_TYPE,
)
from aether_otel._telemetry import Telemetry, adds_context, error_type, record_end

__all__ = ["CallScopes", "CallSpan", "CallState", "current_call", "on_cache_hit", "on_retry"]

_CALL = context.create_key("aether_otel.call")


class CallState:
    """What the model calls of one logical call add up to, for its span."""

    __slots__ = (
        "cache_hits",
        "cost",
        "input_tokens",
        "model_calls",
        "next_attempt",
        "output_tokens",
        "retries",
    )

    def __init__(self) -> None:
        self.model_calls = self.retries = self.input_tokens = self.output_tokens = 0
        self.cache_hits = 0
        self.cost: float | None = None
        self.next_attempt = 1  # the attempt number of the next model call

    def attempt(self) -> int:
        """The number of the model call starting now (1, or the retry's); counts the call."""
        attempt, self.next_attempt = self.next_attempt, 1
        self.model_calls += 1
        return attempt


def current_call() -> CallState | None:
    """The state of the logical call the current context belongs to, if any."""
    return context.get_value(_CALL)  # type: ignore[return-value]


class CallScopes:
    """The scope factory added to each instrumented bus."""

    __slots__ = ("_telemetry",)

    def __init__(self, telemetry: Telemetry) -> None:
        self._telemetry = telemetry

    def __call__(self, info: CallInfo) -> CallSpan | None:
        model = info.request.model
        attributes: dict[str, str] = {}  # the kind is in the span's name
        if info.provider is not None:
            attributes[AETHER_CALL_PROVIDER] = info.provider
        if model is not None:
            attributes[AETHER_CALL_MODEL] = model
        span = self._telemetry.tracer.start_span(
            AETHER_CALL_SPAN.format(kind=info.kind), kind=SpanKind.INTERNAL, attributes=attributes
        )
        if not adds_context(span):
            return None  # a no-op tracer: nothing to record, nothing to propagate
        state = CallState()
        return CallSpan(span, context.set_value(_CALL, state, trace.set_span_in_context(span)))


class CallSpan:
    """One call's span; core enters and ends it (see :class:`aether.events.CallScope`)."""

    __slots__ = ("context", "span")

    def __init__(self, span: Span, ctx: context.Context) -> None:
        self.span = span
        self.context = ctx

    def enter(self) -> object:
        return context.attach(self.context)

    def exit(self, token: object, /) -> None:
        context.detach(token)  # type: ignore[arg-type]

    def end(self, error: BaseException | None, /) -> None:
        span = self.span
        if span.is_recording():
            state: CallState = self.context[_CALL]  # type: ignore[assignment]
            attributes: dict[str, Any] = {
                AETHER_CALL_MODEL_CALLS: state.model_calls,
                AETHER_CALL_RETRIES: state.retries,
                AETHER_USAGE_INPUT_TOKENS: state.input_tokens,
                AETHER_USAGE_OUTPUT_TOKENS: state.output_tokens,
            }
            if state.cost is not None:
                attributes[AETHER_USAGE_COST] = state.cost
            if state.cache_hits:
                attributes[AETHER_CACHE_HIT] = True
            record_end(span, error, attributes)
        span.end()


def on_retry(event: RequestRetry) -> None:
    """``request.retry``: a span event on the call's span, and the next attempt's number."""
    state = current_call()
    if state is not None:
        state.retries += 1
        state.next_attempt = event.attempt + 1
    span = trace.get_current_span()
    if span.is_recording():
        span.add_event(
            AETHER_RETRY_EVENT,
            {
                AETHER_RETRY_ATTEMPT: event.attempt,
                AETHER_RETRY_DELAY: event.delay_seconds,
                ERROR_TYPE: error_type(event.error),
            },
        )


def on_cache_hit(request: LLMRequest, answer: LLMResponse | LLMStreamChunk) -> None:
    """The client's response cache answered: the call's span says so when it ends.

    A listener of the cache layer (``CachingProvider.add_listener``), called in the call's
    context, where the call's state is current.
    """
    state = current_call()
    if state is not None:
        state.cache_hits += 1
