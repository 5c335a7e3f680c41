"""Provider fallback: the classification, the chain for whole answers and streams, its
errors and its edges (builder, layers, usage and events: test_fallback_builder.py)."""

from __future__ import annotations

import pickle
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import pytest
from pydantic import ValidationError

from aether.errors import (
    AetherError,
    AuthenticationError,
    BadRequestError,
    CircuitOpenError,
    ConflictError,
    ContextLengthError,
    FallbackError,
    NotFoundError,
    ProviderConnectionError,
    ProviderTimeoutError,
    RateLimitError,
    ResponseBlockedError,
    ServerError,
    StreamInterruptedError,
    UnexpectedResponseError,
)
from aether.events import RequestRetry
from aether.extensions.llm import (
    FallbackPolicy,
    FallbackProvider,
    FallbackTarget,
    FallOver,
)
from aether.extensions.llm.fake import FakeProvider, Fault, ScriptItem
from aether.extensions.llm.retrying import RetryConfig, RetryingProvider, set_testing
from aether.llm.contracts import LLMProvider, LLMRequest, LLMResponse, LLMStreamChunk, Message

REQUEST = LLMRequest(messages=[Message(role="user", content="hi")], model="main-model")


@pytest.fixture(autouse=True)
def instant_retries() -> Iterator[None]:
    with set_testing(True):
        yield


def circuit_open() -> CircuitOpenError:
    return CircuitOpenError(provider="a", retry_in=30.0, failures=5)


# --- the classification ---------------------------------------------------------------------

TABLE: list[tuple[BaseException, FallOver]] = [
    (circuit_open(), "next"),
    (ServerError("down", status_code=503), "next"),
    (ServerError("bad gateway", status_code=502), "next"),
    (RateLimitError("slow down", status_code=429), "next"),
    (ProviderTimeoutError("slow"), "next"),
    (ProviderTimeoutError("request timeout", status_code=408), "next"),
    (ProviderConnectionError("refused"), "next"),
    (StreamInterruptedError("dropped"), "next"),
    (AuthenticationError("bad key", status_code=401), "next"),
    (AuthenticationError("no access", status_code=403), "next"),
    (ContextLengthError("too long", status_code=400), "longer_context"),
    (BadRequestError("malformed", status_code=400), "stop"),
    (BadRequestError("unprocessable", status_code=422), "stop"),
    (NotFoundError("no such model", status_code=404), "stop"),
    (ConflictError("conflict", status_code=409), "stop"),
    (UnexpectedResponseError("a web page"), "stop"),
    (ResponseBlockedError("blocked", reason="SAFETY"), "stop"),
    (ValueError("a bug"), "stop"),
]


@pytest.mark.parametrize(("error", "verdict"), TABLE, ids=lambda v: type(v).__name__)
def test_the_default_classification(error: BaseException, verdict: FallOver) -> None:
    policy = FallbackPolicy()
    assert policy.classify(error) == verdict
    assert policy.falls_over(error) is (verdict != "stop")


def test_including_and_excluding_error_classes() -> None:
    bad = BadRequestError("malformed", status_code=400)
    auth = AuthenticationError("bad key", status_code=401)
    policy = FallbackPolicy().including(BadRequestError).excluding(AuthenticationError)
    assert policy.classify(bad) == "next"
    assert policy.classify(auth) == "stop"
    # The context-length rule still applies to its subclass of BadRequestError.
    assert policy.classify(ContextLengthError("too long")) == "longer_context"
    # Including again takes it out of ``never``.
    assert policy.including(AuthenticationError).classify(auth) == "next"
    # ``never`` wins over a base class in ``on``.
    broad = FallbackPolicy(on=(AetherError,), never=(RateLimitError,))
    assert broad.classify(bad) == "next"
    assert broad.classify(RateLimitError("slow down")) == "stop"


def test_only_error_classes_are_taken() -> None:
    with pytest.raises(ValidationError):
        FallbackPolicy().including(str)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        FallbackPolicy(on=("ServerError",))  # type: ignore[arg-type]


def test_the_context_length_rule_can_be_turned_off() -> None:
    error = ContextLengthError("too long", status_code=400)
    assert FallbackPolicy(context_length=False).classify(error) == "stop"
    everything = FallbackPolicy(context_length=False).including(BadRequestError)
    assert everything.classify(error) == "next"


def test_a_predicate_decides_first_and_none_defers() -> None:
    def teapots(error: BaseException) -> bool | None:
        status = getattr(error, "status_code", None)
        if status == 418:
            return True
        if status == 503:
            return False
        return None

    policy = FallbackPolicy(when=teapots)
    assert policy.classify(BadRequestError("teapot", status_code=418)) == "next"
    assert policy.classify(ServerError("down", status_code=503)) == "stop"
    assert policy.classify(ServerError("down", status_code=500)) == "next"  # the rules


# --- the chain, whole answers ---------------------------------------------------------------


def chain(*scripts: Sequence[ScriptItem], **kwargs: Any) -> tuple[FallbackProvider, list[Any]]:
    fakes = [
        FakeProvider(responses=list(script), default_model=f"model-{n}")
        for n, script in enumerate(scripts)
    ]
    return FallbackProvider(fakes, **kwargs), fakes


FALLS_OVER = [error for error, verdict in TABLE if verdict == "next"]


@pytest.mark.parametrize("error", FALLS_OVER, ids=lambda e: type(e).__name__)
async def test_each_default_class_falls_over_on_complete(error: BaseException) -> None:
    provider, (first, second) = chain([error], ["second answers"])
    response = await provider.complete(REQUEST)
    assert response.text == "second answers"
    assert len(first.calls) == len(second.calls) == 1


@pytest.mark.parametrize("error", FALLS_OVER, ids=lambda e: type(e).__name__)
async def test_each_default_class_falls_over_before_a_stream_starts(error: BaseException) -> None:
    provider, (_, second) = chain([Fault(error)], ["second answers"])
    text = "".join([chunk.text async for chunk in provider.stream(REQUEST)])
    assert text == "second answers"
    assert len(second.calls) == 1


@pytest.mark.parametrize("status", [400, 422])
async def test_a_malformed_request_does_not_fall_over(status: int) -> None:
    error = BadRequestError("malformed", status_code=status)
    provider, (_, second) = chain([error], ["never asked"])
    with pytest.raises(BadRequestError) as info:
        await provider.complete(REQUEST)
    assert info.value is error  # the first provider's own error, untouched
    assert second.calls == []


async def test_a_configured_policy_makes_a_400_fall_over() -> None:
    policy = FallbackPolicy().including(BadRequestError)
    provider, _ = chain([BadRequestError("no", status_code=400)], ["ok"], policy=policy)
    assert (await provider.complete(REQUEST)).text == "ok"


async def test_each_fallback_answers_with_its_own_model() -> None:
    provider, (first, second, third) = chain(
        [ServerError("down", status_code=503)],
        [ServerError("down", status_code=503)],
        ["third answers"],
    )
    response = await provider.complete(REQUEST)
    assert [fake.calls[0].model for fake in (first, second, third)] == [
        "main-model",  # the request's model is the first provider's
        "model-1",
        "model-2",
    ]
    assert response.model == "model-2"


async def test_a_target_names_its_model_and_an_answer_without_one_gets_it() -> None:
    class Anonymous:
        async def complete(self, request: LLMRequest) -> LLMResponse:
            return LLMResponse(text=f"asked {request.model}")

        async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
            yield LLMStreamChunk(text="x")

    first = FakeProvider(responses=[ServerError("down", status_code=503)])
    provider = FallbackProvider([first, FallbackTarget(Anonymous(), name="backup", model="b-1")])
    response = await provider.complete(REQUEST)
    assert (response.text, response.model) == ("asked b-1", "b-1")


async def test_when_every_provider_fails_the_error_names_each_and_why() -> None:
    last = RateLimitError("slow down", status_code=429)
    provider, _ = chain([ServerError("down", status_code=503)], [circuit_open()], [last])
    with pytest.raises(FallbackError) as info:
        await provider.complete(REQUEST)
    error = info.value
    text = str(error)
    assert text.startswith("No provider of the fallback chain answered. ")
    assert "1. fake (model main-model): ServerError: [HTTP 503] down; " in text
    assert "2. fake (model model-1): CircuitOpenError: Circuit open for 'a'" in text
    assert "3. fake (model model-2): RateLimitError: [HTTP 429] slow down." in text
    assert "each error is on .failures, the last one is the __cause__" in text
    assert error.__cause__ is last
    assert [(name, model) for name, model, _ in error.failures] == [
        ("fake", "main-model"),
        ("fake", "model-1"),
        ("fake", "model-2"),
    ]
    assert isinstance(error.failures[1][2], CircuitOpenError)
    copy = pickle.loads(pickle.dumps(error))
    assert str(copy) == text and len(copy.failures) == 3


async def test_a_fallback_that_fails_with_an_error_that_does_not_fall_over_stops_the_chain() -> (
    None
):
    bad = BadRequestError("malformed", status_code=400)
    provider, (_, _, third) = chain([ServerError("down", status_code=503)], [bad], ["unused"])
    with pytest.raises(FallbackError) as info:
        await provider.complete(REQUEST)
    assert info.value.__cause__ is bad
    assert "so 1 more provider was not tried" in str(info.value)
    assert third.calls == []


async def test_retries_are_spent_before_falling_over_and_counted_in_the_error() -> None:
    busy = [ServerError("busy", status_code=503) for _ in range(3)]
    first = FakeProvider(responses=busy)
    second = FakeProvider(responses=["ok"])
    retrying = RetryingProvider(first, RetryConfig(max_retries=2))
    provider = FallbackProvider([retrying, second])
    assert (await provider.complete(REQUEST)).text == "ok"
    assert len(first.calls) == 3  # its own retries first, then the next provider


# --- context length -------------------------------------------------------------------------


def windowed(*windows: int | None, scripts: Sequence[Sequence[ScriptItem]]) -> Any:
    fakes = [
        FakeProvider(responses=list(script), default_model=f"model-{n}")
        for n, script in enumerate(scripts)
    ]
    targets = [
        FallbackTarget(fake, name=f"p{n}", max_context_tokens=window)
        for n, (fake, window) in enumerate(zip(fakes, windows, strict=True))
    ]
    return FallbackProvider(targets), fakes


async def test_a_context_length_error_falls_over_only_to_a_longer_context() -> None:
    too_long = ContextLengthError("too long", status_code=400)
    provider, fakes = windowed(
        8_000, None, 8_000, 128_000, scripts=[[too_long], ["no"], ["no"], ["long answer"]]
    )
    assert (await provider.complete(REQUEST)).text == "long answer"
    assert [len(fake.calls) for fake in fakes] == [1, 0, 0, 1]


async def test_no_longer_context_raises_the_error_as_it_is() -> None:
    too_long = ContextLengthError("too long", status_code=400)
    provider, fakes = windowed(128_000, 8_000, scripts=[[too_long], ["no"]])
    with pytest.raises(ContextLengthError) as info:
        await provider.complete(REQUEST)
    assert info.value is too_long
    assert fakes[1].calls == []


async def test_after_a_context_length_error_only_longer_contexts_are_tried() -> None:
    # The 32k provider fails for another reason; the 4k one is still too short for the prompt.
    too_long = ContextLengthError("too long", status_code=400)
    provider, fakes = windowed(
        8_000,
        32_000,
        4_000,
        64_000,
        scripts=[[too_long], [ServerError("down", status_code=503)], ["no"], ["answer"]],
    )
    assert (await provider.complete(REQUEST)).text == "answer"
    assert [len(fake.calls) for fake in fakes] == [1, 1, 0, 1]


async def test_skipped_providers_are_named_when_all_fail() -> None:
    too_long = ContextLengthError("too long", status_code=400)
    provider, _ = windowed(
        8_000, 4_000, 32_000, scripts=[[too_long], ["no"], [ServerError("down", status_code=503)]]
    )
    with pytest.raises(FallbackError) as info:
        await provider.complete(REQUEST)
    assert "Skipped, as their context window is not larger" in str(info.value)
    assert info.value.skipped == ("p1 (model model-1)",)


# --- streams --------------------------------------------------------------------------------


class Streams:
    """A provider whose each stream is scripted: chunks, then an error or the end."""

    name = "streams"
    default_model = "streams-model"

    def __init__(self, *scripts: tuple[list[LLMStreamChunk], BaseException | None]) -> None:
        self.scripts = list(scripts)
        self.calls: list[LLMRequest] = []
        self.closed = 0

    async def complete(self, request: LLMRequest) -> LLMResponse:
        raise NotImplementedError

    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        self.calls.append(request)
        chunks, error = self.scripts.pop(0)
        try:
            for chunk in chunks:
                yield chunk
            if error is not None:
                raise error
        finally:
            self.closed += 1


async def test_chunks_without_content_are_held_and_dropped_on_a_fall_over() -> None:
    role_only = LLMStreamChunk(text="", model="first-model")
    first = Streams(([role_only, role_only], ServerError("down", status_code=503)))
    second = FakeProvider(responses=["from the second"])
    provider = FallbackProvider([first, second])
    chunks = [chunk async for chunk in provider.stream(REQUEST)]
    assert "".join(c.text for c in chunks) == "from the second"
    assert all(c.model != "first-model" for c in chunks)
    assert first.closed == 1


async def test_held_chunks_are_shown_before_the_first_content_and_at_an_empty_end() -> None:
    empty, hello = LLMStreamChunk(text=""), LLMStreamChunk(text="hello")
    last = LLMStreamChunk(finish_reason="stop", input_tokens=1, output_tokens=1)
    provider = FallbackProvider(
        [Streams(([empty, hello, last], None), ([empty, last], None)), FakeProvider()]
    )
    assert [c async for c in provider.stream(REQUEST)] == [empty, hello, last]
    assert [c async for c in provider.stream(REQUEST)] == [empty, last]  # an empty answer


async def read_into(seen: list[str], provider: LLMProvider) -> None:
    async for chunk in provider.stream(REQUEST):
        seen.append(chunk.text)


@pytest.mark.parametrize("retried", [False, True], ids=["bare", "with-retry"])
async def test_a_stream_broken_after_output_does_not_fall_over(retried: bool) -> None:
    broken = Fault(ServerError("down", status_code=503), after_chunks=1, response="hello there")
    first = FakeProvider(responses=[broken])
    second = FakeProvider(responses=["never asked"])
    primary: LLMProvider = RetryingProvider(first) if retried else first
    provider = FallbackProvider([primary, second])
    seen: list[str] = []
    with pytest.raises(ServerError if not retried else StreamInterruptedError):
        await read_into(seen, provider)
    assert seen == ["hello "]
    assert second.calls == []


async def test_a_tool_call_delta_is_output_too() -> None:
    from aether.llm.contracts import ToolCallDelta

    delta = LLMStreamChunk(tool_call_deltas=[ToolCallDelta(index=0, name="add", arguments="{")])
    first = Streams(([delta], ServerError("down", status_code=503)))
    second = FakeProvider(responses=["never asked"])
    with pytest.raises(ServerError):
        async for _ in FallbackProvider([first, second]).stream(REQUEST):
            pass
    assert second.calls == []


async def test_a_consumer_that_stops_early_closes_the_answering_stream() -> None:
    first = Streams(([LLMStreamChunk(text="a"), LLMStreamChunk(text="b")], None))
    provider = FallbackProvider([first, FakeProvider()])
    stream = provider.stream(REQUEST)
    async for _ in stream:
        break
    await stream.aclose()  # type: ignore[attr-defined]
    assert first.closed == 1


async def test_a_fallbacks_last_chunk_without_a_model_gets_the_fallbacks_model() -> None:
    last = LLMStreamChunk(finish_reason="stop", input_tokens=3, output_tokens=2)
    second = Streams(([LLMStreamChunk(text="hi"), last], None))
    first = FakeProvider(responses=[ServerError("down", status_code=503)])
    provider = FallbackProvider([first, FallbackTarget(second, model="backup-model")])
    chunks = [c async for c in provider.stream(REQUEST)]
    assert [c.model for c in chunks] == [None, "backup-model"]
    assert second.calls[0].model == "backup-model"


# --- the chain's edges ----------------------------------------------------------------------


def test_a_chain_needs_two_providers() -> None:
    with pytest.raises(ValueError, match="at least two providers"):
        FallbackProvider([FakeProvider()])


async def test_a_failing_on_fallback_callback_is_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(event: RequestRetry) -> None:
        raise RuntimeError("subscriber bug")

    provider, _ = chain([ServerError("down", status_code=503)], ["ok"], on_fallback=broken)
    assert (await provider.complete(REQUEST)).text == "ok"
    assert "on_fallback callback" in caplog.text


async def test_the_chain_closes_every_provider() -> None:
    closed: list[str] = []

    class Closing(FakeProvider):
        async def aclose(self) -> None:
            closed.append(self.default_model)
            if self.default_model == "a":
                raise RuntimeError("close failed")

    provider = FallbackProvider([Closing(default_model="a"), Closing(default_model="b")])
    with pytest.raises(RuntimeError, match="close failed"):
        await provider.aclose()
    assert closed == ["a", "b"]
