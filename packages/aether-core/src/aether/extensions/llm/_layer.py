"""``ProviderLayer``: what every provider decorator shares (``inner``, passthroughs, closing).

A layer wraps one :class:`~aether.llm.LLMProvider` and is one itself, so layers compose in
any order. Attributes a caller may read through the stack (``default_model``) and resource
clean-up (``aclose``) pass through to the wrapped provider.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import TracebackType
from typing import Generic, TypeVar

from aether.llm.contracts import LLMProvider

__all__ = ["ProviderLayer", "aclosing_stream", "find_layer", "maybe_aclose"]

L = TypeVar("L")
T = TypeVar("T")


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
