"""Provider calls wrapped in lifecycle events; events are built only when someone listens.

The facade and the tool loop call providers only through these, so ``request.*`` fires around
every ``complete`` (each tool-loop iteration included) in exactly one place.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from time import perf_counter

from aether.events import (
    REQUEST_COMPLETE,
    REQUEST_ERROR,
    REQUEST_START,
    STREAM_CHUNK,
    STREAM_COMPLETE,
    STREAM_ERROR,
    STREAM_START,
    EventBus,
    RequestComplete,
    RequestError,
    RequestStart,
    StreamChunk,
    StreamComplete,
    StreamError,
    StreamStart,
)
from aether.extensions.llm._layer import aclosing_stream
from aether.llm.contracts import LLMProvider, LLMRequest, LLMResponse, LLMStreamChunk

__all__ = ["complete_with_events", "stream_with_events"]


async def complete_with_events(
    provider: LLMProvider, request: LLMRequest, events: EventBus
) -> LLMResponse:
    """``provider.complete(request)`` between ``request.start`` and ``request.complete|error``."""
    if events.wants(REQUEST_START):
        await events.emit(RequestStart(request))
    started = perf_counter()
    try:
        response = await provider.complete(request)
    except Exception as exc:
        if events.wants(REQUEST_ERROR):
            await events.emit(RequestError(request, exc, perf_counter() - started))
        raise
    if events.wants(REQUEST_COMPLETE):
        await events.emit(RequestComplete(request, response, perf_counter() - started))
    return response


async def stream_with_events(
    chunks: AsyncIterator[LLMStreamChunk], request: LLMRequest, events: EventBus
) -> AsyncIterator[LLMStreamChunk]:
    """One logical stream: ``stream.start`` once, a ``stream.chunk`` per chunk, then
    ``stream.complete`` or ``stream.error`` once. A consumer that stops early closes the source."""
    if events.wants(STREAM_START):
        await events.emit(StreamStart(request))
    started = perf_counter()
    want_chunks = events.wants(STREAM_CHUNK)
    want_complete = events.wants(STREAM_COMPLETE)
    parts: list[str] = []
    last: LLMStreamChunk | None = None
    try:
        async with aclosing_stream(chunks) as source:
            async for chunk in source:
                if want_complete and chunk.text:
                    parts.append(chunk.text)
                last = chunk
                if want_chunks:
                    await events.emit(StreamChunk(request, chunk))
                yield chunk
    except Exception as exc:
        if events.wants(STREAM_ERROR):
            await events.emit(StreamError(request, exc, perf_counter() - started))
        raise
    if want_complete:
        await events.emit(
            StreamComplete(
                request,
                text="".join(parts),
                finish_reason=last.finish_reason if last else None,
                input_tokens=last.input_tokens if last else 0,
                output_tokens=last.output_tokens if last else 0,
                duration_seconds=perf_counter() - started,
            )
        )
