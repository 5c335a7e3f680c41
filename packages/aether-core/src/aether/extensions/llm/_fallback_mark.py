"""Which fallback of a chain gave an answer, told by the answer itself.

Kept apart from :mod:`aether.extensions.llm.fallback` so the event helpers and cost tracking,
imported by every program, can ask without loading the chain (and its pydantic policy).

A :class:`~aether.extensions.llm.fallback.FallbackProvider` marks each answer a fallback gave
(a response, or every chunk of a fallback's stream) by identity, weakly, as the response
cache marks its own (:mod:`aether.extensions.llm._cache_call`): no field on the contract, and
a mark goes when its answer is collected. Nothing is marked until a chain is built, and
:data:`watching` stays False until then, so the helpers skip the look-up on every call of a
program without fallbacks.
"""

from __future__ import annotations

import weakref
from typing import Any

__all__ = ["FallbackMark", "fallback_of", "mark_fallback", "watch", "watching"]

watching = False
"""True once a fallback chain was built in this process (see :func:`watch`): until then no
answer is marked, so there is nothing to look for."""


class FallbackMark(weakref.ref[Any]):
    """A weak reference to an answer a fallback gave, naming that fallback.

    Attributes:
        provider: The fallback's name (as the chain's errors and events name it).
        model: The model asked of it; None: its default.
    """

    __slots__ = ("_key", "model", "provider")

    def __new__(cls, answer: object, provider: str, model: str | None) -> FallbackMark:
        return super().__new__(cls, answer, _forget)

    def __init__(self, answer: object, provider: str, model: str | None) -> None:
        # ``ref.__init__`` takes the referent and the callback only (typeshed omits it).
        super().__init__(answer, _forget)  # type: ignore[call-arg]
        self._key = id(answer)
        self.provider = provider
        self.model = model


# id -> the mark of the answer with that id. An entry goes when its answer is collected (the
# mark's callback), and an id reused by a later object never matches: the mark is compared
# with the answer by identity.
_marks: dict[int, FallbackMark] = {}


def _forget(mark: FallbackMark) -> None:
    # Only this mark's own entry: the id may already name a newer answer's mark.
    key = mark._key
    if _marks.get(key) is mark:
        del _marks[key]


def watch() -> None:
    """Make :data:`watching` True: a chain exists, so answers may carry marks from now on.

    ``FallbackProvider`` calls it when it is built, before any of its calls can start.
    """
    global watching
    watching = True


def mark_fallback(answer: object, provider: str, model: str | None) -> None:
    """Remember that the fallback ``provider`` (asked for ``model``) gave ``answer``."""
    _marks[id(answer)] = FallbackMark(answer, provider, model)


def fallback_of(answer: object) -> FallbackMark | None:
    """The mark of ``answer`` (an ``LLMResponse`` or ``LLMStreamChunk``) when a fallback of a
    chain gave it; None when the configured provider did (or no chain was involved)."""
    mark = _marks.get(id(answer))
    return mark if mark is not None and mark() is answer else None
