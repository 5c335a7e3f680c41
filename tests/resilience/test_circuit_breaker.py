"""The circuit breaker: what opens it, half-open trials, and cancellation never sticking it."""

from __future__ import annotations

import asyncio
import pickle
from collections.abc import AsyncIterator

import pytest

from aether.errors import (
    AuthenticationError,
    BadRequestError,
    CircuitOpenError,
    ContextLengthError,
    NotFoundError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    ServerError,
    StreamInterruptedError,
)
from aether.extensions.llm.circuit_breaker import (
    CircuitBreakerConfig,
    CircuitBreakerProvider,
    counts_as_failure,
)
from aether.extensions.llm.fake import FakeProvider, Fault
from aether.llm.contracts import LLMRequest, LLMResponse, LLMStreamChunk, Message

from .conftest import FakeClock

REQUEST = LLMRequest(messages=[Message(role="user", content="hi")])


def breaker(inner: object, clock: FakeClock, **config: float) -> CircuitBreakerProvider:
    settings = {"failure_threshold": 3, "reset_timeout": 10.0, **config}
    return CircuitBreakerProvider(
        inner,  # type: ignore[arg-type]
        CircuitBreakerConfig(**settings),  # type: ignore[arg-type]
        name="fake",
        clock=clock,
    )


def state(layer: CircuitBreakerProvider) -> str:
    """The state as a plain string (keeps mypy from narrowing a property across awaits)."""
    return layer.state


def boom() -> ServerError:
    return ServerError("down", status_code=503)


async def fail(layer: CircuitBreakerProvider, times: int) -> None:
    for _ in range(times):
        with pytest.raises(ServerError):
            await layer.complete(REQUEST)


# --- what counts ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "counted"),
    [
        (ServerError("x", status_code=500), True),
        (ProviderError("x", status_code=503), True),
        (ProviderError("x", status_code=408), True),
        (ProviderTimeoutError("x"), True),
        (ProviderConnectionError("x"), True),
        (StreamInterruptedError("x", chunks_received=3), True),
        (BadRequestError("x", status_code=400), False),
        (AuthenticationError("x", status_code=401), False),
        (NotFoundError("x", status_code=404), False),
        (RateLimitError("x", status_code=429), False),
        (ContextLengthError("x", status_code=400), False),
        (asyncio.CancelledError(), False),
        (ValueError("a bug"), False),
    ],
    ids=repr,
)
def test_what_counts_as_a_failure(error: BaseException, counted: bool) -> None:
    assert counts_as_failure(error) is counted


async def test_client_errors_never_open_it(clock: FakeClock) -> None:
    errors: list[BaseException] = [
        BadRequestError("x", status_code=400),
        ContextLengthError("x", status_code=400),
        RateLimitError("x", status_code=429),
    ] * 3
    layer = breaker(FakeProvider(responses=[*errors, "ok"]), clock)
    for error in errors:
        with pytest.raises(type(error)):
            await layer.complete(REQUEST)
    assert state(layer) == "closed"
    assert (await layer.complete(REQUEST)).text == "ok"


# --- opening -------------------------------------------------------------------------


async def test_it_opens_after_the_threshold_and_fails_fast(clock: FakeClock) -> None:
    fake = FakeProvider(responses=[boom(), boom(), boom(), "never"])
    layer = breaker(fake, clock)
    await fail(layer, 2)
    assert state(layer) == "closed"
    assert layer.failures == 2
    await fail(layer, 1)
    assert state(layer) == "open"
    clock.advance(4.0)
    with pytest.raises(CircuitOpenError) as info:
        await layer.complete(REQUEST)
    assert len(fake.calls) == 3  # refused without calling the provider
    assert info.value.retry_in == pytest.approx(6.0)
    assert info.value.failures == 3
    assert info.value.provider == "fake"
    assert "6.0s" in str(info.value)
    assert "'fake'" in str(info.value)


async def test_a_success_resets_the_consecutive_count(clock: FakeClock) -> None:
    layer = breaker(FakeProvider(responses=[boom(), boom(), "ok", boom(), boom(), "ok"]), clock)
    for _ in range(2):
        await fail(layer, 2)
        await layer.complete(REQUEST)
        assert layer.failures == 0
    assert state(layer) == "closed"


async def test_failures_older_than_the_window_are_forgotten(clock: FakeClock) -> None:
    layer = breaker(FakeProvider(responses=[boom() for _ in range(4)]), clock, window=5.0)
    await fail(layer, 2)
    clock.advance(6.0)
    await fail(layer, 2)
    assert state(layer) == "closed"
    assert layer.failures == 2


# --- half-open -----------------------------------------------------------------------


async def open_it(layer: CircuitBreakerProvider, clock: FakeClock) -> None:
    await fail(layer, 3)
    assert state(layer) == "open"
    clock.advance(10.0)
    assert state(layer) == "half_open"


async def test_a_successful_trial_closes_it(clock: FakeClock) -> None:
    layer = breaker(FakeProvider(responses=[boom(), boom(), boom(), "ok", "ok"]), clock)
    await open_it(layer, clock)
    assert (await layer.complete(REQUEST)).text == "ok"
    assert state(layer) == "closed"
    assert (await layer.complete(REQUEST)).text == "ok"


async def test_a_failed_trial_opens_it_again_for_the_full_timeout(clock: FakeClock) -> None:
    layer = breaker(FakeProvider(responses=[boom() for _ in range(4)]), clock)
    await open_it(layer, clock)
    await fail(layer, 1)
    assert state(layer) == "open"
    with pytest.raises(CircuitOpenError) as info:
        await layer.complete(REQUEST)
    assert info.value.retry_in == pytest.approx(10.0)


class Gate:
    """A provider whose calls wait until released, so trials can be held in flight."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.entered = 0
        self.outcome: BaseException | None = None

    async def complete(self, request: LLMRequest) -> LLMResponse:
        self.entered += 1
        await self.release.wait()
        if self.outcome is not None:
            raise self.outcome
        return LLMResponse(text="ok", model="gate")

    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        self.entered += 1
        yield LLMStreamChunk(text="first")
        await self.release.wait()
        if self.outcome is not None:
            raise self.outcome
        yield LLMStreamChunk(text="last", finish_reason="stop")


async def trip(layer: CircuitBreakerProvider, gate: Gate, clock: FakeClock) -> None:
    gate.outcome = boom()
    gate.release.set()
    for _ in range(3):
        with pytest.raises(ServerError):
            await layer.complete(REQUEST)
    gate.release.clear()
    gate.outcome = None
    gate.entered = 0
    clock.advance(10.0)


async def test_half_open_lets_only_the_permitted_trials_through(clock: FakeClock) -> None:
    gate = Gate()
    layer = breaker(gate, clock, half_open_max_calls=2, success_threshold=2)
    await trip(layer, gate, clock)
    trials = [asyncio.create_task(layer.complete(REQUEST)) for _ in range(2)]
    await asyncio.sleep(0)
    with pytest.raises(CircuitOpenError) as info:
        await layer.complete(REQUEST)
    assert info.value.half_open
    assert "half-open" in str(info.value)
    assert gate.entered == 2
    gate.release.set()
    await asyncio.gather(*trials)
    assert state(layer) == "closed"


async def test_one_success_of_two_needed_keeps_it_half_open(clock: FakeClock) -> None:
    gate = Gate()
    layer = breaker(gate, clock, half_open_max_calls=1, success_threshold=2)
    await trip(layer, gate, clock)
    gate.release.set()
    await layer.complete(REQUEST)
    assert state(layer) == "half_open"
    await layer.complete(REQUEST)
    assert state(layer) == "closed"


async def test_a_cancelled_trial_gives_its_permit_back(clock: FakeClock) -> None:
    gate = Gate()
    layer = breaker(gate, clock)
    await trip(layer, gate, clock)
    trial = asyncio.create_task(layer.complete(REQUEST))
    await asyncio.sleep(0)
    with pytest.raises(CircuitOpenError):
        await layer.complete(REQUEST)
    trial.cancel()
    with pytest.raises(asyncio.CancelledError):
        await trial
    assert state(layer) == "half_open"
    gate.release.set()
    assert (await layer.complete(REQUEST)).text == "ok"
    assert state(layer) == "closed"


async def test_a_client_error_in_a_trial_gives_its_permit_back(clock: FakeClock) -> None:
    gate = Gate()
    layer = breaker(gate, clock)
    await trip(layer, gate, clock)
    gate.outcome = BadRequestError("x", status_code=400)
    gate.release.set()
    with pytest.raises(BadRequestError):
        await layer.complete(REQUEST)
    assert state(layer) == "half_open"
    gate.outcome = None
    await layer.complete(REQUEST)
    assert state(layer) == "closed"


@pytest.mark.parametrize("permits", [1, 3])
async def test_a_cancellation_storm_never_leaves_it_stuck_half_open(
    clock: FakeClock, permits: int
) -> None:
    gate = Gate()
    layer = breaker(gate, clock, half_open_max_calls=permits)
    await trip(layer, gate, clock)
    for _round in range(5):
        tasks: list[asyncio.Task[object]] = [
            asyncio.create_task(layer.complete(REQUEST)) for _ in range(50)
        ]
        tasks += [asyncio.create_task(drain(layer)) for _ in range(50)]
        await asyncio.sleep(0)
        for task in tasks:
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        admitted = sum(isinstance(r, asyncio.CancelledError) for r in results)
        refused = sum(isinstance(r, CircuitOpenError) for r in results)
        assert admitted + refused == 100
        assert admitted == permits  # the rest were refused, not queued
        assert state(layer) == "half_open"
    gate.release.set()
    assert (await layer.complete(REQUEST)).text == "ok"
    assert state(layer) == "closed"


async def drain(layer: CircuitBreakerProvider) -> list[LLMStreamChunk]:
    return [chunk async for chunk in layer.stream(REQUEST)]


async def test_late_verdicts_from_an_old_half_open_period_are_ignored(clock: FakeClock) -> None:
    gate = Gate()
    layer = breaker(gate, clock, half_open_max_calls=2)
    await trip(layer, gate, clock)
    slow = asyncio.create_task(layer.complete(REQUEST))
    await asyncio.sleep(0)
    # Another trial fails first and re-opens the circuit.
    gate.outcome = boom()
    failing = asyncio.create_task(layer.complete(REQUEST))
    await asyncio.sleep(0)
    gate.release.set()
    results = await asyncio.gather(slow, failing, return_exceptions=True)
    assert all(isinstance(r, ServerError) for r in results)
    assert state(layer) == "open"
    clock.advance(10.0)
    gate.outcome = None
    await layer.complete(REQUEST)
    assert state(layer) == "closed"


# --- streams -------------------------------------------------------------------------


async def test_streams_dropped_mid_way_count_as_failures(clock: FakeClock) -> None:
    faults = [Fault(StreamInterruptedError("x", chunks_received=2), 2, "a b c") for _ in range(3)]
    layer = breaker(FakeProvider(responses=faults), clock)
    for _ in range(3):
        with pytest.raises(StreamInterruptedError):
            await drain(layer)
    assert state(layer) == "open"
    with pytest.raises(CircuitOpenError):
        await drain(layer)


async def test_a_consumer_stopping_early_is_a_success_for_a_trial(clock: FakeClock) -> None:
    gate = Gate()
    layer = breaker(gate, clock)
    await trip(layer, gate, clock)
    stream = layer.stream(REQUEST)
    async for _chunk in stream:
        break
    await stream.aclose()  # type: ignore[attr-defined]
    assert state(layer) == "closed"


async def test_a_stream_closed_before_its_first_chunk_gives_the_permit_back(
    clock: FakeClock,
) -> None:
    gate = Gate()
    layer = breaker(gate, clock)
    await trip(layer, gate, clock)
    stream = layer.stream(REQUEST)
    await stream.aclose()  # type: ignore[attr-defined]  # never started: nothing admitted
    assert state(layer) == "half_open"
    gate.release.set()
    assert [c.text for c in await drain(layer)] == ["first", "last"]
    assert state(layer) == "closed"


# --- misc ----------------------------------------------------------------------------


async def test_reset_closes_it(clock: FakeClock) -> None:
    layer = breaker(FakeProvider(responses=[boom(), boom(), boom(), "ok"]), clock)
    await fail(layer, 3)
    layer.reset()
    assert state(layer) == "closed"
    assert (await layer.complete(REQUEST)).text == "ok"


def test_circuit_open_error_pickles() -> None:
    error = CircuitOpenError(provider="p", retry_in=2.5, failures=4, half_open=True)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.provider, copy.retry_in, copy.failures, copy.half_open) == ("p", 2.5, 4, True)
    assert str(copy) == str(error)


def test_repr_shows_the_state(clock: FakeClock) -> None:
    assert "state='closed'" in repr(breaker(FakeProvider(), clock))
