"""The shared rate limiter on a real Redis: buckets every process draws from, waits, refusals.

A test clock drives the scripts and a recording sleep stands in for waiting, so the waits a
caller would sleep are read exactly, in the order the callers asked.
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import redis.asyncio

from aether.errors import RateLimitError, ServerError
from aether.extensions.llm.fake import FakeProvider
from aether.extensions.llm.retrying import RetryConfig, RetryingProvider
from aether.llm.contracts import LLMProvider, LLMRequest, LLMResponse, Message
from aether_memory_redis import (
    DEFAULT_RATE_LIMIT_PREFIX,
    RateLimit,
    RateLimitExceededError,
    RedisRateLimitedProvider,
    RedisRateLimiter,
    estimate_tokens,
)
from aether_memory_redis.testing import RedisServer, free_port
from tests.memory_redis._fleet import REQUEST, Clock, CountingRedis

SECRET = "s3cr3t-pw"
RPM_60 = RateLimit(requests_per_minute=60)


@pytest.fixture
def clock() -> Clock:
    return Clock()


Make = Callable[..., RedisRateLimitedProvider]


@pytest.fixture
async def make(redis_server: RedisServer, prefix: str, clock: Clock) -> AsyncIterator[Make]:
    """Builds limiters as separate processes would have them: one factory (pool) each."""
    layers: list[RedisRateLimitedProvider] = []

    def build(inner: LLMProvider, **options: Any) -> RedisRateLimitedProvider:
        options.setdefault("url", redis_server.url)
        options.setdefault("limit", RPM_60)
        factory = RedisRateLimiter(prefix=prefix, clock=clock, sleep=clock.sleep, **options)
        layer = factory(inner)
        layers.append(layer)
        return layer

    yield build
    for layer in layers:
        await layer.aclose()


async def level(raw: redis.asyncio.Redis, key: str) -> float:
    """The token bucket's level as stored."""
    stored = await raw.hget(key, "t")
    assert stored is not None
    return float(stored)


def ask(text: str = "hi", **fields: Any) -> LLMRequest:
    return LLMRequest(messages=[Message(role="user", content=text)], **fields)


# --- requests per minute ---------------------------------------------------------------


async def test_fail_fast_refuses_before_calling_with_retry_after(make: Make, clock: Clock) -> None:
    fake = FakeProvider("ok")
    layer = make(fake, limit=RateLimit(requests_per_minute=60, mode="fail_fast"))
    assert (await layer.complete(REQUEST)).text == "ok"
    with pytest.raises(RateLimitExceededError) as caught:
        await layer.complete(REQUEST)
    error = caught.value
    assert isinstance(error, RateLimitError)
    assert (error.retry_after, error.should_retry, error.provider) == (1.0, False, "fake")
    assert error.model == "fake-model"
    assert "60 requests/min, shared through Redis" in str(error)
    assert "RateLimit(mode='wait')" in str(error)
    assert len(fake.calls) == 1
    clock.advance(0.25)
    with pytest.raises(RateLimitExceededError) as caught:
        await layer.complete(REQUEST)
    assert caught.value.retry_after == 0.75
    clock.advance(0.75)
    assert (await layer.complete(REQUEST)).text == "ok"
    assert clock.sleeps == []


async def test_waiting_callers_reserve_their_turns_in_order(make: Make, clock: Clock) -> None:
    fake = FakeProvider("ok")
    layers = [make(fake) for _ in range(3)]  # three "processes" sharing one bucket
    for n in range(6):
        await layers[n % 3].complete(REQUEST)
    # One at once (the burst), then one a second: each reserved at once, none asked twice.
    assert clock.sleeps == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert len(fake.calls) == 6


async def test_a_wait_longer_than_max_wait_raises_and_reserves_nothing(
    make: Make, clock: Clock
) -> None:
    fake = FakeProvider("ok")
    layer = make(fake, limit=RateLimit(requests_per_minute=60, max_wait=2.5))
    for _ in range(3):
        await layer.complete(REQUEST)
    assert clock.sleeps == [1.0, 2.0]
    with pytest.raises(RateLimitExceededError, match=r"in 3\.00s.*max_wait=2\.5s") as caught:
        await layer.complete(REQUEST)
    assert caught.value.retry_after == 3.0
    clock.advance(1)
    await layer.complete(REQUEST)  # the refused call took no slot
    assert clock.sleeps == [1.0, 2.0, 2.0]
    assert len(fake.calls) == 4


async def test_burst_lets_that_many_go_at_once(make: Make, clock: Clock) -> None:
    layer = make(FakeProvider("ok"), limit=RateLimit(requests_per_minute=600, burst_requests=5))
    for _ in range(6):
        await layer.complete(REQUEST)
    assert clock.sleeps == [pytest.approx(0.1)]


async def test_the_bucket_refills_at_the_rate(make: Make, clock: Clock) -> None:
    layer = make(FakeProvider("ok"), limit=RateLimit(requests_per_minute=120, burst_requests=4))
    for _ in range(4):
        await layer.complete(REQUEST)
    clock.advance(1.0)  # two requests' worth
    for _ in range(3):
        await layer.complete(REQUEST)
    assert clock.sleeps == [pytest.approx(0.5)]


async def test_the_retry_layer_leaves_the_refusal_to_the_caller(make: Make) -> None:
    fake = FakeProvider("ok")
    layer = make(fake, limit=RateLimit(requests_per_minute=1, mode="fail_fast"))
    retrying = RetryingProvider(layer, RetryConfig(max_retries=3))
    await retrying.complete(REQUEST)
    with pytest.raises(RateLimitExceededError) as caught:
        await retrying.complete(REQUEST)
    assert caught.value.attempts == 1
    assert len(fake.calls) == 1


def test_the_error_pickles() -> None:
    error = RateLimitExceededError("wait", provider="p", model="m", retry_after=1.5)
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), copy.model, copy.retry_after, copy.should_retry, str(copy)) == (
        RateLimitExceededError,
        "m",
        1.5,
        False,
        "[p] wait",
    )


# --- tokens per minute -----------------------------------------------------------------


def test_estimate_counts_the_prompt_and_the_output_cap() -> None:
    request = ask("x" * 400, max_tokens=50)
    assert estimate_tokens(request) == 100 + 4 + 50
    assert estimate_tokens(ask("x" * 401)) == 101 + 4 + 1024
    assert estimate_tokens(ask("x" * 4), output_tokens=10) == 1 + 4 + 10


async def test_tokens_are_reserved_then_settled_with_the_next_call(
    make: Make, prefix: str, raw: redis.asyncio.Redis, clock: Clock
) -> None:
    used = LLMResponse(text="ok", input_tokens=30, output_tokens=20)  # 50 used
    fake = FakeProvider(responses=[used, used, used])
    limit = RateLimit(tokens_per_minute=6000, burst_tokens=1000)
    layer = make(fake, limit=limit)
    request = ask("x" * 400, max_tokens=196)  # estimate: 100 + 4 + 196 = 300
    key = f"{prefix}:fake:fake-model"
    await layer.complete(request)
    assert await level(raw, key) == 700  # the estimate is taken
    await layer.complete(request)  # gives back 250 (300 estimated, 50 used), takes 300
    assert await level(raw, key) == 650
    assert await raw.hget(key, "r") is None  # no request limit: no request bucket
    assert clock.sleeps == []


async def test_a_call_larger_than_the_bucket_waits_for_a_full_one(make: Make, clock: Clock) -> None:
    answer = LLMResponse(text="ok", input_tokens=5, output_tokens=295)  # as estimated
    limit = RateLimit(tokens_per_minute=600, burst_tokens=100)
    layer = make(FakeProvider(responses=[answer] * 2), limit=limit)
    big = ask(max_tokens=295)  # 1 + 4 + 295 = 300 tokens, the bucket holds 100
    await layer.complete(big)  # a full bucket lets it through, 200 in debt
    await layer.complete(big)  # 300 short of a full bucket, at 10 tokens/s
    assert clock.sleeps == [30.0]


async def test_streams_take_a_slot_and_settle_from_the_last_chunk(
    make: Make, prefix: str, raw: redis.asyncio.Redis
) -> None:
    answer = LLMResponse(text="a b c", input_tokens=10, output_tokens=3)
    layer = make(FakeProvider(responses=[answer, "x"]), limit=RateLimit(tokens_per_minute=60_000))
    request = ask(max_tokens=95)  # 1 + 4 + 95 = 100
    assert [c.text async for c in layer.stream(request)] == ["a ", "b ", "c", ""]
    key = f"{prefix}:fake:fake-model"
    assert await level(raw, key) == 900
    await layer.complete(request)  # gives back 87, takes 100
    assert await level(raw, key) == 887


# --- per provider and model, and cost -------------------------------------------------


async def test_limits_per_model_and_unlisted_models_unlimited(
    make: Make, clock: Clock, prefix: str, raw: redis.asyncio.Redis
) -> None:
    layer = make(
        FakeProvider("ok"),
        limit=None,
        models={"small": RateLimit(requests_per_minute=600, burst_requests=1), "big": RPM_60},
    )
    for _ in range(2):
        await layer.complete(ask(model="big"))
        await layer.complete(ask(model="small"))
        await layer.complete(ask(model="free"))
    assert clock.sleeps == [1.0, pytest.approx(0.1)]
    assert sorted(await raw.keys(f"{prefix}:*")) == [
        f"{prefix}:fake:big".encode(),
        f"{prefix}:fake:small".encode(),
    ]
    assert DEFAULT_RATE_LIMIT_PREFIX == "aether:ratelimit"


class OtherProvider(FakeProvider):
    name = "other"


async def test_providers_have_their_own_buckets(make: Make, clock: Clock) -> None:
    first = make(FakeProvider("a"))
    second = first.factory(OtherProvider("b"))  # the same factory wrapping another provider
    assert (first.name, second.name) == ("fake", "other")
    await first.complete(REQUEST)
    await second.complete(REQUEST)  # its own bucket: no wait
    assert clock.sleeps == []
    await first.complete(REQUEST)
    assert clock.sleeps == [1.0]
    await second.aclose()


async def test_a_call_costs_one_round_trip_waiting_or_not(
    make: Make, redis_server: RedisServer, clock: Clock
) -> None:
    client = CountingRedis.to(redis_server.url)
    try:
        limit = RateLimit(requests_per_minute=60, tokens_per_minute=60_000)
        answer = LLMResponse(text="ok", input_tokens=5, output_tokens=5)
        layer = make(FakeProvider(responses=[answer] * 10), url=None, client=client, limit=limit)
        for _ in range(10):
            await layer.complete(REQUEST)
        assert client.sent == 10
        assert len(clock.sleeps) == 9  # nine of them waited, and still asked once
    finally:
        await client.aclose()


async def test_a_failed_call_keeps_its_slot_and_estimate(make: Make, clock: Clock) -> None:
    layer = make(FakeProvider(responses=[ServerError("down", status_code=503), "ok"]))
    with pytest.raises(ServerError):
        await layer.complete(REQUEST)
    await layer.complete(REQUEST)
    assert clock.sleeps == [1.0]


# --- Redis unavailable -----------------------------------------------------------------


async def test_redis_down_uses_local_buckets_with_one_warning(
    make: Make, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    url = f"redis://:{SECRET}@127.0.0.1:{free_port()}/0"
    fake = FakeProvider("ok")
    layer = make(fake, url=url, recheck=60)
    for _ in range(3):
        await layer.complete(REQUEST)  # never refused because Redis is
    assert clock.sleeps == [1.0, 2.0]  # the same limit, held locally
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "redis://:***@127.0.0.1:" in warnings[0]
    assert "unavailable to the rate limiter" in warnings[0]
    assert all(SECRET not in r.getMessage() for r in caplog.records)
    assert len(fake.calls) == 3


async def test_redis_down_in_fail_fast_mode_still_limits_locally(make: Make) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    layer = make(
        FakeProvider("ok"), url=url, limit=RateLimit(requests_per_minute=60, mode="fail_fast")
    )
    await layer.complete(REQUEST)
    with pytest.raises(RateLimitExceededError) as caught:
        await layer.complete(REQUEST)
    assert caught.value.retry_after == 1.0
    assert "this process's own while Redis is down" in str(caught.value)


async def test_a_given_clients_replies_may_be_decoded(
    make: Make, redis_server: RedisServer, clock: Clock
) -> None:
    client = redis.asyncio.Redis.from_url(redis_server.url, decode_responses=True)
    try:
        layer = make(FakeProvider("ok"), url=None, client=client)
        await layer.complete(REQUEST)
        await layer.complete(REQUEST)
        assert clock.sleeps == [1.0]
    finally:
        await client.aclose()


# --- construction ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"url": "redis://x"}, ValueError),  # no limit at all
        ({"url": "redis://x", "limit": {"requests_per_minute": 1}}, TypeError),
        ({"url": "redis://x", "limit": RPM_60, "client": object()}, ValueError),
        ({"url": "redis://x", "limit": RPM_60, "prefix": ""}, ValueError),
        ({"url": f"redis://:{SECRET}@h:port/0", "limit": RPM_60}, ValueError),
    ],
)
def test_bad_arguments_are_rejected_without_the_password(
    kwargs: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error) as caught:
        RedisRateLimiter(**kwargs)
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(
    "fields",
    [
        {"requests_per_minute": 0},
        {"requests_per_minute": float("inf")},
        {"tokens_per_minute": -5},
        {"burst_requests": 0.5},
        {"mode": "queue"},
        {"max_wait": -1},
        {"per_second": 3},
    ],
)
def test_bad_limits_are_rejected(fields: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        RateLimit(**fields)


async def test_the_factory_is_a_layer_factory(redis_server: RedisServer, prefix: str) -> None:
    factory = RedisRateLimiter(redis_server.url, limit=RPM_60, prefix=prefix)
    build: Callable[[LLMProvider], LLMProvider] = factory
    layer = build(FakeProvider("hi"))
    assert isinstance(layer, RedisRateLimitedProvider)
    assert (await layer.complete(REQUEST)).text == "hi"
    await layer.aclose()
    hidden = RedisRateLimiter(f"redis://u:{SECRET}@127.0.0.1:6379/0", limit=RPM_60)
    assert SECRET not in repr(hidden) and "u:***@" in repr(hidden)
