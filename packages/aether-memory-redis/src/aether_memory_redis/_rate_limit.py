"""``RedisRateLimiter``: requests and tokens per minute, held across every process of a fleet.

Two token buckets per provider and model, in one Redis hash, updated by one Lua script (see
``_fleet_scripts.ACQUIRE``): one for requests, one for tokens. Each refills continuously at
its per-minute rate up to its ``burst``; by default a burst is one second's worth (at least
one request), so over any minute at most the limit plus one burst goes out.

A call takes one request and its estimated tokens. In ``wait`` mode, when the buckets are
short the script reserves the call's place in the queue at once and returns how long to wait;
the caller sleeps that long and goes, without asking again. So waiting callers are served in
the order they asked and each call costs one Redis round trip, waiting or not (a caller
cancelled while it waits leaves its place unused: the limit errs on the safe side); beneath a
shared circuit breaker on the same server, the first attempt's slot comes with the breaker's
own round trip instead (see ``_fleet_pair``), and only retries ask again. A wait longer
than ``max_wait`` reserves nothing and raises :class:`RateLimitExceededError`, as does any
wait in ``fail_fast`` mode.

Tokens are estimated before the call: the prompt's text at four characters a token, plus the
request's ``max_tokens`` (or ``output_tokens`` when it sets none). After a call that reports
usage, the difference to what it used is given back (or charged) with the process's next
call of that model, in the same round trip. Images, audio and documents are not counted, and
a failed call keeps its estimate charged (a provider may bill a failed call).

Redis down: each process falls back to buckets of its own with the same limits (so the fleet
as a whole may send up to one limit per process) and logs one WARNING; calls are never held
up because Redis is.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from redis.asyncio import Redis, RedisCluster

from aether.errors import RateLimitError
from aether.extensions.llm._layer import ProviderLayer, maybe_aclose
from aether.llm.contracts import LLMProvider, LLMRequest, LLMResponse, LLMStreamChunk
from aether_memory_redis import _fleet_scripts as scripts
from aether_memory_redis._fleet_keys import check_prefix, fleet_key, model_of, provider_of
from aether_memory_redis._fleet_pair import Grant, take_grant
from aether_memory_redis._link import RedisLink

__all__ = [
    "DEFAULT_RATE_LIMIT_PREFIX",
    "RateLimit",
    "RateLimitExceededError",
    "RedisRateLimitedProvider",
    "RedisRateLimiter",
    "estimate_tokens",
]

logger = logging.getLogger("aether.rate_limit")

DEFAULT_RATE_LIMIT_PREFIX = "aether:ratelimit"
"""The key prefix of the shared buckets when none is given."""

_CHARS_PER_TOKEN = 4
_TOKENS_PER_MESSAGE = 4  # role and separators, roughly what chat formats add per message
_MS = 60_000.0  # per-minute rates become per-millisecond ones


class RateLimit(BaseModel):
    """How fast one provider's model may be called, and what a caller does when it is too fast."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    requests_per_minute: float | None = Field(
        default=None, gt=0, description="Calls per minute across the fleet; None: no limit."
    )
    tokens_per_minute: float | None = Field(
        default=None,
        gt=0,
        description="Tokens (prompt and output, estimated) per minute; None: no limit.",
    )
    burst_requests: float | None = Field(
        default=None,
        ge=1,
        description="Calls that may go at once after a quiet spell; None: one second's worth "
        "(at least 1).",
    )
    burst_tokens: float | None = Field(
        default=None,
        ge=1,
        description="Tokens that may go at once after a quiet spell; None: one second's worth.",
    )
    mode: Literal["wait", "fail_fast"] = Field(
        default="wait",
        description="wait: sleep until the call's turn (up to max_wait); fail_fast: raise "
        "RateLimitExceededError at once.",
    )
    max_wait: float = Field(
        default=60.0,
        ge=0,
        description="Longest wait (s) in wait mode; a longer one raises instead.",
    )
    output_tokens: int = Field(
        default=1024,
        ge=0,
        description="Output tokens reserved for a request that sets no max_tokens.",
    )


class RateLimitExceededError(RateLimitError):
    """The shared rate limit says not now; ``retry_after`` says when (seconds).

    A :class:`~aether.errors.RateLimitError` (so code that handles a provider's 429 handles
    this too) raised before anything was sent. ``should_retry`` is False: the retry layer
    leaves it to the caller, who chose to fail fast or capped the wait.

    Attributes:
        model: The model whose limit was reached.
    """

    def __init__(
        self, message: str, *, provider: str | None, model: str, retry_after: float
    ) -> None:
        self.model = model
        super().__init__(message, provider=provider, retry_after=retry_after, should_retry=False)


def estimate_tokens(request: LLMRequest, output_tokens: int = 1024) -> int:
    """Tokens ``request`` may use: its text at four characters a token, plus its output cap.

    Args:
        request: The call.
        output_tokens: Assumed output when the request sets no ``max_tokens``.
    """
    chars = 0
    for message in request.messages:
        chars += len(message.text)
        for call in message.tool_calls:
            chars += len(call.name) + len(str(call.arguments))
    prompt = -(-chars // _CHARS_PER_TOKEN) + _TOKENS_PER_MESSAGE * len(request.messages)
    return prompt + (request.max_tokens or output_tokens)


class _Plan:
    """A :class:`RateLimit` as the script's arguments: per-millisecond rates and capacities."""

    __slots__ = ("limit", "max_wait_ms", "r_cap", "r_rate", "t_cap", "t_rate")

    def __init__(self, limit: RateLimit) -> None:
        self.limit = limit
        rpm, tpm = limit.requests_per_minute, limit.tokens_per_minute
        # A rate of 0 turns its bucket off; a burst defaults to one second's worth.
        self.r_rate = self.r_cap = self.t_rate = self.t_cap = 0.0
        if rpm:
            self.r_rate, self.r_cap = rpm / _MS, limit.burst_requests or max(1.0, rpm / 60)
        if tpm:
            self.t_rate, self.t_cap = tpm / _MS, limit.burst_tokens or max(1.0, tpm / 60)
        self.max_wait_ms = 0 if limit.mode == "fail_fast" else math.floor(limit.max_wait * 1000)

    def args(self, now: str, cost: int, refund: int) -> list[str | int]:
        return [
            now,
            self.max_wait_ms,
            repr(self.r_rate),
            repr(self.r_cap),
            repr(self.t_rate),
            repr(self.t_cap),
            cost,
            refund,
        ]


class _LocalBuckets:
    """The same two buckets in this process, for while Redis is unavailable."""

    __slots__ = ("r", "t", "ts")

    def __init__(self) -> None:
        self.r: float | None = None
        self.t: float | None = None
        self.ts: float | None = None

    def take(self, plan: _Plan, now: float, cost: int, refund: int) -> tuple[bool, float]:
        """As the script: (granted, wait in ms); a grant with a wait reserves its place."""
        elapsed = max(0.0, now - (self.ts if self.ts is not None else now))
        wait = 0.0
        r = t = 0.0
        if plan.r_rate:
            r = min(plan.r_cap, (plan.r_cap if self.r is None else self.r) + elapsed * plan.r_rate)
            if r < 1:
                wait = (1 - r) / plan.r_rate
        if plan.t_rate:
            start = plan.t_cap if self.t is None else self.t
            t = min(plan.t_cap, start + elapsed * plan.t_rate + refund)
            need = min(cost, plan.t_cap)
            if t < need:
                wait = max(wait, (need - t) / plan.t_rate)
        granted = wait <= plan.max_wait_ms
        if granted:
            r -= 1
            t -= cost
        self.r, self.t, self.ts = r, t, now
        return granted, wait


class RedisRateLimiter:
    """Builds rate-limited providers: ``RedisRateLimiter(url, limit=...)(provider)``.

    A layer factory (``Callable[[LLMProvider], LLMProvider]``); one instance may wrap several
    providers (keys carry the provider's name) and share its connections. Put it inside the
    retry layer, so each attempt takes its own slot. Beneath a :class:`RedisCircuitBreaker`
    on the same server, the breaker takes the first attempt's slot in its own round trip.
    Building it does no I/O.

    Args:
        url: ``redis://[[user]:password@]host[:port][/db]``, ``rediss://`` or ``unix://``;
            the password never appears in a log line or ``repr``.
        client: A configured ``redis.asyncio`` client instead of ``url``; the caller owns it.
        limit: The limit of every model not in ``models``; None: those are not limited.
        models: Limits of particular models, by the model name a request carries.
        provider: The provider's name in keys and errors; default: found on the stack.
        prefix: Start of every key, ``PREFIX:PROVIDER:MODEL``.
        timeout: Seconds to wait for Redis before using local buckets for the call.
        recheck: Seconds before an unavailable Redis is tried again.
        clock: Seconds from a clock of the caller's, for tests; default: the Redis server's
            time, and :func:`time.monotonic` for local buckets.
        sleep: How a wait is waited (default :func:`asyncio.sleep`), for tests.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        client: Redis | RedisCluster | None = None,
        limit: RateLimit | None = None,
        models: Mapping[str, RateLimit] | None = None,
        provider: str | None = None,
        prefix: str = DEFAULT_RATE_LIMIT_PREFIX,
        timeout: float = 0.5,
        recheck: float = 5.0,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        for value in (limit, *(models or {}).values()):
            if value is not None and not isinstance(value, RateLimit):
                raise TypeError(f"Limits must be RateLimit objects, got {type(value).__name__}.")
        if limit is None and not models:
            raise ValueError(
                "RedisRateLimiter needs a limit: limit=RateLimit(requests_per_minute=...) for "
                "every model, or models={'model-name': RateLimit(...)}."
            )
        self.limit = limit
        self.models = dict(models or {})
        self.provider = provider
        self.prefix = check_prefix(prefix)
        self.clock = clock
        self.sleep = sleep
        self._default_plan = _Plan(limit) if limit is not None else None
        self._plans = {model: _Plan(value) for model, value in self.models.items()}
        self.link = RedisLink(
            url,
            client=client,
            scripts={"acquire": scripts.ACQUIRE},
            purpose="rate limiter",
            timeout=timeout,
            recheck=recheck,
        )

    def __repr__(self) -> str:
        return f"RedisRateLimiter({self.link.where!r}, prefix={self.prefix!r})"

    def __call__(self, inner: LLMProvider) -> RedisRateLimitedProvider:
        """Wrap ``inner`` so its calls keep to the shared limits."""
        return RedisRateLimitedProvider(inner, self)

    def key(self, provider: str, model: str) -> str:
        """The Redis key holding the buckets of ``provider``'s ``model``."""
        return fleet_key(self.prefix, provider, model)

    def plan(self, model: str) -> _Plan | None:
        """The limit of ``model`` as script arguments, or None when it is not limited."""
        return self._plans.get(model, self._default_plan)

    async def aclose(self) -> None:
        """Close the connections this factory opened (layers built later reopen them)."""
        await self.link.aclose()


class RedisRateLimitedProvider(ProviderLayer):
    """Keeps the wrapped provider's calls to fleet-wide rates; built by :class:`RedisRateLimiter`.

    An :class:`~aether.llm.LLMProvider`; safe for many concurrent tasks and processes.
    """

    __slots__ = (
        "_attached",
        "_default_model",
        "_keys",
        "_locals",
        "_outage",
        "_pending",
        "factory",
        "name",
    )

    def __init__(self, inner: LLMProvider, factory: RedisRateLimiter) -> None:
        super().__init__(inner)
        self.factory = factory
        self.name = factory.provider or provider_of(inner)
        self._default_model = model_of(inner)
        self._keys: dict[str, str] = {}
        # Tokens to give back (estimate minus use) with the next call of each model.
        self._pending: dict[str, int] = {}
        self._locals: dict[str, _LocalBuckets] = {}
        self._outage = -1
        factory.link.attach()
        self._attached = True

    def __repr__(self) -> str:
        return f"RedisRateLimitedProvider({self.inner!r}, {self.factory!r})"

    async def complete(self, request: LLMRequest) -> LLMResponse:
        """Wait for (or refuse) a slot, then call the wrapped provider."""
        model = request.model or self._default_model
        plan = self.factory.plan(model)
        if plan is None:
            return await self.inner.complete(request)
        cost = estimate_tokens(request, plan.limit.output_tokens) if plan.t_rate else 0
        await self._acquire(model, plan, cost)
        response = await self.inner.complete(request)
        if cost:
            self._settle(model, cost, response.input_tokens + response.output_tokens)
        return response

    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        """Wait for (or refuse) a slot, then yield the wrapped provider's stream."""
        model = request.model or self._default_model
        plan = self.factory.plan(model)
        cost = 0
        if plan is not None:
            cost = estimate_tokens(request, plan.limit.output_tokens) if plan.t_rate else 0
            await self._acquire(model, plan, cost)
        used = 0
        finished = False
        chunks = self.inner.stream(request)
        try:
            async for chunk in chunks:
                used += chunk.input_tokens + chunk.output_tokens
                yield chunk
            finished = True
        finally:
            if not finished:
                await maybe_aclose(chunks)
        if cost:
            self._settle(model, cost, used)

    async def aclose(self) -> None:
        """Close the wrapped provider; the last layer of a factory closes its connections."""
        try:
            await maybe_aclose(self.inner)
        finally:
            if self._attached:  # closing twice must not close connections others still use
                self._attached = False
                await self.factory.link.detach()

    # --- buckets -------------------------------------------------------------------------

    async def _acquire(self, model: str, plan: _Plan, cost: int) -> None:
        """Take a slot: return at once, sleep until the reserved one, or raise.

        The slot may have been taken already, by the breaker above in its own round trip
        (see ``_fleet_pair``); its answer is honoured exactly as this layer's own would be.
        """
        factory = self.factory
        grant = take_grant(self, model, cost)
        if grant is not None:
            shared, granted, wait_ms = True, grant.granted, grant.wait_ms
        else:
            refund = self._pending.pop(model, 0)
            clock = factory.clock
            now = "" if clock is None else str(math.floor(clock() * 1000))
            reply: Any = await factory.link.run(
                "acquire", [self._key(model)], plan.args(now, cost, refund)
            )
            shared = reply is not None
            if shared:
                granted, wait_ms = bool(int(reply[0])), float(reply[1])
            else:
                local_now = (clock or time.monotonic)() * 1000
                granted, wait_ms = self._local(model).take(plan, local_now, cost, refund)
                wait_ms = math.ceil(wait_ms)
        if not granted:
            raise self._refusal(model, plan, wait_ms / 1000, shared=shared)
        if wait_ms > 0:
            logger.debug(
                "Waiting %.3fs for a rate-limit slot of %r model %r.",
                wait_ms / 1000,
                self.name,
                model,
            )
            await factory.sleep(wait_ms / 1000)

    def _grant_for(self, request: LLMRequest, model: str) -> Grant | None:
        """What this layer's first attempt at ``request`` would ask of the buckets, as a
        :class:`Grant` for the breaker above to ask in its round trip; None: not limited."""
        plan = self.factory.plan(model)
        if plan is None:
            return None
        cost = estimate_tokens(request, plan.limit.output_tokens) if plan.t_rate else 0
        refund = self._pending.pop(model, 0)
        args = plan.args("", cost, refund)[1:]
        return Grant(self, model, self._key(model), cost, refund, args, self._give_back)

    def _give_back(self, model: str, tokens: int) -> None:
        self._pending[model] = self._pending.get(model, 0) + tokens

    def _settle(self, model: str, estimate: int, used: int) -> None:
        # A provider that reported no usage leaves the estimate standing.
        if used > 0 and used != estimate:
            self._give_back(model, estimate - used)

    def _refusal(
        self, model: str, plan: _Plan, wait: float, *, shared: bool
    ) -> RateLimitExceededError:
        limit = plan.limit
        rates = []
        if limit.requests_per_minute:
            rates.append(f"{limit.requests_per_minute:g} requests/min")
        if limit.tokens_per_minute:
            rates.append(f"{limit.tokens_per_minute:g} tokens/min")
        where = "shared through Redis" if shared else "this process's own while Redis is down"
        head = (
            f"Rate limit of model {model!r} reached ({' and '.join(rates)}, {where}): the "
            f"next slot is in {wait:.2f}s"
        )
        if limit.mode == "fail_fast":
            advice = "retry after retry_after seconds, or use RateLimit(mode='wait') to wait"
        else:
            advice = (
                f"that is longer than max_wait={limit.max_wait:g}s, so nothing was sent; raise "
                f"RateLimit(max_wait=...) or send fewer calls"
            )
        return RateLimitExceededError(
            f"{head}; {advice}.", provider=self.name, model=model, retry_after=wait
        )

    def _key(self, model: str) -> str:
        key = self._keys.get(model)
        if key is None:
            key = self._keys[model] = self.factory.key(self.name, model)
        return key

    def _local(self, model: str) -> _LocalBuckets:
        """This process's buckets for ``model`` while Redis is unavailable; fresh each outage."""
        outage = self.factory.link.outages
        if outage != self._outage:
            self._locals, self._outage = {}, outage
        buckets = self._locals.get(model)
        if buckets is None:
            buckets = self._locals[model] = _LocalBuckets()
        return buckets
