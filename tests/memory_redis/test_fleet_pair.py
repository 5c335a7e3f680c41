"""The shared breaker and limiter together: one round trip per call, each layer's rules kept.

Stacks are built as ``ProviderConfig(layers=[limiter], circuit_breaker=breaker)`` builds them
(breaker, retry, limiter, provider). Where round trips are counted, both factories share one
counting client, so every command either layer sends is seen; a test clock drives the
scripts and a recording sleep stands in for waiting.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import redis.asyncio
from redis.asyncio import RedisCluster

from aether.errors import CircuitOpenError, ServerError
from aether.extensions.llm._layer import ProviderLayer, maybe_aclose
from aether.extensions.llm.builder import ProviderConfig, build_provider
from aether.extensions.llm.circuit_breaker import CircuitBreakerConfig
from aether.extensions.llm.fake import FakeProvider
from aether.extensions.llm.retrying import RetryConfig, set_testing
from aether.llm.contracts import LLMProvider, LLMRequest, LLMResponse, LLMStreamChunk, Message
from aether_memory_redis import (
    RateLimit,
    RateLimitExceededError,
    RedisCircuitBreaker,
    RedisRateLimiter,
)
from aether_memory_redis import _fleet_scripts as fleet_scripts
from aether_memory_redis.testing import RedisServer, free_port
from tests.memory_redis._fleet import REQUEST, Clock, CountingRedis

SCRIPTS = [getattr(fleet_scripts, name) for name in fleet_scripts.__all__]

RPM_60 = RateLimit(requests_per_minute=60)
FAIL_FAST = RateLimit(requests_per_minute=60, mode="fail_fast")


def boom() -> ServerError:
    return ServerError("down", status_code=503)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(autouse=True)
def instant_retries() -> Any:
    with set_testing(True):
        yield


async def warm(client: CountingRedis) -> CountingRedis:
    """``client`` with the fleet scripts loaded and its count at zero.

    A server keeps loaded scripts, as a fleet's long-running one has them; the first run of
    a script on a fresh server costs two more commands (NOSCRIPT, SCRIPT LOAD).
    """
    for source in SCRIPTS:
        await client.script_load(source)
    client.sent = 0
    return client


@pytest.fixture
async def counting(redis_server: RedisServer) -> AsyncIterator[CountingRedis]:
    client = await warm(CountingRedis.to(redis_server.url))
    yield client
    await client.aclose()


Build = Callable[..., LLMProvider]


@pytest.fixture
async def build(redis_server: RedisServer, prefix: str, clock: Clock) -> AsyncIterator[Build]:
    """Builds breaker-retry-limiter stacks; ``client=`` shared by both layers, else the URL."""
    stacks: list[LLMProvider] = []

    def make(
        inner: LLMProvider,
        *,
        limit: RateLimit = RPM_60,
        retries: int = 0,
        failure_threshold: int = 3,
        client: redis.asyncio.Redis | None = None,
        url: str | None = None,
        between: Callable[[LLMProvider], LLMProvider] | None = None,
    ) -> LLMProvider:
        where: dict[str, Any] = (
            {"client": client} if client is not None else {"url": url or redis_server.url}
        )
        limiter = RedisRateLimiter(
            limit=limit, prefix=f"{prefix}:limit", clock=clock, sleep=clock.sleep, **where
        )
        breaker = RedisCircuitBreaker(
            config=CircuitBreakerConfig(failure_threshold=failure_threshold, reset_timeout=10),
            prefix=f"{prefix}:breaker",
            clock=clock,
            **where,
        )
        layers: list[Callable[[LLMProvider], LLMProvider]] = [limiter]
        if between is not None:
            layers.append(between)
        config = ProviderConfig(
            layers=layers,
            circuit_breaker=breaker,
            retry=RetryConfig(max_retries=retries),
            cost_tracking=None,
        )
        stack = build_provider(config, provider=inner)
        stacks.append(stack)
        return stack

    yield make
    for stack in stacks:
        await maybe_aclose(stack)


async def requests_left(raw: redis.asyncio.Redis, prefix: str) -> float:
    """The request bucket's level as stored (absent: never touched)."""
    stored = await raw.hget(f"{prefix}:limit:fake:fake-model", "r")
    assert stored is not None
    return float(stored)


async def tokens_left(raw: redis.asyncio.Redis, prefix: str) -> float:
    stored = await raw.hget(f"{prefix}:limit:fake:fake-model", "t")
    assert stored is not None
    return float(stored)


# --- one round trip --------------------------------------------------------------------


async def test_a_successful_call_through_both_layers_costs_one_round_trip(
    build: Build, counting: CountingRedis, clock: Clock
) -> None:
    limit = RateLimit(requests_per_minute=60, tokens_per_minute=60_000)
    answer = LLMResponse(text="ok", input_tokens=5, output_tokens=5)
    fake = FakeProvider(responses=[answer] * 10)
    stack = build(fake, limit=limit, retries=2, client=counting)
    for _ in range(10):
        assert (await stack.complete(REQUEST)).text == "ok"
    assert counting.sent == 10  # admission and slot together, waiting or not
    assert clock.sleeps == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]
    assert len(fake.calls) == 10


async def test_a_stream_through_both_layers_costs_one_round_trip(
    build: Build, counting: CountingRedis, raw: redis.asyncio.Redis, prefix: str
) -> None:
    answer = LLMResponse(text="a b c", input_tokens=10, output_tokens=3)
    stack = build(
        FakeProvider(responses=[answer, "x"]),
        limit=RateLimit(tokens_per_minute=60_000),
        client=counting,
    )
    request = LLMRequest(messages=REQUEST.messages, max_tokens=95)  # 1 + 4 + 95 = 100 tokens
    assert [c.text async for c in stack.stream(request)] == ["a ", "b ", "c", ""]
    assert counting.sent == 1
    assert await tokens_left(raw, prefix) == 900
    await stack.complete(request)  # gives back 87 (settled from the stream), takes 100
    assert await tokens_left(raw, prefix) == 887
    assert counting.sent == 2


async def test_layers_on_the_same_url_pair_up(
    build: Build, raw: redis.asyncio.Redis, clock: Clock
) -> None:
    async def scripts_run() -> int:
        stats = await raw.info("commandstats")
        return int(stats.get("cmdstat_evalsha", {}).get("calls", 0))

    stack = build(FakeProvider("ok"))
    await stack.complete(REQUEST)  # scripts loaded
    before = await scripts_run()
    for _ in range(4):
        await stack.complete(REQUEST)
    assert await scripts_run() - before == 4
    assert clock.sleeps == [1.0, 2.0, 3.0, 4.0]


async def test_layers_on_different_clients_or_clocks_each_ask(
    redis_server: RedisServer, prefix: str, clock: Clock
) -> None:
    limiter_client, breaker_client = [await warm(CountingRedis.to(redis_server.url)) for _ in "ab"]

    def stack(name: str, breaker: redis.asyncio.Redis, breaker_clock: Clock) -> LLMProvider:
        limiter = RedisRateLimiter(
            client=limiter_client,
            limit=RPM_60,
            prefix=f"{prefix}:{name}:limit",
            clock=clock,
            sleep=clock.sleep,
        )
        return RedisCircuitBreaker(
            client=breaker, prefix=f"{prefix}:{name}:breaker", clock=breaker_clock
        )(limiter(FakeProvider("ok")))

    stacks = [stack("apart", breaker_client, clock), stack("clocks", limiter_client, Clock())]
    try:
        await stacks[0].complete(REQUEST)
        assert (breaker_client.sent, limiter_client.sent) == (1, 1)
        await stacks[1].complete(REQUEST)  # one client, but the script has one clock
        assert limiter_client.sent == 3
    finally:
        for layer in stacks:
            await maybe_aclose(layer)
        for client in (limiter_client, breaker_client):
            await client.aclose()


def test_a_cluster_client_is_never_paired() -> None:
    # Two keys in one script would need one hash slot; the breaker asks alone there.
    cluster = RedisCluster(host="127.0.0.1", port=free_port())
    limiter = RedisRateLimiter(client=cluster, limit=RPM_60)
    breaker = RedisCircuitBreaker(client=cluster)
    assert not breaker.link.shares_server(limiter.link)
    plain = redis.asyncio.Redis(host="127.0.0.1", port=free_port())
    assert RedisCircuitBreaker(client=plain).link.shares_server(
        RedisRateLimiter(client=plain, limit=RPM_60).link
    )
    assert not RedisCircuitBreaker("redis://127.0.0.1:6379/0").link.shares_server(
        RedisRateLimiter("redis://127.0.0.1:6379/1", limit=RPM_60).link
    )


# --- each layer's rules ----------------------------------------------------------------


async def test_a_retry_takes_a_second_slot_of_its_own(
    build: Build, counting: CountingRedis, clock: Clock
) -> None:
    fake = FakeProvider(responses=[boom(), "ok"])
    stack = build(fake, retries=1, client=counting)
    assert (await stack.complete(REQUEST)).text == "ok"
    assert len(fake.calls) == 2
    assert clock.sleeps == [1.0]  # the first attempt took the burst, the retry waited its turn
    assert counting.sent == 2  # the admission with the first slot, then the retry's own slot


async def test_retries_all_failing_are_one_breaker_failure(
    build: Build, counting: CountingRedis, clock: Clock
) -> None:
    fake = FakeProvider(responses=[boom()] * 6)
    stack = build(fake, retries=1, client=counting)
    for _ in range(3):
        with pytest.raises(ServerError):
            await stack.complete(REQUEST)
    with pytest.raises(CircuitOpenError):
        await stack.complete(REQUEST)
    assert len(fake.calls) == 6
    assert clock.sleeps == [1.0, 2.0, 3.0, 4.0, 5.0]  # every attempt had its own slot


async def test_an_open_circuit_takes_no_slot(
    build: Build, raw: redis.asyncio.Redis, prefix: str, clock: Clock
) -> None:
    limit = RateLimit(requests_per_minute=60, burst_requests=5)
    fake = FakeProvider(responses=[boom(), "ok"])
    stack = build(fake, limit=limit, failure_threshold=1)
    with pytest.raises(ServerError):
        await stack.complete(REQUEST)
    assert await requests_left(raw, prefix) == 4
    for _ in range(10):
        with pytest.raises(CircuitOpenError):
            await stack.complete(REQUEST)
    assert await requests_left(raw, prefix) == 4
    clock.advance(10)  # half-open: the trial takes a slot (and the bucket refilled to 5)
    assert (await stack.complete(REQUEST)).text == "ok"
    assert await requests_left(raw, prefix) == 4
    assert clock.sleeps == []


async def test_a_refused_call_keeps_the_tokens_to_give_back(
    build: Build, raw: redis.asyncio.Redis, prefix: str, clock: Clock
) -> None:
    limit = RateLimit(tokens_per_minute=600, burst_tokens=1000)  # 10 tokens a second
    used = LLMResponse(text="ok", input_tokens=30, output_tokens=20)  # 50 used
    stack = build(FakeProvider(responses=[used, used]), limit=limit, failure_threshold=1)
    other = build(FakeProvider(responses=[boom()]), limit=limit, failure_threshold=1)
    request = LLMRequest(messages=[Message(role="user", content="x" * 400)], max_tokens=196)
    await stack.complete(request)  # 300 estimated: 700 left, 250 to give back next time
    with pytest.raises(ServerError):
        await other.complete(request)  # another process: 400 left, and the circuit opens
    with pytest.raises(CircuitOpenError):
        await stack.complete(request)  # refused: the 250 must not be lost
    assert await tokens_left(raw, prefix) == 400
    clock.advance(10)
    await stack.complete(request)  # the trial: 400 + 100 refilled + 250 given back - 300
    assert await tokens_left(raw, prefix) == 450
    assert clock.sleeps == []


async def test_wait_mode_honours_the_reserved_wait_and_max_wait(
    build: Build, counting: CountingRedis, clock: Clock
) -> None:
    fake = FakeProvider("ok")
    stack = build(fake, limit=RateLimit(requests_per_minute=60, max_wait=2.5), client=counting)
    for _ in range(3):
        await stack.complete(REQUEST)
    assert clock.sleeps == [1.0, 2.0]
    with pytest.raises(RateLimitExceededError, match=r"in 3\.00s.*max_wait=2\.5s") as caught:
        await stack.complete(REQUEST)
    assert caught.value.retry_after == 3.0
    clock.advance(1)
    await stack.complete(REQUEST)  # the refused call took no slot
    assert clock.sleeps == [1.0, 2.0, 2.0]
    assert len(fake.calls) == 4
    assert counting.sent == 5  # the refusal too came with the admission


async def test_fail_fast_raises_the_limiters_own_error(
    build: Build, redis_server: RedisServer, prefix: str, clock: Clock
) -> None:
    fake = FakeProvider("ok")
    stack = build(fake, limit=FAIL_FAST, retries=3)
    alone = RedisRateLimiter(
        redis_server.url, limit=FAIL_FAST, prefix=f"{prefix}:alone", clock=clock
    )(FakeProvider("ok"))
    try:
        errors = []
        for layer in (stack, alone):
            await layer.complete(REQUEST)
            with pytest.raises(RateLimitExceededError) as caught:
                await layer.complete(REQUEST)
            errors.append(caught.value)
    finally:
        await alone.aclose()
    paired, single = errors
    assert str(paired) == str(single)
    assert "60 requests/min, shared through Redis" in str(paired)
    assert (paired.retry_after, paired.should_retry, paired.model) == (1.0, False, "fake-model")
    assert paired.attempts == 1  # the retry layer saw it and left it to the caller
    assert len(fake.calls) == 1
    clock.advance(1)
    assert (await stack.complete(REQUEST)).text == "ok"  # not a breaker failure either


async def test_a_refused_trial_gives_its_permit_back(
    build: Build, raw: redis.asyncio.Redis, prefix: str, clock: Clock
) -> None:
    fake = FakeProvider(responses=[boom(), "ok"])
    stack = build(fake, limit=FAIL_FAST, failure_threshold=1)
    with pytest.raises(ServerError):
        await stack.complete(REQUEST)  # takes the slot and opens the circuit
    clock.advance(10)
    await raw.hset(f"{prefix}:limit:fake:fake-model", "r", "-20")  # the fleet used it all
    with pytest.raises(RateLimitExceededError):
        await stack.complete(REQUEST)  # admitted as the trial, refused a slot
    assert await raw.hget(f"{prefix}:breaker:fake:fake-model", "inf") == b"0"
    await raw.hset(f"{prefix}:limit:fake:fake-model", "r", "1")
    assert (await stack.complete(REQUEST)).text == "ok"  # the next trial
    assert await raw.hget(f"{prefix}:breaker:fake:fake-model", "st") is None  # closed


class Answers(ProviderLayer):
    """A layer that answers the first call itself, never calling the limiter beneath."""

    answered = False

    async def complete(self, request: LLMRequest) -> LLMResponse:
        if not self.answered:
            self.answered = True
            return LLMResponse(text="from the layer")
        return await self.inner.complete(request)

    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        async for chunk in self.inner.stream(request):
            yield chunk


async def test_a_slot_no_attempt_used_gives_its_tokens_back(
    build: Build, raw: redis.asyncio.Redis, prefix: str
) -> None:
    limit = RateLimit(requests_per_minute=60, tokens_per_minute=6000, burst_tokens=1000)
    stack = build(FakeProvider("ok"), limit=limit, between=Answers)
    request = LLMRequest(messages=[Message(role="user", content="x" * 400)], max_tokens=196)
    assert (await stack.complete(request)).text == "from the layer"
    assert await tokens_left(raw, prefix) == 700  # taken with the admission, unused
    assert (await stack.complete(request)).text == "ok"  # gives the 300 back, takes 300
    assert await tokens_left(raw, prefix) == 700


async def test_only_the_outermost_breaker_asks_for_the_slot(
    redis_server: RedisServer, prefix: str, counting: CountingRedis, clock: Clock
) -> None:
    limiter = RedisRateLimiter(
        client=counting, limit=RPM_60, prefix=prefix, clock=clock, sleep=clock.sleep
    )
    inner = RedisCircuitBreaker(client=counting, prefix=f"{prefix}:a", clock=clock)
    outer = RedisCircuitBreaker(client=counting, prefix=f"{prefix}:b", clock=clock)
    stack = outer(inner(limiter(FakeProvider("ok"))))
    for _ in range(3):
        await stack.complete(REQUEST)
    assert clock.sleeps == [1.0, 2.0]  # one slot a call
    assert counting.sent == 6  # each breaker's admission; the limiter asks nothing
    await maybe_aclose(stack)


# --- Redis unavailable -----------------------------------------------------------------


async def test_redis_down_both_fall_back_to_local_state(build: Build, clock: Clock) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    fake = FakeProvider(responses=["ok", "ok", "ok", boom(), boom(), boom(), "unused"])
    stack = build(fake, url=url)
    for _ in range(3):
        assert (await stack.complete(REQUEST)).text == "ok"  # never refused because of Redis
    assert clock.sleeps == [1.0, 2.0]  # the limit, held by this process's own buckets
    for _ in range(3):
        with pytest.raises(ServerError):
            await stack.complete(REQUEST)
    with pytest.raises(CircuitOpenError):  # this process's own breaker opened
        await stack.complete(REQUEST)
    assert clock.sleeps == [1.0, 2.0, 3.0, 4.0, 5.0]
