"""Attaching to clients and their event buses, and detaching again.

For each client: a :class:`~aether_otel._model.ModelCalls` layer directly around its provider,
and a listener on its response cache (when it has one), so a call's span marks a hit.
For each event bus (shared by the clients given the same ``events=``), once: the call scope,
the ``tool.*`` subscribers and the ``request.retry`` subscriber. All through public hooks:
``client.provider`` and the layers' ``inner``, ``EventBus.on`` and ``EventBus.add_scope``.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aether.events import REQUEST_RETRY, TOOL_COMPLETE, TOOL_ERROR, TOOL_START, EventBus
from aether.extensions.llm.builder import find_layer
from aether.extensions.llm.caching import CachingProvider
from aether.extensions.llm.cost_tracking import CostTrackingProvider
from aether_otel._calls import CallScopes, on_cache_hit, on_retry
from aether_otel._model import ModelCalls
from aether_otel._telemetry import Telemetry
from aether_otel._tools import ToolSpans

if TYPE_CHECKING:
    from aether import Aether

__all__ = ["Instrumentation"]

_MAX_DEPTH = 64  # a provider stack is a few layers deep; a cycle must not hang a client


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
        holder: Any = None
        current: Any = client.provider
        for _ in range(_MAX_DEPTH):
            if isinstance(current, ModelCalls):
                return _nothing  # a stack shared with a client instrumented already
            inner = getattr(current, "inner", None)
            if inner is None:
                break
            holder, current = current, inner
        cost = find_layer(client.provider, CostTrackingProvider)
        name = client.config.provider or getattr(current, "name", None) or type(current).__name__
        layer = ModelCalls(
            current,
            self.telemetry,
            provider=str(name),
            prices=cost.prices if cost is not None else None,
        )
        if holder is None:
            client.provider = layer
        else:
            holder.inner = layer

        def undo() -> None:
            if holder is None:
                if client.provider is layer:
                    client.provider = layer.inner
            elif holder.inner is layer:
                holder.inner = layer.inner

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
