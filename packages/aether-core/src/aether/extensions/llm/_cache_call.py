"""What one call tells the response cache (``cache=``), and what the cache tells of an answer.

Kept apart from :mod:`aether.extensions.llm.caching` so the client and the event helpers,
imported by every program, can use them without loading the cache.

* The per-call switch is a context variable the client sets around a call's work (around
  each step of a stream, so none of the consumer's code between chunks sees it). It travels
  beside the request rather than in it: the request is what the cache key is made of, and
  an opt-out must not change the answer's key.
* An answer the cache gave (a response, or each chunk of a replayed stream) is remembered
  by identity, weakly, so :func:`served_from_cache` can tell it apart from the provider's
  own answer without a field on the contract.
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator, Awaitable
from contextvars import ContextVar
from typing import TypeVar

__all__ = ["CACHE_SWITCH", "mark_served", "served_from_cache", "switched", "switched_stream"]

T = TypeVar("T")

CACHE_SWITCH: ContextVar[bool | None] = ContextVar("aether_cache_switch", default=None)
"""The current call's ``cache=``: None (the layer's own rules), True (cache it), False (skip)."""

# id -> the answer itself: an entry goes when its answer is collected, and an id reused by a
# later object never matches, since the stored object is compared by identity.
_served: weakref.WeakValueDictionary[int, object] = weakref.WeakValueDictionary()


def mark_served(answer: object) -> None:
    """Remember that the response cache gave ``answer`` (a response or a chunk)."""
    _served[id(answer)] = answer


def served_from_cache(answer: object) -> bool:
    """Whether ``answer`` (an ``LLMResponse`` or ``LLMStreamChunk``) came from the response
    cache rather than from a provider call."""
    return _served.get(id(answer)) is answer


async def switched(switch: bool, work: Awaitable[T]) -> T:
    """``work`` with the cache switch set to ``switch`` while it runs."""
    token = CACHE_SWITCH.set(switch)
    try:
        return await work
    finally:
        CACHE_SWITCH.reset(token)


async def switched_stream(switch: bool, items: AsyncIterator[T]) -> AsyncIterator[T]:
    """``items`` with the cache switch set to ``switch`` during each wait for the next one.

    Closing what this returns closes ``items``.
    """
    try:
        while True:
            token = CACHE_SWITCH.set(switch)
            try:
                item = await items.__anext__()
            except StopAsyncIteration:
                return
            finally:
                CACHE_SWITCH.reset(token)
            yield item
    finally:
        close = getattr(items, "aclose", None)
        if close is not None:
            await close()
