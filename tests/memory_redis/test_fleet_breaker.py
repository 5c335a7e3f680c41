"""The shared circuit breaker on a real Redis: one state for every process, one trial call.

Several factories stand for several processes: each has its own connection pool, and they
meet only in Redis. A test clock drives the scripts, so no test sleeps through a timeout.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio

from aether.errors import (
    AuthenticationError,
    BadRequestError,
    CircuitOpenError,
    ContextLengthError,
    ProviderTimeoutError,
    RateLimitError,
    ServerError,
)
from aether.extensions.llm._layer import maybe_aclose
from aether.extensions.llm.builder import ProviderConfig, build_provider, find_layer
from aether.extensions.llm.circuit_breaker import CircuitBreakerConfig
from aether.extensions.llm.fake import FakeProvider, Fault
from aether.extensions.llm.retrying import RetryConfig, RetryingProvider, set_testing
from aether.llm.contracts import LLMProvider, LLMRequest
from aether_memory_redis import (
    DEFAULT_BREAKER_PREFIX,
    RateLimit,
    RedisCircuitBreaker,
    RedisCircuitBreakerProvider,
    RedisRateLimitedProvider,
    RedisRateLimiter,
)
from aether_memory_redis.testing import RedisServer, free_port
from tests.memory_redis._fleet import REQUEST, Clock, CountingRedis, Gate, until

SECRET = "s3cr3t-pw"


def boom() -> ServerError:
    return ServerError("down", status_code=503)


@pytest.fixture
def clock() -> Clock:
    return Clock()


Make = Callable[..., RedisCircuitBreakerProvider]


@pytest.fixture
async def make(redis_server: RedisServer, prefix: str, clock: Clock) -> AsyncIterator[Make]:
    """Builds breakers as separate processes would have them: one factory (pool) each."""
    layers: list[RedisCircuitBreakerProvider] = []

    def build(inner: LLMProvider, **options: Any) -> RedisCircuitBreakerProvider:
        config = CircuitBreakerConfig(
            failure_threshold=options.pop("failure_threshold", 3),
            reset_timeout=options.pop("reset_timeout", 10.0),
            window=options.pop("window", 60.0),
            success_threshold=options.pop("success_threshold", 1),
        )
        options.setdefault("url", redis_server.url)
        factory = RedisCircuitBreaker(config=config, prefix=prefix, clock=clock, **options)
        layer = factory(inner)
        layers.append(layer)
        return layer

    yield build
    for layer in layers:
        await layer.aclose()


async def fail(layer: LLMProvider, times: int, error: type[Exception] = ServerError) -> None:
    for _ in range(times):
        with pytest.raises(error):
            await layer.complete(REQUEST)


def messages(caplog: pytest.LogCaptureFixture, logger: str, level: int = logging.INFO) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == logger and r.levelno == level]


# --- one state for the fleet ---------------------------------------------------------


async def test_failures_anywhere_open_the_circuit_everywhere(
    make: Make, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="aether.circuit_breaker")
    one, two = FakeProvider(responses=[boom()] * 2), FakeProvider(responses=[boom()])
    first, second = make(one), make(two)
    await fail(first, 2)
    await fail(second, 1)  # the third consecutive failure, in another "process"
    for layer in (first, second):
        with pytest.raises(CircuitOpenError) as caught:
            await layer.complete(REQUEST)
        assert caught.value.retry_in == 10.0
        assert caught.value.failures == 3
        assert caught.value.provider == "fake"
        assert await layer.state() == "open"
    assert (len(one.calls), len(two.calls)) == (2, 1)  # refused calls never reached them
    opened = messages(caplog, "aether.circuit_breaker")
    assert opened == [
        "Circuit opened for 'fake' model 'fake-model' (shared through Redis) after 3 "
        "consecutive failures; refusing calls for 10.0s."
    ]
    clock.advance(4)
    with pytest.raises(CircuitOpenError) as caught:
        await second.complete(REQUEST)
    assert caught.value.retry_in == 6.0


@pytest.mark.parametrize(
    "error",
    [
        BadRequestError("bad", status_code=400),
        AuthenticationError("key", status_code=401),
        RateLimitError("slow", status_code=429),
        ContextLengthError("long", status_code=400),
        ValueError("a bug of the caller"),
    ],
    ids=lambda e: type(e).__name__,
)
async def test_only_signs_of_an_unhealthy_provider_count(make: Make, error: Exception) -> None:
    layer = make(FakeProvider(responses=[error] * 5))
    await fail(layer, 5, type(error))
    assert await layer.state() == "closed"


async def test_timeouts_and_5xx_count(make: Make) -> None:
    layer = make(FakeProvider(responses=[ProviderTimeoutError("slow"), boom(), boom()]))
    await fail(layer, 1, ProviderTimeoutError)
    await fail(layer, 2)
    assert await layer.state() == "open"


async def test_a_success_ends_a_run_of_failures_for_the_fleet(make: Make) -> None:
    first = make(FakeProvider(responses=[boom(), boom(), boom(), boom(), boom()]))
    second = make(FakeProvider("fine"))
    await fail(first, 2)
    assert (await second.complete(REQUEST)).text == "fine"  # saw the failures: clears them
    await fail(first, 2)
    assert await first.state() == "closed"
    await fail(first, 1)
    assert await first.state() == "open"


async def test_failures_older_than_the_window_are_forgotten(make: Make, clock: Clock) -> None:
    layer = make(FakeProvider(responses=[boom()] * 5), window=60.0)
    await fail(layer, 2)
    clock.advance(61)
    await fail(layer, 2)
    assert await layer.state() == "closed"
    await fail(layer, 1)
    assert await layer.state() == "open"


# --- half-open: one trial for the whole fleet -------------------------------------------


async def open_it(make: Make, clock: Clock) -> None:
    await fail(make(FakeProvider(responses=[boom()] * 3)), 3)
    clock.advance(10)


async def test_exactly_one_trial_call_across_the_fleet(
    make: Make, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="aether.circuit_breaker")
    await open_it(make, clock)
    gates = [Gate() for _ in range(4)]
    layers = [make(gate) for gate in gates for _ in range(2)]  # 8 "processes", 4 providers
    tasks = [asyncio.create_task(layer.complete(REQUEST)) for layer in layers for _ in range(5)]
    await until(lambda: sum(t.done() for t in tasks) == len(tasks) - 1)
    refused = [t for t in tasks if t.done()]
    assert sum(gate.calls for gate in gates) == 1
    assert len(refused) == len(tasks) - 1
    for task in refused:
        error = task.exception()
        assert isinstance(error, CircuitOpenError) and error.half_open
    for gate in gates:
        gate.open()
    await asyncio.gather(*(t for t in tasks if t not in refused))
    assert await layers[0].state() == "closed"
    assert [m.split(":")[0] for m in messages(caplog, "aether.circuit_breaker")[1:]] == [
        "Circuit half-open for 'fake' model 'fake-model' (shared through Redis)",
        "Circuit closed for 'fake' model 'fake-model' (shared through Redis)",
    ]
    assert [(await layer.complete(REQUEST)).text for layer in layers] == ["ok"] * 8


async def test_a_failed_trial_reopens_and_the_next_period_has_its_own_trial(
    make: Make, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="aether.circuit_breaker")
    await open_it(make, clock)
    layer = make(FakeProvider(responses=[boom(), "recovered"]))
    await fail(layer, 1)  # the trial
    with pytest.raises(CircuitOpenError) as caught:
        await make(FakeProvider("unused")).complete(REQUEST)
    assert caught.value.retry_in == 10.0 and not caught.value.half_open
    clock.advance(10)
    assert (await layer.complete(REQUEST)).text == "recovered"
    assert await layer.state() == "closed"
    assert "its trial call failed" in messages(caplog, "aether.circuit_breaker")[2]


async def test_success_threshold_needs_that_many_trials(make: Make, clock: Clock) -> None:
    await open_it(make, clock)
    layer = make(FakeProvider("ok"), success_threshold=2)
    await layer.complete(REQUEST)
    assert await layer.state() == "half_open"
    await layer.complete(REQUEST)
    assert await layer.state() == "closed"


async def test_a_cancelled_trial_gives_its_permit_back(make: Make, clock: Clock) -> None:
    await open_it(make, clock)
    gate = Gate()
    trial = asyncio.create_task(make(gate).complete(REQUEST))
    await gate.entered.wait()
    with pytest.raises(CircuitOpenError):
        await make(FakeProvider("unused")).complete(REQUEST)  # the permit is taken
    trial.cancel()
    with pytest.raises(asyncio.CancelledError):
        await trial
    assert (await make(FakeProvider("next")).complete(REQUEST)).text == "next"
    assert await make(FakeProvider("x")).state() == "closed"


async def test_a_4xx_trial_is_no_verdict(make: Make, clock: Clock) -> None:
    await open_it(make, clock)
    await fail(
        make(FakeProvider(responses=[BadRequestError("bad", status_code=400)])), 1, BadRequestError
    )
    assert await make(FakeProvider("x")).state() == "half_open"
    assert (await make(FakeProvider("next")).complete(REQUEST)).text == "next"


async def test_a_trial_whose_process_vanished_is_written_off_after_trial_timeout(
    make: Make, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="aether.circuit_breaker")
    await open_it(make, clock)
    lost = Gate()
    stuck = asyncio.create_task(make(lost, trial_timeout=30).complete(REQUEST))
    await lost.entered.wait()
    other = make(FakeProvider(responses=[boom()]), trial_timeout=30)
    clock.advance(29)
    with pytest.raises(CircuitOpenError):
        await other.complete(REQUEST)
    clock.advance(1)
    await fail(other, 1)  # the next trial, which fails: open again
    assert "did not report back within 30s" in messages(caplog, "aether.circuit_breaker")[2]
    lost.open()  # the lost trial answers at last: too late to close the reopened circuit
    assert (await stuck).text == "ok"
    assert await other.state() == "open"


async def test_reset_closes_the_circuit_for_the_fleet(make: Make, clock: Clock) -> None:
    await open_it(make, clock)
    clock.advance(-10)  # back inside the open period
    first, second = make(FakeProvider("one")), make(FakeProvider("two"))
    assert await second.state() == "open"
    await first.reset()
    assert await second.state() == "closed"
    assert (await second.complete(REQUEST)).text == "two"


# --- streams ---------------------------------------------------------------------------


async def test_a_stream_that_breaks_counts_as_a_failure(make: Make) -> None:
    fault = Fault(boom(), after_chunks=2, response="one two three four")
    layer = make(FakeProvider(responses=[fault] * 3))
    for _ in range(3):
        with pytest.raises(ServerError):
            async for _chunk in layer.stream(REQUEST):
                pass
    assert await layer.state() == "open"
    with pytest.raises(CircuitOpenError):
        async for _chunk in layer.stream(REQUEST):
            pass


async def test_a_trial_stream_stopped_after_its_first_chunk_closes_the_circuit(
    make: Make, clock: Clock
) -> None:
    await open_it(make, clock)
    layer = make(FakeProvider("many words in this answer"))
    stream = layer.stream(REQUEST)
    async for _chunk in stream:
        break
    await stream.aclose()  # type: ignore[attr-defined]
    assert await layer.state() == "closed"


# --- keys and cost ---------------------------------------------------------------------


async def test_one_key_per_provider_and_model(
    make: Make, prefix: str, raw: redis.asyncio.Redis
) -> None:
    inner = RetryingProvider(FakeProvider(responses=[boom()] * 3), RetryConfig(max_retries=0))
    layer = make(inner)  # the name is found under the retry layer
    await fail(layer, 3)
    assert layer.name == "fake"
    key = f"{prefix}:fake:fake-model"
    assert layer.factory.key("fake", "fake-model") == key
    assert await raw.hget(key, "st") == b"o"
    assert 0 < await raw.pttl(key) <= (10 + 86_400) * 1000
    other_model = LLMRequest(messages=REQUEST.messages, model="other:model")
    assert (await make(FakeProvider("fine")).complete(other_model)).text == "fine"
    assert await raw.exists(f"{prefix}:fake:other:model") == 0  # healthy: nothing stored
    named = make(FakeProvider(responses=[boom()]), provider="my:provider")
    await fail(named, 1)
    assert await raw.exists(f"{prefix}:my%3Aprovider:fake-model") == 1
    assert DEFAULT_BREAKER_PREFIX == "aether:breaker"


async def test_a_healthy_call_costs_one_round_trip(make: Make, redis_server: RedisServer) -> None:
    client = CountingRedis.to(redis_server.url)
    try:
        layer = make(FakeProvider(responses=[boom(), "a", *["b"] * 20]), url=None, client=client)
        await fail(layer, 1)  # admit, then count the failure
        assert client.sent == 2
        await layer.complete(REQUEST)  # admit, then end the run of failures it saw
        assert client.sent == 4
        for _ in range(20):
            await layer.complete(REQUEST)
        assert client.sent == 24
    finally:
        await client.aclose()


# --- Redis unavailable -----------------------------------------------------------------


async def test_redis_down_falls_back_to_local_state_with_one_warning(
    make: Make, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    url = f"redis://app:{SECRET}@127.0.0.1:{free_port()}/0"
    layer = make(FakeProvider(responses=["ok", boom(), boom(), boom()]), url=url, recheck=60)
    assert (await layer.complete(REQUEST)).text == "ok"  # not blocked by the dead server
    await fail(layer, 3)
    with pytest.raises(CircuitOpenError):  # the local breaker opened
        await layer.complete(REQUEST)
    assert await layer.state() == "open"
    warnings = messages(caplog, "aether.redis", logging.WARNING)
    assert len(warnings) == 1
    assert "Redis at redis://app:***@127.0.0.1:" in warnings[0]
    assert "unavailable to the circuit breaker" in warnings[0]
    assert all(SECRET not in r.getMessage() for r in caplog.records)
    assert SECRET not in repr(layer)


async def test_a_server_that_never_answers_does_not_hold_calls(
    make: Make, caplog: pytest.LogCaptureFixture
) -> None:
    held: list[asyncio.StreamWriter] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        layer = make(FakeProvider("ok"), url=f"redis://127.0.0.1:{port}/0", timeout=0.1)
        assert [(await layer.complete(REQUEST)).text for _ in range(3)] == ["ok"] * 3
        assert len(messages(caplog, "aether.redis", logging.WARNING)) == 1
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_state_is_shared_again_once_redis_is_back(
    tmp_path: Path, make: Make, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    server = RedisServer(tmp_path / "redis")
    server.start()
    try:
        first = make(FakeProvider(responses=["ok", *[boom()] * 5]), url=server.url, recheck=0)
        second = make(FakeProvider("fine"), url=server.url, recheck=0)
        assert (await first.complete(REQUEST)).text == "ok"  # connected
        await asyncio.to_thread(server.kill)
        await fail(first, 2)  # local state; the shared one learns nothing
        await asyncio.to_thread(server.start)
        await fail(first, 3)  # shared again: these three open the fleet's circuit
        with pytest.raises(CircuitOpenError):
            await second.complete(REQUEST)
        assert len(messages(caplog, "aether.redis", logging.WARNING)) == 1
        assert any("answers again" in m for m in messages(caplog, "aether.redis"))
    finally:
        server.stop()


# --- construction ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({}, ValueError),
        ({"url": "redis://x", "client": object()}, ValueError),
        ({"url": "redis://x", "prefix": ""}, ValueError),
        ({"url": "redis://x", "trial_timeout": 0}, ValueError),
        ({"url": "redis://x", "timeout": -1}, ValueError),
        ({"url": "redis://x", "recheck": float("nan")}, ValueError),
        ({"url": "redis://x", "config": {"failure_threshold": 2}}, TypeError),
        ({"url": f"http://:{SECRET}@127.0.0.1:6379/0"}, ValueError),
        ({"url": f"redis://:{SECRET}@127.0.0.1:port/0"}, ValueError),
    ],
)
def test_bad_arguments_are_rejected_without_the_password(
    kwargs: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error) as caught:
        RedisCircuitBreaker(**kwargs)
    assert SECRET not in str(caught.value)


async def test_the_factory_is_a_layer_factory(
    redis_server: RedisServer, prefix: str, raw: redis.asyncio.Redis
) -> None:
    async def connections() -> int:
        return len(await raw.client_list())

    before = await connections()
    factory = RedisCircuitBreaker(redis_server.url, prefix=prefix)
    build: Callable[[LLMProvider], LLMProvider] = factory
    first, second = build(FakeProvider("hi")), build(FakeProvider("there"))
    assert isinstance(first, RedisCircuitBreakerProvider)
    assert isinstance(second, RedisCircuitBreakerProvider)
    assert first.default_model == "fake-model"
    assert (await first.complete(REQUEST)).text == "hi"
    assert (await second.complete(REQUEST)).text == "there"
    assert await connections() == before + 1  # one pool for both layers
    await first.aclose()
    await first.aclose()  # twice: still only one layer done with the pool
    assert await connections() == before + 1
    assert (await second.complete(REQUEST)).text == "there"
    await second.aclose()  # the last layer closes the pool
    for _ in range(500):  # the server notices a closed connection on its next loop turn
        if await connections() == before:
            break
        await asyncio.sleep(0.01)
    assert await connections() == before
    hidden = RedisCircuitBreaker(f"redis://app:{SECRET}@127.0.0.1:6379/0")
    assert (
        repr(hidden) == "RedisCircuitBreaker('redis://app:***@127.0.0.1:6379/0', "
        "prefix='aether:breaker')"
    )


async def test_both_layers_through_provider_config(
    redis_server: RedisServer, prefix: str, clock: Clock
) -> None:
    # The limiter innermost (every attempt takes a slot), the shared breaker where the local
    # one goes, outside retry (a call whose retries all failed is one failure).
    limiter = RedisRateLimiter(
        redis_server.url,
        limit=RateLimit(requests_per_minute=60),
        prefix=prefix,
        clock=clock,
        sleep=clock.sleep,
    )
    breaker = RedisCircuitBreaker(
        redis_server.url,
        config=CircuitBreakerConfig(failure_threshold=3),
        prefix=prefix,
        clock=clock,
    )
    config = ProviderConfig(
        layers=[limiter],
        circuit_breaker=breaker,
        retry=RetryConfig(max_retries=1),
        cost_tracking=None,
    )
    fake = FakeProvider(responses=[boom()] * 6)
    stack = build_provider(config, provider=fake)
    assert find_layer(stack, RedisCircuitBreakerProvider) is not None
    assert find_layer(stack, RedisRateLimitedProvider) is not None
    with set_testing(True):
        await fail(stack, 3)
        with pytest.raises(CircuitOpenError):
            await stack.complete(REQUEST)
    assert len(fake.calls) == 6  # two attempts a call
    assert clock.sleeps == [1.0, 2.0, 3.0, 4.0, 5.0]  # each attempt had its own slot
    await maybe_aclose(stack)
