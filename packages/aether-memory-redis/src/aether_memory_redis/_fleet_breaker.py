"""``RedisCircuitBreaker``: one circuit breaker for every process that shares a Redis server.

The semantics are core's :class:`~aether.extensions.llm.circuit_breaker.CircuitBreakerProvider`
(the same :class:`CircuitBreakerConfig`, the same errors counted as failures, the same
:class:`~aether.errors.CircuitOpenError`, state changes logged at INFO on
``aether.circuit_breaker``), with the state in Redis under one key per provider and model:
when ``failure_threshold`` consecutive failures happen anywhere in the fleet, every process
stops calling, and when ``reset_timeout`` has passed exactly one process (per
``half_open_max_calls``) sends the trial call. Each transition is one Lua script, so two
processes can never both win a trial permit.

Cost: a call on a healthy circuit is one Redis round trip (the admission check, a read);
a second one follows only when there is something to record: a failure, a trial's verdict,
or a success that ends a run of failures. When a :class:`RedisRateLimiter` sits beneath the
breaker (as ``ProviderConfig(layers=[limiter], circuit_breaker=breaker)`` builds it) and
talks to the same server (the same ``url``, or the same ``client=``), the admission check
also takes that limiter's slot for the call's first attempt, in the same script: a call
through both layers is still one round trip (see ``_fleet_pair``). A call the circuit
refuses takes no slot. Redis Cluster is left out of this (its two keys would need one hash
slot): there each layer asks on its own.

Where the fleet differs from one process: a success clears the failures its process saw when
the call was admitted (not ones recorded during the call); a trial call whose process dies
holds its permit for ``trial_timeout`` seconds, after which another trial is let through.

Redis down: the call goes through this process's own ``CircuitBreakerProvider`` (fresh at
each outage) and one WARNING is logged (see ``_link``); Redis is tried again after
``recheck`` seconds. A call is never refused or held up because Redis is.
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator, Callable
from typing import Any

from redis.asyncio import Redis, RedisCluster

from aether.errors import CircuitOpenError
from aether.extensions.llm._layer import ProviderLayer, find_layer, maybe_aclose
from aether.extensions.llm.circuit_breaker import (
    CircuitBreakerConfig,
    CircuitBreakerProvider,
    CircuitState,
    counts_as_failure,
)
from aether.llm.contracts import LLMProvider, LLMRequest, LLMResponse, LLMStreamChunk
from aether_memory_redis import _fleet_scripts as scripts
from aether_memory_redis._connection import check_seconds
from aether_memory_redis._fleet_keys import check_prefix, fleet_key, model_of, provider_of
from aether_memory_redis._fleet_pair import Grant, awaiting, with_grant
from aether_memory_redis._link import RedisLink
from aether_memory_redis._rate_limit import RedisRateLimitedProvider

__all__ = ["DEFAULT_BREAKER_PREFIX", "RedisCircuitBreaker", "RedisCircuitBreakerProvider"]

logger = logging.getLogger("aether.circuit_breaker")

DEFAULT_BREAKER_PREFIX = "aether:breaker"
"""The key prefix of the shared breakers when none is given."""

_SCRIPTS = {
    "admit": scripts.BREAKER_ADMIT,
    "admit_acquire": scripts.ADMIT_ACQUIRE,
    "failure": scripts.BREAKER_FAILURE,
    "success": scripts.BREAKER_SUCCESS,
    "release": scripts.BREAKER_RELEASE,
    "state": scripts.BREAKER_STATE,
    "reset": scripts.BREAKER_RESET,
}
_CLOSED = ""  # the ticket of a call admitted while closed (a trial's is its period, never "")
_KEEP_OPEN_MS = 86_400_000  # an open circuit's key outlives its reset_timeout by a day
_STATES: dict[str, CircuitState] = {"closed": "closed", "open": "open", "half_open": "half_open"}


class RedisCircuitBreaker:
    """Builds shared circuit breakers: ``RedisCircuitBreaker(url)(provider)`` wraps a provider.

    A layer factory (``Callable[[LLMProvider], LLMProvider]``): one instance may wrap several
    providers, which then share its connections. Building it does no I/O.

    Args:
        url: ``redis://[[user]:password@]host[:port][/db]``, ``rediss://`` or ``unix://``;
            the password never appears in a log line or ``repr``.
        client: A configured ``redis.asyncio`` client instead of ``url`` (Sentinel, Cluster,
            custom TLS); the caller keeps owning it.
        config: Thresholds and timings, as for the local breaker.
        provider: The provider's name in keys and errors; default: found on the wrapped
            stack (its ``name``).
        prefix: Start of every key, ``PREFIX:PROVIDER:MODEL``; processes that should share a
            breaker use the same server, database and prefix.
        trial_timeout: Seconds a trial call may take before the fleet presumes its process
            gone and lets another trial through; keep it above the longest call.
        timeout: Seconds to wait for Redis before using local state for the call.
        recheck: Seconds before an unavailable Redis is tried again.
        clock: Seconds from a clock of the caller's, for tests; default: the Redis server's
            time (one clock for all hosts), and :func:`time.monotonic` for local state.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        client: Redis | RedisCluster | None = None,
        config: CircuitBreakerConfig | None = None,
        provider: str | None = None,
        prefix: str = DEFAULT_BREAKER_PREFIX,
        trial_timeout: float = 120.0,
        timeout: float = 0.5,
        recheck: float = 5.0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.config = config if config is not None else CircuitBreakerConfig()
        if not isinstance(self.config, CircuitBreakerConfig):
            raise TypeError(
                f"config must be a CircuitBreakerConfig, got {type(self.config).__name__}."
            )
        self.provider = provider
        self.prefix = check_prefix(prefix)
        self.trial_timeout = check_seconds("trial_timeout", trial_timeout)
        self.clock = clock
        self.link = RedisLink(
            url,
            client=client,
            scripts=_SCRIPTS,
            purpose="circuit breaker",
            timeout=timeout,
            recheck=recheck,
        )

    def __repr__(self) -> str:
        return f"RedisCircuitBreaker({self.link.where!r}, prefix={self.prefix!r})"

    def __call__(self, inner: LLMProvider) -> RedisCircuitBreakerProvider:
        """Wrap ``inner`` in a breaker whose state is shared through Redis."""
        return RedisCircuitBreakerProvider(inner, self)

    def key(self, provider: str, model: str) -> str:
        """The Redis key holding the breaker of ``provider``'s ``model``."""
        return fleet_key(self.prefix, provider, model)

    async def aclose(self) -> None:
        """Close the connections this factory opened (layers built later reopen them)."""
        await self.link.aclose()


class RedisCircuitBreakerProvider(ProviderLayer):
    """Fails fast while the wrapped provider is unhealthy anywhere in the fleet.

    Built by :class:`RedisCircuitBreaker`; an :class:`~aether.llm.LLMProvider`. Safe for
    many concurrent tasks, processes and hosts.
    """

    __slots__ = (
        "_args",
        "_attached",
        "_default_model",
        "_keys",
        "_limiter",
        "_locals",
        "_outage",
        "factory",
        "name",
    )

    def __init__(self, inner: LLMProvider, factory: RedisCircuitBreaker) -> None:
        super().__init__(inner)
        self.factory = factory
        self.name = factory.provider or provider_of(inner)
        self._default_model = model_of(inner)
        self._keys: dict[str, str] = {}
        config = factory.config
        reset_ms = math.ceil(config.reset_timeout * 1000)
        # Each script's fixed arguments, formatted once.
        self._args = {
            "admit": (
                str(reset_ms),
                str(config.half_open_max_calls),
                str(math.ceil(factory.trial_timeout * 1000)),
                str(reset_ms + _KEEP_OPEN_MS),
            ),
            "failure": (
                str(config.failure_threshold),
                str(math.ceil(config.window * 1000)),
                str(reset_ms + _KEEP_OPEN_MS),
            ),
            "success": (str(config.success_threshold), str(reset_ms + _KEEP_OPEN_MS)),
        }
        self._locals: dict[str, CircuitBreakerProvider] = {}
        self._outage = -1
        self._limiter = _limiter_beneath(inner, factory)
        factory.link.attach()
        self._attached = True

    def __repr__(self) -> str:
        return f"RedisCircuitBreakerProvider({self.inner!r}, {self.factory!r})"

    async def complete(self, request: LLMRequest) -> LLMResponse:
        """Call the wrapped provider unless the fleet's circuit for this model is open."""
        model = request.model or self._default_model
        grant = self._grant_for(request, model)
        admitted = await self._admit(model, grant)
        if admitted is None:
            return await self._local(model).complete(request)
        ticket, dirty = admitted
        try:
            response = await with_grant(grant, self.inner.complete(request))
        except BaseException as exc:
            await self._on_error(model, ticket, dirty, exc, received=False)
            raise
        if dirty or ticket:
            await self._on_success(model, ticket)
        return response

    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        """Yield the wrapped provider's stream unless the fleet's circuit is open."""
        model = request.model or self._default_model
        grant = self._grant_for(request, model)
        admitted = await self._admit(model, grant)
        if admitted is None:
            local = self._local(model).stream(request)
            try:
                async for chunk in local:
                    yield chunk
            finally:
                await maybe_aclose(local)
            return
        ticket, dirty = admitted
        chunks = self.inner.stream(request)
        received = finished = False
        try:
            if grant is not None:
                # The limiter beneath takes its slot as the stream starts: offer the grant
                # for that first step only, never across a yield to the consumer.
                first = await with_grant(grant, anext(chunks, None))
                if first is not None:
                    received = True
                    yield first
            async for chunk in chunks:
                received = True
                yield chunk
            finished = True
        except BaseException as exc:
            await self._on_error(model, ticket, dirty, exc, received=received)
            raise
        else:
            if dirty or ticket:
                await self._on_success(model, ticket)
        finally:
            if not finished:
                await maybe_aclose(chunks)

    async def state(self, model: str | None = None) -> CircuitState:
        """The fleet's state for ``model`` (default: the provider's default model).

        While Redis is unavailable, this process's own state is read instead.
        """
        model = model or self._default_model
        reply = await self.factory.link.run(
            "state", [self._key(model)], [self._now(), self._args["admit"][0]]
        )
        if reply is None:
            return self._local(model).state
        name = reply[0]
        return _STATES[name.decode() if isinstance(name, bytes) else name]

    async def reset(self, model: str | None = None) -> None:
        """Close the fleet's circuit for ``model`` and forget its failures (and this process's)."""
        model = model or self._default_model
        await self.factory.link.run("reset", [self._key(model)], [])
        local = self._locals.get(model)
        if local is not None:
            local.reset()

    async def aclose(self) -> None:
        """Close the wrapped provider; the last layer of a factory closes its connections."""
        try:
            await maybe_aclose(self.inner)
        finally:
            if self._attached:  # closing twice must not close connections others still use
                self._attached = False
                await self.factory.link.detach()

    # --- the shared state machine ---------------------------------------------------------

    def _key(self, model: str) -> str:
        key = self._keys.get(model)
        if key is None:
            key = self._keys[model] = self.factory.key(self.name, model)
        return key

    def _now(self) -> str:
        clock = self.factory.clock
        return "" if clock is None else str(math.floor(clock() * 1000))

    def _grant_for(self, request: LLMRequest, model: str) -> Grant | None:
        """The slot to ask for on behalf of the limiter beneath, if one is paired with us."""
        limiter = self._limiter
        if limiter is None or awaiting(limiter):  # another breaker further out asks for it
            return None
        return limiter._grant_for(request, model)

    async def _admit(self, model: str, grant: Grant | None) -> tuple[str, bool] | None:
        """The call's ticket and whether failures are pending; None: use local state.

        With a ``grant``, the same script takes the limiter's slot when it lets the call in.
        """
        if grant is None:
            reply = await self.factory.link.run(
                "admit", [self._key(model)], [self._now(), *self._args["admit"]]
            )
        else:
            reply = await self.factory.link.run(
                "admit_acquire",
                [self._key(model), grant.key],
                [self._now(), *self._args["admit"], *grant.args],
            )
            if reply is None or len(reply) < 5:
                grant.unasked()  # unreachable, or the circuit refused: no bucket was touched
            else:
                grant.answered(bool(int(reply[3])), float(reply[4]))
        if reply is None:
            return None
        verdict, value, extra = int(reply[0]), int(reply[1]), int(reply[2])
        if verdict == 0:
            return _CLOSED, value > 0
        if verdict == 1:
            if extra == 1:
                logger.info("Circuit half-open%s: letting a trial call through.", self._who(model))
            elif extra == 2:
                logger.info(
                    "Circuit still half-open%s: the last trial call did not report back within "
                    "%gs (its process may have stopped); letting another through.",
                    self._who(model),
                    self.factory.trial_timeout,
                )
            return str(value), False
        if verdict == 2:
            raise CircuitOpenError(provider=self.name, retry_in=value / 1000, failures=extra)
        raise CircuitOpenError(provider=self.name, retry_in=0.0, failures=extra, half_open=True)

    async def _on_error(
        self, model: str, ticket: str, dirty: bool, error: BaseException, *, received: bool
    ) -> None:
        """Record the verdict on a call that raised ``error`` (after ``received`` chunks)."""
        if counts_as_failure(error):
            await self._on_failure(model, ticket)
        elif received and isinstance(error, GeneratorExit):
            # The consumer stopped early after the provider answered: it is healthy.
            if dirty or ticket:
                await self._on_success(model, ticket)
        elif ticket:
            await self.factory.link.run("release", [self._key(model)], ["", ticket])

    async def _on_success(self, model: str, ticket: str) -> None:
        closed = await self.factory.link.run(
            "success", [self._key(model)], ["", ticket, *self._args["success"]]
        )
        if closed == 1:
            logger.info("Circuit closed%s: trial calls succeeded.", self._who(model))

    async def _on_failure(self, model: str, ticket: str) -> None:
        reply: Any = await self.factory.link.run(
            "failure", [self._key(model)], [self._now(), ticket, *self._args["failure"]]
        )
        if reply is None:
            return
        change, failures = int(reply[0]), int(reply[1])
        reset = self.factory.config.reset_timeout
        if change == 1:
            # INFO like every state change, as the local breaker logs it: the caller hears of
            # it as CircuitOpenError.
            logger.info(
                "Circuit opened%s after %d consecutive failures; refusing calls for %.1fs.",
                self._who(model),
                failures,
                reset,
            )
        elif change == 2:
            logger.info(
                "Circuit re-opened%s: its trial call failed; refusing calls for %.1fs.",
                self._who(model),
                reset,
            )

    def _local(self, model: str) -> CircuitBreakerProvider:
        """This process's breaker for ``model`` while Redis is unavailable; fresh each outage."""
        outage = self.factory.link.outages
        if outage != self._outage:
            self._locals, self._outage = {}, outage
        local = self._locals.get(model)
        if local is None:
            clock = self.factory.clock
            local = CircuitBreakerProvider(
                self.inner,
                self.factory.config,
                name=self.name,
                **({} if clock is None else {"clock": clock}),
            )
            self._locals[model] = local
        return local

    def _who(self, model: str) -> str:
        return f" for {self.name!r} model {model!r} (shared through Redis)"


def _limiter_beneath(
    inner: LLMProvider, factory: RedisCircuitBreaker
) -> RedisRateLimitedProvider | None:
    """The rate limiter whose first slot this breaker asks for, or None.

    The first one on the way in, when one script may touch both layers' keys: the same
    server (:meth:`RedisLink.shares_server`) and the same clock, so the script's one ``now``
    is each layer's.
    """
    limiter = find_layer(inner, RedisRateLimitedProvider)
    if limiter is None:
        return None
    if not factory.link.shares_server(limiter.factory.link):
        return None
    return limiter if limiter.factory.clock is factory.clock else None
