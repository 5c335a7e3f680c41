"""One ``execute_tool`` span per tool call, from the ``tool.*`` events.

``tool.start`` and the ``tool.complete`` / ``tool.error`` of the same call fire in the task
that runs it, so the span is made current there between the two: the tool's own spans (on its
worker thread too, which runs in a copy of that context) nest under it.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import NamedTuple

from opentelemetry import context, trace
from opentelemetry.trace import Span, SpanKind

from aether.events import ToolComplete, ToolError, ToolStart
from aether_otel._content import dumps
from aether_otel._conventions import (
    GEN_AI_OPERATION_NAME,
    GEN_AI_TOOL_CALL_ARGUMENTS,
    GEN_AI_TOOL_CALL_ID,
    GEN_AI_TOOL_CALL_RESULT,
    GEN_AI_TOOL_NAME,
    GEN_AI_TOOL_TYPE,
    OPERATION_EXECUTE_TOOL,
    TOOL_TYPE_FUNCTION,
)
from aether_otel._telemetry import Telemetry, record_end

__all__ = ["ToolSpans"]


class _Open(NamedTuple):
    span: Span
    token: object
    outer: _Open | None  # the tool span this one runs inside, if any


_open: ContextVar[_Open | None] = ContextVar("aether_otel_tool", default=None)


class ToolSpans:
    """The ``tool.*`` subscribers of one instrumented bus."""

    __slots__ = ("_telemetry",)

    def __init__(self, telemetry: Telemetry) -> None:
        self._telemetry = telemetry

    def start(self, event: ToolStart) -> None:
        call = event.call
        span = self._telemetry.tracer.start_span(
            f"{OPERATION_EXECUTE_TOOL} {call.name}",
            kind=SpanKind.INTERNAL,
            attributes={
                GEN_AI_OPERATION_NAME: OPERATION_EXECUTE_TOOL,
                GEN_AI_TOOL_NAME: call.name,
                GEN_AI_TOOL_CALL_ID: call.id,
                GEN_AI_TOOL_TYPE: TOOL_TYPE_FUNCTION,
            },
        )
        if self._telemetry.capture and span.is_recording():
            span.set_attribute(GEN_AI_TOOL_CALL_ARGUMENTS, dumps(call.arguments))
        token = context.attach(trace.set_span_in_context(span))
        _open.set(_Open(span, token, _open.get()))

    def complete(self, event: ToolComplete) -> None:
        span = self._close()
        if span is None:
            return
        if span.is_recording():
            capture = self._telemetry.capture
            record_end(span, None, {GEN_AI_TOOL_CALL_RESULT: event.result} if capture else {})
        span.end()

    def error(self, event: ToolError) -> None:
        span = self._close()
        if span is None:
            return
        if span.is_recording():
            # A tool's error message is its output: content, recorded only when capture is on.
            record_end(span, event.error, {}, exception=self._telemetry.capture)
        span.end()

    @staticmethod
    def _close() -> Span | None:
        """The current tool call's span, no longer current."""
        entry = _open.get()
        if entry is None:
            return None
        context.detach(entry.token)  # type: ignore[arg-type]
        _open.set(entry.outer)
        return entry.span
