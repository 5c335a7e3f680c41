"""The retry layer: what is retried, how long it waits, and streams retried only before output."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Callable

import pytest

from aether.errors import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ContextLengthError,
    NotFoundError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    ServerError,
    StreamInterruptedError,
)
from aether.extensions.llm.fake import FakeProvider, Fault
from aether.extensions.llm.retrying import (
    RetryConfig,
    RetryingProvider,
    is_retryable,
    is_testing,
    set_testing,
)
from aether.llm.contracts import LLMProvider, LLMRequest, LLMStreamChunk, Message

from .conftest import FakeClock

REQUEST = LLMRequest(messages=[Message(role="user", content="hi")])
ANSWER = "one two three four five six seven"


def no_jitter() -> float:
    return 0.0


def constant(value: float) -> Callable[[], float]:
    return lambda: value


def retrying(
    fake: FakeProvider, clock: FakeClock, config: RetryConfig | None = None
) -> RetryingProvider:
    return RetryingProvider(fake, config, sleep=clock.sleep, clock=clock, rng=no_jitter)


def mapped_error(status: int) -> ProviderError:
    """The error a provider's status mapping raises for ``status``."""
    by_status: dict[int, type[ProviderError]] = {
        400: BadRequestError,
        401: AuthenticationError,
        403: AuthenticationError,
        404: NotFoundError,
        408: ProviderTimeoutError,
        409: ConflictError,
        422: BadRequestError,
        429: RateLimitError,
    }
    cls = by_status.get(status, ServerError if status >= 500 else BadRequestError)
    return cls(f"status {status}", status_code=status)


# --- the status matrix -----------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
@pytest.mark.parametrize("typed", [True, False], ids=["mapped", "plain"])
async def test_client_errors_are_tried_once(clock: FakeClock, status: int, typed: bool) -> None:
    error = mapped_error(status) if typed else ProviderError("x", status_code=status)
    fake = FakeProvider(responses=[error, "never reached"])
    with pytest.raises(ProviderError) as info:
        await retrying(fake, clock).complete(REQUEST)
    assert info.value is error
    assert len(fake.calls) == 1
    assert clock.sleeps == []


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504, 529])
@pytest.mark.parametrize("max_retries", [0, 1, 2, 4])
@pytest.mark.parametrize("typed", [True, False], ids=["mapped", "plain"])
async def test_transient_errors_are_tried_one_plus_max_retries_times(
    clock: FakeClock, status: int, max_retries: int, typed: bool
) -> None:
    attempts = max_retries + 1
    errors = [
        mapped_error(status) if typed else ProviderError("x", status_code=status)
        for _ in range(attempts)
    ]
    fake = FakeProvider(responses=errors)
    with pytest.raises(ProviderError) as info:
        await retrying(fake, clock, RetryConfig(max_retries=max_retries)).complete(REQUEST)
    assert info.value is errors[-1]
    assert len(fake.calls) == attempts
    assert len(clock.sleeps) == max_retries


@pytest.mark.parametrize(
    "error",
    [
        ProviderTimeoutError("timed out"),
        ProviderConnectionError("refused"),
        RateLimitError("overloaded"),
        ServerError("bad gateway"),
    ],
    ids=lambda e: type(e).__name__,
)
async def test_timeouts_and_connection_errors_are_retried_then_succeed(
    clock: FakeClock, error: ProviderError
) -> None:
    fake = FakeProvider(responses=[error, "ok"])
    response = await retrying(fake, clock).complete(REQUEST)
    assert response.text == "ok"
    assert len(fake.calls) == 2


async def test_context_length_and_non_provider_errors_are_not_retried(clock: FakeClock) -> None:
    for error in (ContextLengthError("too long", status_code=400), ValueError("a bug")):
        fake = FakeProvider(responses=[error, "never"])
        with pytest.raises(type(error)):
            await retrying(fake, clock).complete(REQUEST)
        assert len(fake.calls) == 1


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (BadRequestError("x", status_code=400, should_retry=True), True),
        (ServerError("x", status_code=500, should_retry=False), False),
        (RateLimitError("x", status_code=429, should_retry=False), False),
        (ProviderError("x", status_code=418, should_retry=True), True),
        (ProviderError("x", status_code=418), False),
        (ProviderError("x"), False),
        (StreamInterruptedError("x"), True),
    ],
)
def test_is_retryable_lets_x_should_retry_override_the_status(
    error: ProviderError, expected: bool
) -> None:
    assert is_retryable(error) is expected


async def test_x_should_retry_true_retries_a_400(clock: FakeClock) -> None:
    fake = FakeProvider(responses=[BadRequestError("x", status_code=400, should_retry=True), "ok"])
    assert (await retrying(fake, clock).complete(REQUEST)).text == "ok"
    assert len(fake.calls) == 2


async def test_x_should_retry_false_stops_a_503(clock: FakeClock) -> None:
    fake = FakeProvider(responses=[ServerError("x", status_code=503, should_retry=False), "ok"])
    with pytest.raises(ServerError):
        await retrying(fake, clock).complete(REQUEST)
    assert len(fake.calls) == 1


# --- how long it waits -----------------------------------------------------------------


async def test_backoff_doubles_from_half_a_second_and_caps_at_eight(clock: FakeClock) -> None:
    errors = [ServerError("x", status_code=500) for _ in range(7)]
    fake = FakeProvider(responses=[*errors, "ok"])
    await retrying(fake, clock, RetryConfig(max_retries=7)).complete(REQUEST)
    assert clock.sleeps == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


async def test_jitter_cuts_at_most_a_quarter_of_the_backoff(clock: FakeClock) -> None:
    for draw, expected in ((0.0, 0.5), (0.5, 0.4375), (0.999999, 0.375)):
        clock.sleeps.clear()
        fake = FakeProvider(responses=[ServerError("x", status_code=500), "ok"])
        layer = RetryingProvider(fake, sleep=clock.sleep, clock=clock, rng=constant(draw))
        await layer.complete(REQUEST)
        assert clock.sleeps == [pytest.approx(expected, abs=1e-5)]


@pytest.mark.parametrize(
    ("retry_after", "expected_sleep"),
    [
        (None, 0.5),  # absent: backoff
        (0.0, 0.5),  # "retry now" is treated like absent (as the OpenAI SDK does): backoff
        (math.nan, 0.5),  # never produced by the parser, but harmless: backoff
        (0.25, 0.25),  # retry-after-ms=250
        (3.0, 3.0),
        (120.0, 120.0),  # the longest honoured wait
    ],
)
async def test_retry_after_is_honoured_up_to_120_seconds(
    clock: FakeClock, retry_after: float | None, expected_sleep: float
) -> None:
    fake = FakeProvider(
        responses=[RateLimitError("x", status_code=429, retry_after=retry_after), "ok"]
    )
    assert (await retrying(fake, clock).complete(REQUEST)).text == "ok"
    assert clock.sleeps == [expected_sleep]


@pytest.mark.parametrize("retry_after", [120.001, 121.0, 3600.0, 1e12, math.inf])
async def test_a_longer_server_requested_wait_surfaces_the_error(
    clock: FakeClock, retry_after: float
) -> None:
    error = RateLimitError("x", status_code=429, retry_after=retry_after)
    fake = FakeProvider(responses=[error, "never"])
    with pytest.raises(RateLimitError) as info:
        await retrying(fake, clock).complete(REQUEST)
    assert info.value is error
    assert info.value.retry_after == retry_after  # the caller can still see how long to wait
    assert clock.sleeps == []
    assert len(fake.calls) == 1


async def test_max_retry_after_is_configurable(clock: FakeClock) -> None:
    error = RateLimitError("x", status_code=429, retry_after=30.0)
    fake = FakeProvider(responses=[error, "never"])
    with pytest.raises(RateLimitError):
        await retrying(fake, clock, RetryConfig(max_retry_after=10.0)).complete(REQUEST)
    assert clock.sleeps == []


async def test_the_deadline_stops_a_retry_whose_wait_would_pass_it(clock: FakeClock) -> None:
    errors = [ServerError("x", status_code=500) for _ in range(3)]
    fake = FakeProvider(responses=[*errors, "never"])
    config = RetryConfig(max_retries=5, deadline=2.0)
    with pytest.raises(ServerError) as info:
        await retrying(fake, clock, config).complete(REQUEST)
    # 0.5 + 1.0 fit in 2 s; the next 2.0 s wait would end at 3.5 s.
    assert clock.sleeps == [0.5, 1.0]
    assert info.value is errors[2]


async def test_the_deadline_counts_time_spent_in_attempts(clock: FakeClock) -> None:
    class Slow:
        def __init__(self) -> None:
            self.calls = 0

        async def complete(self, request: LLMRequest) -> object:
            self.calls += 1
            clock.advance(1.8)
            raise ServerError("x", status_code=500)

    slow = Slow()
    layer = RetryingProvider(
        slow,  # type: ignore[arg-type]
        RetryConfig(deadline=2.0),
        sleep=clock.sleep,
        clock=clock,
        rng=no_jitter,
    )
    with pytest.raises(ServerError):
        await layer.complete(REQUEST)
    assert slow.calls == 1  # 1.8 s spent + 0.5 s wait > 2 s


async def test_set_testing_makes_waits_instant_without_changing_decisions() -> None:
    slept: list[float] = []

    async def sleep(delay: float) -> None:
        slept.append(delay)

    errors = [ServerError("x", status_code=500) for _ in range(3)]
    fake = FakeProvider(responses=errors)
    layer = RetryingProvider(fake, sleep=sleep)
    assert not is_testing()
    with set_testing(True):
        assert is_testing()
        with pytest.raises(ServerError):
            await layer.complete(REQUEST)
    assert not is_testing()
    assert slept == []
    assert len(fake.calls) == 3


def test_set_testing_as_a_plain_call_stays_on_until_turned_off() -> None:
    set_testing(True)
    try:
        assert is_testing()
    finally:
        set_testing(False)
    assert not is_testing()


def test_config_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        RetryConfig(max_retries=-1)
    with pytest.raises(ValueError):
        RetryConfig(jitter=1.5)
    with pytest.raises(ValueError):
        RetryConfig(deadline=0)


# --- streams ---------------------------------------------------------------------------


async def collect(stream: AsyncIterator[LLMStreamChunk]) -> list[LLMStreamChunk]:
    return [chunk async for chunk in stream]


async def drain_into(stream: AsyncIterator[LLMStreamChunk], received: list[str]) -> None:
    async for chunk in stream:
        received.append(chunk.text)


async def test_stream_failing_before_the_first_chunk_is_retried(clock: FakeClock) -> None:
    fake = FakeProvider(
        responses=[
            Fault(ServerError("x", status_code=502), after_chunks=0, response=ANSWER),
            ANSWER,
        ]
    )
    chunks = await collect(retrying(fake, clock).stream(REQUEST))
    assert "".join(c.text for c in chunks) == ANSWER
    assert len(fake.calls) == 2
    assert clock.sleeps == [0.5]


@pytest.mark.parametrize("after", [1, 5])
async def test_stream_failing_after_output_is_not_retried_nor_duplicated(
    clock: FakeClock, after: int
) -> None:
    cause = ServerError("x", status_code=502)
    fake = FakeProvider(responses=[Fault(cause, after_chunks=after, response=ANSWER), ANSWER])
    received: list[str] = []
    with pytest.raises(StreamInterruptedError) as info:
        await drain_into(retrying(fake, clock).stream(REQUEST), received)
    assert received == [word + " " for word in ANSWER.split(" ")][:after]  # nothing repeated
    assert info.value.chunks_received == after
    assert info.value.__cause__ is cause
    assert info.value.status_code == 502
    assert len(fake.calls) == 1
    assert fake.remaining == 1
    assert clock.sleeps == []


async def test_stream_interrupted_error_from_the_provider_is_kept(clock: FakeClock) -> None:
    original = StreamInterruptedError("dropped", chunks_received=2)
    fake = FakeProvider(responses=[Fault(original, after_chunks=2, response=ANSWER)])
    with pytest.raises(StreamInterruptedError) as info:
        await collect(retrying(fake, clock).stream(REQUEST))
    assert info.value is original


async def test_stream_gives_up_after_max_retries_before_output(clock: FakeClock) -> None:
    faults = [Fault(ServerError("x", status_code=500)) for _ in range(3)]
    fake = FakeProvider(responses=faults)
    with pytest.raises(ServerError):
        await collect(retrying(fake, clock).stream(REQUEST))
    assert len(fake.calls) == 3


async def test_stream_client_error_before_output_is_not_retried(clock: FakeClock) -> None:
    fake = FakeProvider(responses=[BadRequestError("bad", status_code=400), ANSWER])
    with pytest.raises(BadRequestError):
        await collect(retrying(fake, clock).stream(REQUEST))
    assert len(fake.calls) == 1


class Tracked:
    """A provider whose stream records whether it was closed."""

    default_model = "tracked-model"

    def __init__(self) -> None:
        self.closed = False
        self.aclosed = False

    async def complete(self, request: LLMRequest) -> object:
        raise NotImplementedError

    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        try:
            for index in range(100):
                yield LLMStreamChunk(text=str(index))
        finally:
            self.closed = True

    async def aclose(self) -> None:
        self.aclosed = True


async def test_an_early_break_closes_the_inner_stream(clock: FakeClock) -> None:
    inner = Tracked()
    layer = RetryingProvider(inner)  # type: ignore[arg-type]
    stream = layer.stream(REQUEST)
    async for _chunk in stream:
        break
    await stream.aclose()  # type: ignore[attr-defined]
    assert inner.closed


async def test_default_model_and_aclose_pass_through() -> None:
    inner = Tracked()
    layer = RetryingProvider(inner)  # type: ignore[arg-type]
    assert isinstance(layer, LLMProvider)
    assert id(layer.inner) == id(inner)
    assert layer.default_model == "tracked-model"
    await layer.aclose()
    assert inner.aclosed
    bare = RetryingProvider(FakeProvider())
    await bare.aclose()  # FakeProvider has no aclose: nothing to do, no error


async def test_cancellation_while_waiting_is_not_swallowed() -> None:
    started = asyncio.Event()

    async def sleep(delay: float) -> None:
        started.set()
        await asyncio.Event().wait()

    fake = FakeProvider(responses=[ServerError("x", status_code=500), "ok"])
    task = asyncio.create_task(RetryingProvider(fake, sleep=sleep).complete(REQUEST))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(fake.calls) == 1
