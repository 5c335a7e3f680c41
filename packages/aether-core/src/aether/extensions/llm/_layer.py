"""``ProviderLayer``: what every provider decorator shares (``inner``, passthroughs, closing).

A layer wraps one :class:`~aether.llm.LLMProvider` and is one itself, so layers compose in
any order. Attributes a caller may read through the stack (``default_model``) and resource
clean-up (``aclose``) pass through to the wrapped provider.

A stack is read through its layers' ``inner``: :func:`find_layer` finds a layer,
:func:`provider_name` the provider's name, and :func:`wrap_providers` puts a wrapper of one's
own (a tracer's) directly around each bare provider, those of a fallback chain included.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from aether.llm.contracts import LLMProvider

if TYPE_CHECKING:
    from aether.extensions.llm.fallback import FallbackProvider

__all__ = [
    "ProviderLayer",
    "ProviderWrap",
    "aclosing_stream",
    "find_layer",
    "maybe_aclose",
    "provider_name",
    "wrap_providers",
]

L = TypeVar("L")
T = TypeVar("T")

_MAX_DEPTH = 64  # a stack is a few layers deep; a cycle must not hang whoever walks it

ProviderWrap = Callable[[LLMProvider, str | None], LLMProvider]
"""What :func:`wrap_providers` calls for each bare provider: ``wrap(provider, name)`` returns
what the stack calls instead (``provider`` itself: leave it); ``name`` is the provider's
registered name, None when the stack does not say."""


async def maybe_aclose(resource: object) -> None:
    """Await ``resource.aclose()`` when it has one (an async generator, a provider, a client).

    The contract types a stream as an ``AsyncIterator`` and a provider as a protocol without
    ``aclose``, so closing one early is done only when it can be.
    """
    close = getattr(resource, "aclose", None)
    if close is not None:
        await close()


class aclosing_stream(Generic[T]):  # lower-case like contextlib.aclosing, which it mirrors
    """``contextlib.aclosing`` for any async iterator: closes it on exit when it can be closed.

    The provider contract types ``stream`` as an ``AsyncIterator`` (an async generator in
    practice); this closes an async generator early (so an abandoned stream releases its
    connection at once) and tolerates an iterator without ``aclose``.
    """

    __slots__ = ("_stream",)

    def __init__(self, stream: AsyncIterator[T]) -> None:
        self._stream = stream

    async def __aenter__(self) -> AsyncIterator[T]:
        return self._stream

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await maybe_aclose(self._stream)


class ProviderLayer:
    """Base of the provider decorators: holds ``inner`` and forwards what is not its business.

    Args:
        inner: The provider this layer wraps.
    """

    __slots__ = ("inner",)

    def __init__(self, inner: LLMProvider) -> None:
        self.inner = inner

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.inner!r})"

    @property
    def default_model(self) -> str:
        """The wrapped provider's default model; ``AttributeError`` when it has none."""
        return self.inner.default_model  # type: ignore[attr-defined,no-any-return]

    async def aclose(self) -> None:
        """Close the wrapped provider (its HTTP client), when it can be closed."""
        await maybe_aclose(self.inner)


def find_layer(provider: object, cls: type[L]) -> L | None:
    """Return the first layer of type ``cls`` in the stack, walking ``.inner`` outwards-in.

    ``find_layer(stack, CostTrackingProvider).usage`` is how ``client.usage`` is read.
    """
    seen: set[int] = set()
    current: object | None = provider
    while current is not None and id(current) not in seen:
        if isinstance(current, cls):
            return current
        seen.add(id(current))
        current = getattr(current, "inner", None)
    return None


def provider_name(stack: object) -> str | None:
    """The registered name of the provider under a stack's layers, when the stack says.

    The first non-empty ``name`` walking ``inner`` outwards-in: a circuit breaker the builder
    made carries the name the provider was configured by, else the provider its own.
    """
    current: object | None = stack
    for _ in range(_MAX_DEPTH):
        name = getattr(current, "name", None)
        if isinstance(name, str) and name:
            return name
        current = getattr(current, "inner", None)
        if current is None:
            break
    return None


def wrap_providers(
    stack: LLMProvider, wrap: ProviderWrap, *, name: str | None = None
) -> tuple[LLMProvider, Callable[[], None]]:
    """Put ``wrap(provider, name)`` in place of each bare provider of ``stack``.

    A bare provider is the end of an ``inner`` chain; a
    :class:`~aether.extensions.llm.fallback.FallbackProvider` on the way holds one chain per
    provider of its fallback chain, and each is followed, so a wrapper sees every call that
    reaches a provider, whichever provider answers. Each provider is named by its registered
    name: a fallback chain's by its target's name, any other by :func:`provider_name`.

    A wrapper put in by this call is not wrapped again when chains share a layer.

    Args:
        stack: The provider stack (``client.provider``).
        wrap: Returns what replaces each bare provider (see :data:`ProviderWrap`).
        name: The registered name of the provider reached through ``inner`` alone (the only
            one of a plain stack, the first of a fallback chain), when the caller knows it
            better than the stack does (``client.config.provider``).

    Returns:
        The stack to use from now on (``stack`` itself, unless it is a bare provider: then
        its wrapper), and a callable that takes every wrapper out again (one that was
        replaced meanwhile is left alone). A wrapper returned in place of ``stack`` is the
        caller's to take out.
    """
    # Here, not at the top: fallback.py imports this module (and a plain stack needs none of it).
    from aether.extensions.llm.fallback import FallbackProvider

    wrapping = _Wrapping(wrap, FallbackProvider)
    wrapped = wrapping.chain(stack, name)

    def undo() -> None:
        for step in reversed(wrapping.undo):
            step()
        wrapping.undo.clear()

    return wrapped, undo


class _Wrapping:
    """One :func:`wrap_providers` call: the wrappers it made, and how to take each out."""

    __slots__ = ("chain_type", "made", "undo", "wrap")

    def __init__(self, wrap: ProviderWrap, chain_type: type[FallbackProvider]) -> None:
        self.wrap = wrap
        self.chain_type = chain_type
        self.made: set[int] = set()  # ids of the wrappers this call put in
        self.undo: list[Callable[[], None]] = []

    def chain(self, top: LLMProvider, name: str | None) -> LLMProvider:
        """Wrap the bare provider at the end of ``top``'s ``inner`` chain (and each stack of
        a fallback chain met on the way); returns what replaces ``top``."""
        holder: Any = None
        current: Any = top
        for _ in range(_MAX_DEPTH):
            if id(current) in self.made:
                return top  # a layer shared with a chain wrapped already
            if isinstance(current, self.chain_type):
                self._fallbacks(current, name)
                return top
            inner = getattr(current, "inner", None)
            if inner is None:
                break
            holder, current = current, inner
        else:
            return top  # no end in sight: a cycle, not a stack
        replacement = self.wrap(current, name if name is not None else provider_name(top))
        if replacement is current:
            return top
        self.made.add(id(replacement))
        if holder is None:
            return replacement
        holder.inner = replacement

        def undo() -> None:
            if holder.inner is replacement:
                holder.inner = current

        self.undo.append(undo)
        return top

    def _fallbacks(self, layer: FallbackProvider, name: str | None) -> None:
        """Wrap the providers of each stack of ``layer``'s chain, the first one included."""
        primary = layer.primary
        first = self.chain(layer.inner, name if name is not None else primary.name)
        if first is not layer.inner:  # the first stack is a bare provider: swap the target
            given, layer.inner = layer.inner, first
            layer.primary = dataclasses.replace(primary, provider=first)

            def undo_first() -> None:
                if layer.inner is first:
                    layer.inner, layer.primary = given, primary

            self.undo.append(undo_first)
        for index, target in enumerate(layer.fallbacks):
            top = self.chain(target.provider, target.name)
            if top is target.provider:
                continue
            layer.fallbacks = _replaced(
                layer.fallbacks, index, dataclasses.replace(target, provider=top)
            )

            def undo_fallback(
                index: int = index, top: LLMProvider = top, target: Any = target
            ) -> None:
                if layer.fallbacks[index].provider is top:
                    layer.fallbacks = _replaced(layer.fallbacks, index, target)

            self.undo.append(undo_fallback)


def _replaced(items: tuple[T, ...], index: int, item: T) -> tuple[T, ...]:
    return (*items[:index], item, *items[index + 1 :])
