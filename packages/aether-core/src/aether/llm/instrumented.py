"""Provider calls wrapped in lifecycle events; events are built only when someone listens.

The facade and the tool loop call providers only through these, so ``request.*`` fires around
every ``complete`` (each tool-loop iteration included) in exactly one place. Each call is also
one DEBUG line on ``aether.requests`` (provider, model, duration, tokens; never content, never
a key), written only when that level is on.

:func:`in_scopes` and :func:`stream_in_scopes` run one logical call inside the call scopes of
its bus (see :mod:`aether.events`); with none, they hand the work back untouched.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable
from time import perf_counter
from typing import TYPE_CHECKING, TypeVar

from aether.events import (
    REQUEST_COMPLETE,
    REQUEST_ERROR,
    REQUEST_START,
    STREAM_CHUNK,
    STREAM_COMPLETE,
    STREAM_ERROR,
    STREAM_START,
    CallInfo,
    EventBus,
    RequestComplete,
    RequestError,
    RequestStart,
    StreamChunk,
    StreamComplete,
    StreamError,
    StreamStart,
)
from aether.extensions.llm import _fallback_mark
from aether.extensions.llm._cache_call import served_from_cache
from aether.extensions.llm._layer import aclosing_stream, maybe_aclose, provider_name
from aether.llm.contracts import LLMProvider, LLMRequest, LLMResponse, LLMStreamChunk

if TYPE_CHECKING:
    from aether.events import CallKind, CallScope

__all__ = ["complete_with_events", "in_scopes", "stream_in_scopes", "stream_with_events"]

logger = logging.getLogger("aether.requests")
scope_logger = logging.getLogger("aether.events")

T = TypeVar("T")


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
        if logger.isEnabledFor(logging.DEBUG):
            _log_failure(_call_label(provider), request, perf_counter() - started, exc)
        if events.wants(REQUEST_ERROR):
            await events.emit(RequestError(request, exc, perf_counter() - started))
        raise
    if logger.isEnabledFor(logging.DEBUG):
        _log_answer(_call_label(provider), request, perf_counter() - started, response)
    if events.wants(REQUEST_COMPLETE):
        cached = served_from_cache(response)
        # No look-up at all in a program without a fallback chain: nothing is marked there.
        fallback = _fallback_by(response) if _fallback_mark.watching else None
        await events.emit(
            RequestComplete(request, response, perf_counter() - started, cached, fallback)
        )
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
    cached = False
    # Looked for only when a fallback chain exists in this program (nothing is marked else).
    watch_fallbacks = want_complete and _fallback_mark.watching
    fallback: str | None = None
    try:
        async with aclosing_stream(chunks) as source:
            async for chunk in source:
                if want_complete:
                    if chunk.text:
                        parts.append(chunk.text)
                    if not cached:
                        cached = served_from_cache(chunk)
                    if watch_fallbacks:
                        fallback = _fallback_by(chunk) or fallback
                last = chunk
                if want_chunks:
                    await events.emit(StreamChunk(request, chunk))
                yield chunk
    except Exception as exc:
        if logger.isEnabledFor(logging.DEBUG):
            _log_failure("A stream", request, perf_counter() - started, exc)
        if events.wants(STREAM_ERROR):
            await events.emit(StreamError(request, exc, perf_counter() - started))
        raise
    if logger.isEnabledFor(logging.DEBUG):
        _log_answer("A stream", request, perf_counter() - started, last)
    if want_complete:
        await events.emit(
            StreamComplete(
                request,
                text="".join(parts),
                finish_reason=last.finish_reason if last else None,
                input_tokens=last.input_tokens if last else 0,
                output_tokens=last.output_tokens if last else 0,
                duration_seconds=perf_counter() - started,
                cached=cached,
                fallback_provider=fallback,
            )
        )


def _fallback_by(answer: LLMResponse | LLMStreamChunk) -> str | None:
    """The name of the fallback that gave ``answer``; None when the configured provider did."""
    mark = _fallback_mark.fallback_of(answer)
    return mark.provider if mark is not None else None


# --- DEBUG lines ------------------------------------------------------------------------


def _call_label(provider: object) -> str:
    """``"openai complete"``: the provider under a stack's layers, for the log line."""
    name = provider_name(provider)
    return f"{name} complete" if name is not None else "A complete"


def _log_answer(
    label: str, request: LLMRequest, seconds: float, answer: LLMResponse | LLMStreamChunk | None
) -> None:
    # Metadata only: a message or a header could hold anything, a key included.
    logger.debug(
        "%s (model %s): %.3fs, %d input + %d output tokens, finish %s.",
        label,
        (answer.model if answer is not None else None) or request.model or "default",
        seconds,
        answer.input_tokens if answer is not None else 0,
        answer.output_tokens if answer is not None else 0,
        (answer.finish_reason if answer is not None else None) or "unknown",
    )


def _log_failure(label: str, request: LLMRequest, seconds: float, error: BaseException) -> None:
    logger.debug(
        "%s (model %s) failed after %.3fs with %s.",
        label,
        request.model or "default",
        seconds,
        type(error).__name__,
    )


# --- call scopes ------------------------------------------------------------------------


def in_scopes(
    events: EventBus,
    kind: CallKind,
    request: LLMRequest,
    provider: str | None,
    work: Awaitable[T],
) -> Awaitable[T]:
    """``work`` (one logical call) run inside the call scopes of ``events``; itself if none."""
    if not events.scopes:
        return work
    scopes = _open(events, kind, request, provider)
    return _scoped(scopes, work) if scopes else work


def stream_in_scopes(
    events: EventBus,
    kind: CallKind,
    request: LLMRequest,
    provider: str | None,
    items: AsyncIterator[T],
) -> AsyncIterator[T]:
    """``items`` (one logical stream) inside the call scopes of ``events``; itself if none.

    Each wait for the next item runs inside the scopes, and none of the consumer's code does.
    Closing what this returns closes ``items``.
    """
    if not events.scopes:
        return items
    scopes = _open(events, kind, request, provider)
    return _scoped_stream(scopes, items) if scopes else items


def _open(
    events: EventBus, kind: CallKind, request: LLMRequest, provider: str | None
) -> list[CallScope]:
    info = CallInfo(kind, request, provider)
    opened = []
    for factory in events.scopes:
        try:
            scope = factory(info)
        except Exception:
            scope_logger.exception("Scope factory %r raised; ignored.", factory)
            continue
        if scope is not None:
            opened.append(scope)
    return opened


def _enter(scopes: list[CallScope]) -> list[object]:
    tokens: list[object] = []
    for scope in scopes:
        try:
            tokens.append(scope.enter())
        except Exception:
            scope_logger.exception("Call scope %r raised entering; ignored.", scope)
            tokens.append(_NOT_ENTERED)
    return tokens


def _exit(scopes: list[CallScope], tokens: list[object]) -> None:
    for scope, token in zip(reversed(scopes), reversed(tokens), strict=True):
        if token is _NOT_ENTERED:
            continue
        try:
            scope.exit(token)
        except Exception:
            scope_logger.exception("Call scope %r raised leaving; ignored.", scope)


def _end(scopes: list[CallScope], error: BaseException | None) -> None:
    for scope in reversed(scopes):
        try:
            scope.end(error)
        except Exception:
            scope_logger.exception("Call scope %r raised ending; ignored.", scope)


_NOT_ENTERED = object()


async def _scoped(scopes: list[CallScope], work: Awaitable[T]) -> T:
    if len(scopes) == 1:  # the common case, without the lists
        return await _scoped_one(scopes[0], work)
    tokens = _enter(scopes)
    try:
        result = await work
    except BaseException as exc:
        _exit(scopes, tokens)
        _end(scopes, exc)
        raise
    _exit(scopes, tokens)
    _end(scopes, None)
    return result


async def _scoped_one(scope: CallScope, work: Awaitable[T]) -> T:
    token = _enter_one(scope)
    error: BaseException | None = None
    try:
        return await work
    except BaseException as exc:
        error = exc
        raise
    finally:
        _exit_one(scope, token)
        _end([scope], error)


async def _scoped_stream(scopes: list[CallScope], items: AsyncIterator[T]) -> AsyncIterator[T]:
    # One scope is the common case: its enter and exit are called directly, once per step.
    one = scopes[0] if len(scopes) == 1 else None
    error: BaseException | None = None
    finished = False
    try:
        while True:
            if one is not None:
                token = _enter_one(one)
                try:
                    item = await items.__anext__()
                except StopAsyncIteration:
                    finished = True
                    return
                finally:
                    _exit_one(one, token)
            else:
                tokens = _enter(scopes)
                try:
                    item = await items.__anext__()
                except StopAsyncIteration:
                    finished = True
                    return
                finally:
                    _exit(scopes, tokens)
            yield item
    except BaseException as exc:
        error = exc
        raise
    finally:
        if not finished:
            # Closed inside the scopes, so what the source ends (its spans) ends within them.
            tokens = _enter(scopes)
            try:
                await maybe_aclose(items)
            finally:
                _exit(scopes, tokens)
        _end(scopes, error)


def _enter_one(scope: CallScope) -> object:
    try:
        return scope.enter()
    except Exception:
        scope_logger.exception("Call scope %r raised entering; ignored.", scope)
        return _NOT_ENTERED


def _exit_one(scope: CallScope, token: object) -> None:
    if token is _NOT_ENTERED:
        return
    try:
        scope.exit(token)
    except Exception:
        scope_logger.exception("Call scope %r raised leaving; ignored.", scope)
