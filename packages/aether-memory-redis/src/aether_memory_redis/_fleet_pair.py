"""How the shared breaker hands the rate limiter beneath it a slot taken in its own round trip.

A stack with both fleet layers (the breaker outside retry, the limiter inside) would ask Redis
twice per call: may the call go (the circuit), and when (the buckets). When a breaker finds a
limiter beneath it that talks to the same server, its admission script (``ADMIT_ACQUIRE``)
also takes the first attempt's slot, and the outcome, a :class:`Grant`, waits in a context
variable while the breaker calls inward. The limiter takes the grant instead of asking Redis
and honours it exactly as its own answer (sleeps the reserved wait, or raises the refusal),
so its semantics are unchanged; a retry finds the grant used and asks for its own slot.

A grant names its limiter, model and estimated tokens, so another limiter, or a request
changed on its way in, never uses it. A task started for the attempt copies the context
but shares the one grant object, so the grant is used at most once. A granted slot that no
attempt used (a layer between answered by itself) gives its tokens back with the limiter's
next call; its request stays counted, erring on the safe side as a cancelled wait does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from typing import TypeVar, final

__all__ = ["Grant", "awaiting", "take_grant", "with_grant"]

T = TypeVar("T")


@final
class Grant:
    """One attempt's rate-limit slot, asked for by the breaker on behalf of ``layer``.

    Args:
        layer: The limiter layer the slot is for (compared by identity).
        model: The model whose buckets were asked.
        key: Those buckets' Redis key.
        cost: The tokens the attempt was estimated to use.
        refund: Tokens given back (settled estimates) along with the ask.
        args: The limiter script's arguments after the clock.
        give_back: Returns tokens to ``layer`` for its next call of ``model``.
    """

    __slots__ = (
        "args",
        "cost",
        "give_back",
        "granted",
        "key",
        "layer",
        "model",
        "refund",
        "used",
        "wait_ms",
    )

    def __init__(
        self,
        layer: object,
        model: str,
        key: str,
        cost: int,
        refund: int,
        args: Sequence[str | int],
        give_back: Callable[[str, int], None],
    ) -> None:
        self.layer = layer
        self.model = model
        self.key = key
        self.cost = cost
        self.refund = refund
        self.args = args
        self.give_back = give_back
        self.granted = False
        self.wait_ms = 0.0
        self.used = False

    def answered(self, granted: bool, wait_ms: float) -> None:
        """Record the buckets' answer (the script ran: the refund is applied)."""
        self.granted, self.wait_ms = granted, wait_ms

    def unasked(self) -> None:
        """The script never reached the buckets: keep the refund for the limiter's next ask."""
        if self.refund:
            self.give_back(self.model, self.refund)


_GRANT: ContextVar[Grant | None] = ContextVar("aether_memory_redis_grant", default=None)


async def with_grant(grant: Grant | None, step: Awaitable[T]) -> T:
    """Await ``step`` with ``grant`` offered to the limiter it names; settle it afterwards.

    Set and reset within one await, so a stream's grant never outlives the step that starts
    the stream (an async generator runs in whichever context iterates it).
    """
    if grant is None:
        return await step
    token = _GRANT.set(grant)
    try:
        return await step
    finally:
        _GRANT.reset(token)
        if not grant.used and grant.granted and grant.cost:
            grant.give_back(grant.model, grant.cost)
            grant.used = True  # settled: never given back twice


def take_grant(layer: object, model: str, cost: int) -> Grant | None:
    """The grant offered to ``layer`` for this attempt, marked used; None: ask Redis."""
    grant = _GRANT.get()
    if (
        grant is None
        or grant.used
        or grant.layer is not layer
        or grant.model != model
        or grant.cost != cost
    ):
        return None
    grant.used = True
    return grant


def awaiting(layer: object) -> bool:
    """Whether an unused grant for ``layer`` is already on offer (a breaker further out)."""
    grant = _GRANT.get()
    return grant is not None and not grant.used and grant.layer is layer
