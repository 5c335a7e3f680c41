"""Retries are visible: the final error's summary, the INFO line, ``request.retry``, the cap."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

from aether import Aether
from aether.errors import (
    BadRequestError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    ServerError,
    StreamInterruptedError,
)
from aether.events import REQUEST_RETRY, RequestRetry
from aether.extensions.llm._default_stack import DefaultStack
from aether.extensions.llm.builder import ProviderConfig, build_provider
from aether.extensions.llm.fake import FakeProvider, Fault, ScriptItem
from aether.extensions.llm.retrying import RetryConfig, RetryingProvider, set_testing
from aether.http import error_from_response
from aether.llm.contracts import LLMProvider, LLMRequest, Message

REQUEST = LLMRequest(messages=[Message(role="user", content="hi")], model="m-1")
STEADY = RetryConfig(jitter=0.0)  # waits of exactly 0.5 s, then 1.0 s
KEY = "sk-live-0123456789"

Build = Callable[[FakeProvider, Callable[[RequestRetry], None]], LLMProvider]


def layer_alone(fake: FakeProvider, on_retry: Callable[[RequestRetry], None]) -> LLMProvider:
    return RetryingProvider(fake, STEADY, on_retry=on_retry)


def default_stack(fake: FakeProvider, on_retry: Callable[[RequestRetry], None]) -> LLMProvider:
    built = build_provider(ProviderConfig(retry=STEADY), provider=fake, on_retry=on_retry)
    assert type(built) is DefaultStack  # the fused path, which must say the same
    return built


BUILDS = pytest.mark.parametrize("build", [layer_alone, default_stack], ids=["layer", "stack"])


@pytest.fixture(autouse=True)
def instant_retries() -> Iterator[None]:
    with set_testing(True):  # decisions and the delays counted are unchanged
        yield


async def call(provider: LLMProvider, streaming: bool) -> None:
    if streaming:
        async for _ in provider.stream(REQUEST):
            pass
    else:
        await provider.complete(REQUEST)


def script(streaming: bool, *items: ScriptItem) -> FakeProvider:
    """Errors raised before any chunk when ``streaming``, as a failed handshake does."""

    def wrap(item: ScriptItem) -> ScriptItem:
        return Fault(item, after_chunks=0) if isinstance(item, BaseException) else item

    return FakeProvider(responses=[wrap(i) if streaming else i for i in items])


def failing() -> list[ProviderError]:
    return [
        ServerError("Overloaded.", provider="fake", status_code=503),
        ProviderTimeoutError("Timed out.", provider="fake"),
        ServerError("Bad gateway.", provider="fake", status_code=502),
    ]


# --- the final error ------------------------------------------------------------------------


@BUILDS
@pytest.mark.parametrize("streaming", [False, True], ids=["complete", "stream"])
async def test_the_final_error_says_attempts_statuses_and_time_waited(
    build: Build, streaming: bool
) -> None:
    errors = failing()
    provider = build(script(streaming, *errors), lambda event: None)
    with pytest.raises(ServerError) as info:
        await call(provider, streaming)
    error = info.value
    assert error is errors[-1]
    assert (error.attempts, error.statuses, error.waited_seconds) == (3, (503, None, 502), 1.5)
    summary = (
        "Tried 3 times (HTTP 503, ProviderTimeoutError, HTTP 502), waiting 1.50s in all. "
        "No retry is left (RetryConfig(max_retries=2))."
    )
    assert error.retry_summary == summary
    assert str(error) == f"[fake HTTP 502] Bad gateway. {summary}"  # the error's words first
    assert summary in repr(error)


async def test_a_single_attempt_keeps_the_defaults() -> None:
    error = BadRequestError("Bad field.", provider="fake", status_code=400)
    with pytest.raises(BadRequestError) as info:
        await layer_alone(FakeProvider(responses=[error]), lambda event: None).complete(REQUEST)
    assert (info.value.attempts, info.value.statuses, info.value.waited_seconds) == (1, (400,), 0)
    assert info.value.retry_summary is None
    assert str(info.value) == "[fake HTTP 400] Bad field."


async def test_retries_ended_by_an_error_not_worth_retrying_say_so() -> None:
    errors = [ServerError("Down.", status_code=503), BadRequestError("Bad.", status_code=400)]
    with pytest.raises(BadRequestError) as info:
        await layer_alone(FakeProvider(responses=errors), lambda event: None).complete(REQUEST)
    assert (info.value.attempts, info.value.statuses) == (2, (503, 400))
    assert str(info.value).endswith(
        "Tried 2 times (HTTP 503, HTTP 400), waiting 0.50s in all. "
        "The last error is not one a retry can fix."
    )


async def test_a_deadline_that_stops_the_retries_is_named() -> None:
    errors = [ServerError("Down.", status_code=500) for _ in range(3)]
    layer = RetryingProvider(FakeProvider(responses=errors), RetryConfig(jitter=0, deadline=1.0))
    with pytest.raises(ServerError) as info:
        await layer.complete(REQUEST)
    assert info.value.attempts == 2  # 0.5 s fits in the budget; the next 1.0 s would not
    assert "would pass the 1s deadline (RetryConfig(deadline=...))" in str(info.value)


# --- a server-requested wait beyond the cap --------------------------------------------------


@pytest.mark.parametrize("streaming", [False, True], ids=["complete", "stream"])
async def test_a_wait_beyond_the_cap_fails_at_once_and_says_how_to_raise_it(
    streaming: bool,
) -> None:
    body = json.dumps({"error": {"message": "Rate limit reached.", "type": "requests"}})
    error = error_from_response(
        provider="openai", status_code=429, headers={"retry-after": "300"}, body=body
    )
    fake = script(streaming, error, "never")
    retried: list[RequestRetry] = []
    with pytest.raises(RateLimitError) as info:
        await call(layer_alone(fake, retried.append), streaming)
    assert len(fake.calls) == 1 and retried == []
    text = str(info.value)
    assert text.startswith("[openai HTTP 429] Rate limit reached.")
    assert "asked to wait 300s before a retry, more than the 120s" in text
    assert "RetryConfig(max_retry_after=...)" in text
    assert "retry decorator" not in text  # the hint no longer promises a retry
    assert info.value.attempts == 1 and info.value.retry_after == 300.0


# --- the INFO line --------------------------------------------------------------------------


async def test_each_wait_is_logged_at_info_without_the_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="aether")
    errors = [ServerError(f"Upstream echoed key {KEY}.", provider="fake", status_code=503)]
    await layer_alone(FakeProvider(responses=[*errors, "ok"]), lambda event: None).complete(REQUEST)
    [line] = [r for r in caplog.records if r.name == "aether.retry"]
    assert line.levelno == logging.INFO
    assert line.getMessage() == (
        "Retrying fake (model m-1) in 0.50s: attempt 1 of 3 failed with HTTP 503 (ServerError)."
    )
    assert KEY not in caplog.text


# --- request.retry --------------------------------------------------------------------------


def client_with(*items: ScriptItem) -> Aether:
    options: dict[str, Any] = {"responses": list(items)}
    return Aether(config=ProviderConfig(provider="fake", options=options, retry=STEADY))


@pytest.mark.parametrize("streaming", [False, True], ids=["complete", "stream"])
async def test_request_retry_reaches_the_clients_subscribers(streaming: bool) -> None:
    first, second = failing()[:2]
    client = client_with(*(Fault(e, after_chunks=0) for e in (first, second)), "ok")
    seen: list[RequestRetry] = []
    client.on(REQUEST_RETRY, seen.append)
    if streaming:
        assert "".join([t async for t in client.stream_text("hi", model="m-2")]) == "ok"
    else:
        assert (await client.complete("hi", model="m-2")).text == "ok"
    assert [(e.attempt, e.delay_seconds, e.error) for e in seen] == [
        (1, 0.5, first),
        (2, 1.0, second),
    ]
    assert {(e.name, e.provider, e.model, e.request.model) for e in seen} == {
        ("request.retry", "fake", "m-2", "m-2")
    }


async def test_async_subscribers_are_awaited_and_a_failing_one_breaks_nothing() -> None:
    client = client_with(failing()[0], "ok")
    seen: list[int] = []

    async def record(event: RequestRetry) -> None:
        seen.append(event.attempt)

    def broken(event: RequestRetry) -> None:
        raise RuntimeError("subscriber bug")

    client.on(REQUEST_RETRY, broken)
    client.on(REQUEST_RETRY, record)
    assert await client.ask("hi") == "ok"
    assert seen == [1]


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_a_failing_on_retry_callback_is_logged_not_raised(
    caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    def sync_boom(event: RequestRetry) -> None:
        raise RuntimeError("boom")

    async def async_boom(event: RequestRetry) -> None:
        raise RuntimeError("boom")

    callback: Callable[[RequestRetry], Awaitable[None] | None] = (
        sync_boom if kind == "sync" else async_boom
    )
    layer = RetryingProvider(FakeProvider(responses=[failing()[0], "ok"]), on_retry=callback)
    assert (await layer.complete(REQUEST)).text == "ok"
    assert "on_retry callback" in caplog.text


async def test_nothing_is_told_when_the_first_attempt_succeeds() -> None:
    told: list[RequestRetry] = []
    for build in (layer_alone, default_stack):
        provider = build(FakeProvider(responses=["ok", "ok"]), told.append)
        await provider.complete(REQUEST)
        await call(provider, streaming=True)
    assert told == []


@BUILDS
async def test_a_stream_that_breaks_after_a_retry_counts_both_attempts(build: Build) -> None:
    first = ServerError("Overloaded.", provider="fake", status_code=503)
    broken = Fault(
        ServerError("Reset.", provider="fake", status_code=502),
        after_chunks=2,
        response="one two three",
    )
    provider = build(
        FakeProvider(responses=[Fault(first, after_chunks=0), broken]), lambda event: None
    )
    with pytest.raises(StreamInterruptedError) as info:
        await call(provider, streaming=True)
    assert info.value.chunks_received == 2
    assert (info.value.attempts, info.value.statuses) == (2, (503, 502))
    assert "Tried 2 times (HTTP 503, HTTP 502), waiting 0.50s in all." in str(info.value)
