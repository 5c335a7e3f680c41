"""Attaching to clients and their event buses, and detaching again.

For each client: a :class:`~aether_otel._model.ModelCalls` layer directly around each of its
bare providers (the fallbacks of a chain included, so a call a fallback answered has a ``chat``
span naming that provider and its server), and a listener on its response cache (when it has
one), so a call's span marks a hit. For each event bus (shared by the clients given the same
``events=``), once: the call scope, the ``tool.*`` subscribers and the ``request.retry``
subscriber. All through public hooks: ``client.provider`` and
:func:`~aether.extensions.llm.wrap_providers`, ``EventBus.on`` and ``EventBus.add_scope``.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aether.events import REQUEST_RETRY, TOOL_COMPLETE, TOOL_ERROR, TOOL_START, EventBus
from aether.extensions.llm import find_layer, wrap_providers
from aether.extensions.llm.caching import CachingProvider
from aether.extensions.llm.cost_tracking import CostTrackingProvider
from aether.llm.contracts import LLMProvider
from aether_otel._calls import CallScopes, on_cache_hit, on_retry
from aether_otel._model import ModelCalls
from aether_otel._telemetry import Telemetry
from aether_otel._tools import ToolSpans

if TYPE_CHECKING:
    from aether import Aether

__all__ = ["Instrumentation"]


class Instrumentation:
    """One :func:`aether_otel.instrument`: what it attached, so it can be taken off."""

    def __init__(self, telemetry: Telemetry) -> None:
        self.telemetry = telemetry
        self._clients: weakref.WeakKeyDictionary[Aether, Callable[[], None]] = (
            weakref.WeakKeyDictionary()
        )
        self._buses: weakref.WeakKeyDictionary[EventBus, Callable[[], None]] = (
            weakref.WeakKeyDictionary()
        )

    def attach(self, client: Aether) -> None:
        """Instrument ``client`` (again is a no-op)."""
        if client in self._clients:
            return
        undo_provider = self._wrap_provider(client)
        undo_cache = _hear_cache(client)

        def undo() -> None:
            undo_provider()
            undo_cache()

        self._clients[client] = undo
        bus = client.events
        if bus not in self._buses:
            self._buses[bus] = self._hook_bus(bus)

    def detach_all(self) -> None:
        """Take everything off again: clients keep working as if never instrumented."""
        for undo in [*self._clients.values(), *self._buses.values()]:
            undo()
        self._clients.clear()
        self._buses.clear()

    def _wrap_provider(self, client: Aether) -> Callable[[], None]:
        """A :class:`ModelCalls` around each bare provider of the client's stack."""
        stack = client.provider
        if find_layer(stack, ModelCalls) is not None:
            return _nothing  # a stack shared with a client instrumented already
        cost = find_layer(stack, CostTrackingProvider)
        prices = cost.prices if cost is not None else None
        telemetry = self.telemetry

        def wrap(provider: LLMProvider, name: str | None) -> LLMProvider:
            label = name or type(provider).__name__
            return ModelCalls(provider, telemetry, provider=label, prices=prices)

        # The configured name first, as the client's own errors and call span say it.
        wrapped, unwrap = wrap_providers(stack, wrap, name=client.config.provider)
        if wrapped is not stack:  # the stack is a bare provider: its wrapper takes its place
            client.provider = wrapped

        def undo() -> None:
            unwrap()
            if wrapped is not stack and client.provider is wrapped:
                client.provider = stack

        return undo

    def _hook_bus(self, bus: EventBus) -> Callable[[], None]:
        scopes = CallScopes(self.telemetry)
        tools = ToolSpans(self.telemetry)
        subscribers: list[tuple[str, Callable[[Any], None]]] = [
            (TOOL_START, tools.start),
            (TOOL_COMPLETE, tools.complete),
            (TOOL_ERROR, tools.error),
            (REQUEST_RETRY, on_retry),
        ]
        bus.add_scope(scopes)
        for name, callback in subscribers:
            bus.on(name, callback)

        def undo() -> None:
            bus.remove_scope(scopes)
            for name, callback in subscribers:
                bus.off(name, callback)

        return undo


def _hear_cache(client: Aether) -> Callable[[], None]:
    """Listen to the client's response cache, once per cache however many clients share it."""
    cache = find_layer(client.provider, CachingProvider)
    if cache is None or on_cache_hit in cache.listeners:
        return _nothing
    cache.add_listener(on_cache_hit)

    def undo() -> None:
        if on_cache_hit in cache.listeners:
            cache.remove_listener(on_cache_hit)

    return undo


def _nothing() -> None:
    return None
