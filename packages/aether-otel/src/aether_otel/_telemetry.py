"""The tracer, the instruments and the settings every span of one instrumentation shares."""

from __future__ import annotations

import asyncio
import importlib.metadata
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.trace import Span, Status, StatusCode

from aether_otel._conventions import (
    AETHER_END_REASON,
    END_ABANDONED,
    END_CANCELLED,
    END_COMPLETED,
    END_ERROR,
    ERROR_CANCELLED,
    ERROR_TYPE,
    METRIC_OPERATION_DURATION,
    METRIC_TIME_TO_FIRST_CHUNK,
    METRIC_TOKEN_USAGE,
    SCHEMA_URL,
    SECONDS_BUCKETS,
    TOKEN_BUCKETS,
)

__all__ = ["Telemetry", "adds_context", "end_reason", "error_type", "record_end"]

NAME = "aether_otel"


class Telemetry:
    """What one :func:`aether_otel.instrument` call set up.

    Args:
        tracer_provider: Where spans go; None: the global provider.
        meter_provider: Where metrics go; None: the global provider.
        capture: Whether content (messages, tool arguments and results) is recorded.
    """

    __slots__ = ("capture", "duration", "first_chunk", "metrics_dropped", "token_usage", "tracer")

    def __init__(
        self,
        tracer_provider: trace.TracerProvider | None,
        meter_provider: metrics.MeterProvider | None,
        *,
        capture: bool,
    ) -> None:
        version = importlib.metadata.version("aether-otel")
        self.capture = capture
        self.tracer = trace.get_tracer(
            NAME, version, tracer_provider=tracer_provider, schema_url=SCHEMA_URL
        )
        meter = metrics.get_meter(
            NAME, version, meter_provider=meter_provider, schema_url=SCHEMA_URL
        )
        self.token_usage = meter.create_histogram(
            METRIC_TOKEN_USAGE,
            unit="{token}",
            description="Number of input and output tokens used.",
            explicit_bucket_boundaries_advisory=TOKEN_BUCKETS,
        )
        self.duration = meter.create_histogram(
            METRIC_OPERATION_DURATION,
            unit="s",
            description="GenAI operation duration.",
            explicit_bucket_boundaries_advisory=SECONDS_BUCKETS,
        )
        self.first_chunk = meter.create_histogram(
            METRIC_TIME_TO_FIRST_CHUNK,
            unit="s",
            description="Time to receive the first chunk of a streamed answer.",
            explicit_bucket_boundaries_advisory=SECONDS_BUCKETS,
        )
        # A no-op meter (set explicitly; the global proxy may still be replaced) drops every
        # point: then a call whose span records nothing needs no watching at all.
        self.metrics_dropped = all(
            isinstance(instrument, metrics.NoOpHistogram)
            for instrument in (self.token_usage, self.duration, self.first_chunk)
        )


def adds_context(span: Span) -> bool:
    """Whether making ``span`` current changes anything.

    A no-op tracer hands back the current span's context: activating it again would only
    cost time. A span a sampler dropped is new, and must be current so its children are
    dropped with it.
    """
    return span.is_recording() or (
        span.get_span_context() is not trace.get_current_span().get_span_context()
    )


def error_type(error: BaseException) -> str:
    """``error.type``: the exception's class name; ``cancelled`` for a cancellation."""
    if isinstance(error, asyncio.CancelledError):
        return ERROR_CANCELLED
    return type(error).__qualname__


def end_reason(error: BaseException | None) -> str:
    """``aether.end_reason`` for an operation that ended with ``error`` (None: success)."""
    if error is None:
        return END_COMPLETED
    if isinstance(error, asyncio.CancelledError):
        return END_CANCELLED
    if isinstance(error, GeneratorExit):
        return END_ABANDONED
    return END_ERROR


def record_end(
    span: Span,
    error: BaseException | None,
    attributes: dict[str, Any],
    *,
    exception: bool = True,
) -> str | None:
    """Set every attribute in ``attributes``, with how the operation ended, on ``span`` (not
    ended here); returns its ``error.type``.

    One ``set_attributes`` call, not one per attribute: an SDK span takes a lock for each.
    ``aether.end_reason`` is left out for a completed operation (the common case costs one
    attribute less). An abandoned stream is no error: its consumer stopped reading.
    ``exception=False`` leaves the exception event out (its message may hold content).
    """
    kind = None
    if error is not None:
        reason = attributes[AETHER_END_REASON] = end_reason(error)
        if reason != END_ABANDONED:
            kind = attributes[ERROR_TYPE] = error_type(error)
    if attributes:
        span.set_attributes(attributes)
    if kind is not None:
        span.set_status(Status(StatusCode.ERROR, kind))
        if exception and reason == END_ERROR:
            span.record_exception(error)  # type: ignore[arg-type]
    return kind
