"""The event bus, the ten lifecycle events, ``request.retry``, and call scopes.

Subscribe sync or async callables to an event name. A subscriber that raises is logged and
never breaks the request; ``BaseException`` (cancellation, ``KeyboardInterrupt``) still
propagates. Events are only built when somebody listens (see :meth:`EventBus.wants`).

* ``request.start`` / ``request.complete`` / ``request.error``: around each provider
  ``complete`` call (each tool-loop iteration included).
* ``stream.start`` / ``stream.chunk`` / ``stream.complete`` / ``stream.error``: around one
  logical stream (tool rounds included), one ``stream.chunk`` per chunk.
* ``tool.start`` / ``tool.complete`` / ``tool.error``: around each tool dispatch.
* ``request.retry``: the retry layer the client built is about to wait and try a failed
  ``complete`` or stream handshake again (once per wait, before it): a call that needed
  retries is visible while it happens, not only once it fails. A fallback chain
  (``ProviderConfig(fallbacks=...)``) tells of each fall-over the same way, with
  ``fallback_provider`` naming the provider that is asked next.

``request.complete`` and ``stream.complete`` carry ``cached=True`` when the response cache
(:mod:`aether.extensions.llm.caching`) gave the answer; they fire for a hit as for a call.
With a fallback chain, their ``fallback_provider`` names the fallback that answered (None: the
configured provider did).

Subscribers run in the task doing the work, in its context: a context variable a ``tool.start``
subscriber sets is what the tool sees (a sync tool gets a copy on its thread), until the
``tool.complete`` or ``tool.error`` of that call, which fires whatever happens, cancellation
included.

Call scopes are the other half of in-process observation: :meth:`EventBus.add_scope` registers a
factory called at the start of each logical call (``ask``, ``complete``, a stream, a session's
call: retries, tool rounds and repairs included). What it returns (a :class:`CallScope`) is
entered around the call's work, each step of a stream on its own so that nothing leaks into the
consumer's code between chunks, and ended once, with why the call ended. A tracer opens its
parent span there, so everything the call does (retries, tool rounds, tool threads) nests under
it.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Final, Literal, Protocol, TypeVar, overload

if TYPE_CHECKING:
    from aether.llm.contracts import LLMRequest, LLMResponse, LLMStreamChunk, ToolCall

__all__ = [
    "ALL_EVENTS",
    "CallInfo",
    "CallKind",
    "CallScope",
    "Event",
    "EventBus",
    "REQUEST_COMPLETE",
    "REQUEST_ERROR",
    "REQUEST_RETRY",
    "REQUEST_START",
    "RequestComplete",
    "RequestError",
    "RequestRetry",
    "RequestStart",
    "STREAM_CHUNK",
    "STREAM_COMPLETE",
    "STREAM_ERROR",
    "STREAM_START",
    "ScopeFactory",
    "StreamChunk",
    "StreamComplete",
    "StreamError",
    "StreamStart",
    "Subscriber",
    "TOOL_COMPLETE",
    "TOOL_ERROR",
    "TOOL_START",
    "ToolComplete",
    "ToolError",
    "ToolStart",
]

logger = logging.getLogger("aether.events")

REQUEST_START: Final = "request.start"
REQUEST_COMPLETE: Final = "request.complete"
REQUEST_ERROR: Final = "request.error"
REQUEST_RETRY: Final = "request.retry"
STREAM_START: Final = "stream.start"
STREAM_CHUNK: Final = "stream.chunk"
STREAM_COMPLETE: Final = "stream.complete"
STREAM_ERROR: Final = "stream.error"
TOOL_START: Final = "tool.start"
TOOL_COMPLETE: Final = "tool.complete"
TOOL_ERROR: Final = "tool.error"

ALL_EVENTS: Final = (
    REQUEST_START,
    REQUEST_COMPLETE,
    REQUEST_ERROR,
    REQUEST_RETRY,
    STREAM_START,
    STREAM_CHUNK,
    STREAM_COMPLETE,
    STREAM_ERROR,
    TOOL_START,
    TOOL_COMPLETE,
    TOOL_ERROR,
)


@dataclass(frozen=True, slots=True)
class Event:
    """Base of every event; ``name`` is one of :data:`ALL_EVENTS`."""

    name: ClassVar[str] = ""


@dataclass(frozen=True, slots=True)
class RequestStart(Event):
    request: LLMRequest
    name: ClassVar[str] = REQUEST_START


@dataclass(frozen=True, slots=True)
class RequestComplete(Event):
    """A model call answered.

    Attributes:
        request: The request sent.
        response: The answer.
        duration_seconds: From the call to its answer, retries and fall-overs included.
        cached: The response cache gave the answer, not a provider.
        fallback_provider: The name of the fallback of a chain (``ProviderConfig(
            fallbacks=...)``) that answered; None when the configured provider did.
    """

    request: LLMRequest
    response: LLMResponse
    duration_seconds: float
    cached: bool = False
    fallback_provider: str | None = None
    name: ClassVar[str] = REQUEST_COMPLETE


@dataclass(frozen=True, slots=True)
class RequestError(Event):
    request: LLMRequest
    error: BaseException
    duration_seconds: float
    name: ClassVar[str] = REQUEST_ERROR


@dataclass(frozen=True, slots=True)
class RequestRetry(Event):
    """A call failed and is about to be tried again, after ``delay_seconds``.

    Either by the same provider (a retry), or, when ``fallback_provider`` is set, by the next
    provider of a fallback chain, at once: the provider that answers a call is the last
    ``fallback_provider`` told of, else the configured one.

    Attributes:
        request: The request being retried (a stream's too: only its handshake is retried).
        provider: The provider's name (of the one that failed), when known.
        model: The model asked for, when the request names it.
        attempt: The attempt that failed, from 1; the next one is ``attempt + 1``. For a
            fall-over, the failed provider's last attempt (its retries included).
        delay_seconds: How long the retry layer waits before it (0 for a fall-over).
        error: What the failed attempt raised.
        fallback_provider: The provider asked next, for a fall-over; None for a retry.
        fallback_model: The model asked of ``fallback_provider`` (None: its default).
    """

    request: LLMRequest
    provider: str | None
    model: str | None
    attempt: int
    delay_seconds: float
    error: BaseException
    fallback_provider: str | None = None
    fallback_model: str | None = None
    name: ClassVar[str] = REQUEST_RETRY


@dataclass(frozen=True, slots=True)
class StreamStart(Event):
    request: LLMRequest
    name: ClassVar[str] = STREAM_START


@dataclass(frozen=True, slots=True)
class StreamChunk(Event):
    request: LLMRequest
    chunk: LLMStreamChunk
    name: ClassVar[str] = STREAM_CHUNK


@dataclass(frozen=True, slots=True)
class StreamComplete(Event):
    """A stream ran to its end.

    Attributes:
        request: The stream's first request (tool rounds send follow-ups of it).
        text: All the text it showed.
        finish_reason: Why its last model call stopped.
        input_tokens: The tokens its last chunk counts (with tool rounds: all of them).
        output_tokens: Likewise, of output.
        duration_seconds: From its start to its end.
        cached: The response cache replayed it (with tool rounds: at least one of its model
            calls).
        fallback_provider: The name of the fallback of a chain (``ProviderConfig(
            fallbacks=...)``) whose chunks it showed (with tool rounds: the latest one that
            answered); None when the configured provider answered.
    """

    request: LLMRequest
    text: str
    finish_reason: str | None
    input_tokens: int
    output_tokens: int
    duration_seconds: float
    cached: bool = False
    fallback_provider: str | None = None
    name: ClassVar[str] = STREAM_COMPLETE


@dataclass(frozen=True, slots=True)
class StreamError(Event):
    request: LLMRequest
    error: BaseException
    duration_seconds: float
    name: ClassVar[str] = STREAM_ERROR


@dataclass(frozen=True, slots=True)
class ToolStart(Event):
    call: ToolCall
    name: ClassVar[str] = TOOL_START


@dataclass(frozen=True, slots=True)
class ToolComplete(Event):
    call: ToolCall
    result: str
    duration_seconds: float
    name: ClassVar[str] = TOOL_COMPLETE


@dataclass(frozen=True, slots=True)
class ToolError(Event):
    """A tool call failed (``error`` is a :class:`~aether.errors.ToolError`), or was cancelled
    (``error`` is the ``asyncio.CancelledError``) before it finished."""

    call: ToolCall
    error: BaseException
    duration_seconds: float
    name: ClassVar[str] = TOOL_ERROR


Subscriber = Callable[[Any], None] | Callable[[Any], Awaitable[None]]
S = TypeVar("S", bound=Subscriber)

CallKind = Literal["complete", "stream"]
"""``complete``: ask, complete, a session's ask; ``stream``: every streaming method."""


@dataclass(frozen=True, slots=True)
class CallInfo:
    """One logical call, as a scope factory is told of it when it starts.

    Attributes:
        kind: Whether the answer comes whole or streamed (:data:`CallKind`).
        request: The call's first request; tool rounds and repairs send follow-ups of it.
        provider: The provider's name, when the client knows it.
    """

    kind: CallKind
    request: LLMRequest
    provider: str | None


class CallScope(Protocol):
    """What a scope factory opens for one call: entered around its work, then ended once.

    ``enter`` and ``exit`` come in pairs in one task and one context, around the whole of a
    call that answers at once, or around each step of a stream (the wait for each chunk), so
    a context variable set in ``enter`` is seen by everything the call runs, tool threads
    included, and by nothing of the consumer's. What a scope raises is logged and ignored.
    """

    def enter(self) -> object:
        """Make the call current; return what ``exit`` needs to undo it."""
        ...

    def exit(self, token: object, /) -> None:
        """Undo the ``enter`` that returned ``token``."""
        ...

    def end(self, error: BaseException | None, /) -> None:
        """The call is over: None if it succeeded, else what ended it.

        ``asyncio.CancelledError`` when it was cancelled (a timeout too), ``GeneratorExit``
        when the consumer closed a stream before its end, otherwise the error it raised.
        """
        ...


ScopeFactory = Callable[[CallInfo], "CallScope | None"]
"""Called at the start of each logical call; returns its scope, or None to stay out of it."""


class EventBus:
    """Routes lifecycle events to subscribers. Share one across clients with ``events=bus``."""

    __slots__ = ("__weakref__", "_scopes", "_subscribers")

    def __init__(self) -> None:
        self._subscribers: dict[str, list[Subscriber]] = {}
        self._scopes: tuple[ScopeFactory, ...] = ()

    def __repr__(self) -> str:
        counts = {name: len(subs) for name, subs in self._subscribers.items() if subs}
        scopes = f", scopes={len(self._scopes)}" if self._scopes else ""
        return f"EventBus({counts}{scopes})"

    @property
    def scopes(self) -> tuple[ScopeFactory, ...]:
        """The scope factories, in the order they were added (see the module docs)."""
        return self._scopes

    def add_scope(self, factory: ScopeFactory) -> ScopeFactory:
        """Open a scope from ``factory`` around every logical call of the clients on this bus.

        Returns ``factory``, so it works as a decorator.
        """
        if not callable(factory):
            raise TypeError(f"A scope factory must be callable, got {factory!r}.")
        # Replaced, not changed in place: a call opening its scopes never sees the tuple change.
        self._scopes = (*self._scopes, factory)
        return factory

    def remove_scope(self, factory: ScopeFactory) -> None:
        """Stop opening scopes from ``factory``; unknown factories are an error."""
        if factory not in self._scopes:
            raise ValueError(f"{factory!r} is not a scope factory of this bus.")
        remaining = list(self._scopes)
        remaining.remove(factory)
        self._scopes = tuple(remaining)

    @overload
    def on(self, event: str) -> Callable[[S], S]: ...

    @overload
    def on(self, event: str, callback: S) -> S: ...

    def on(self, event: str, callback: S | None = None) -> S | Callable[[S], S]:
        """Subscribe ``callback`` to ``event``; without a callback, works as a decorator."""
        _check_name(event)
        if callback is None:

            def decorator(fn: S) -> S:
                self._add(event, fn)
                return fn

            return decorator
        self._add(event, callback)
        return callback

    def _add(self, event: str, callback: Subscriber) -> None:
        if not callable(callback):
            raise TypeError(f"Subscriber for {event!r} must be callable, got {callback!r}.")
        # Copy-on-write so an emit in progress never sees the list change under it.
        self._subscribers[event] = [*self._subscribers.get(event, ()), callback]

    def off(self, event: str, callback: Subscriber) -> None:
        """Unsubscribe ``callback`` from ``event``; unknown callbacks are an error."""
        _check_name(event)
        current = self._subscribers.get(event, [])
        if callback not in current:
            raise ValueError(f"{callback!r} is not subscribed to {event!r}.")
        remaining = list(current)
        remaining.remove(callback)
        self._subscribers[event] = remaining

    def wants(self, event: str) -> bool:
        """True when ``event`` has subscribers (so callers can skip building the payload)."""
        return bool(self._subscribers.get(event))

    async def emit(self, event: Event) -> None:
        """Deliver ``event`` to its subscribers, in subscription order."""
        for callback in self._subscribers.get(event.name, ()):
            try:
                result = callback(event)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                logger.exception("Subscriber %r for %r raised; ignored.", callback, event.name)


def _check_name(event: str) -> None:
    if event not in ALL_EVENTS:
        raise ValueError(f"Unknown event {event!r}; expected one of: {', '.join(ALL_EVENTS)}.")
