"""Which provider answered: the marks a fallback chain puts on its fallbacks' answers, and the
``fallback_provider`` of ``request.complete`` and ``stream.complete`` read from them."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from aether import Aether
from aether.errors import ServerError
from aether.events import (
    REQUEST_COMPLETE,
    STREAM_COMPLETE,
    RequestComplete,
    StreamComplete,
)
from aether.extensions.llm import FallbackProvider, FallbackTarget, _fallback_mark
from aether.extensions.llm._fallback_mark import fallback_of, mark_fallback
from aether.extensions.llm.builder import ProviderConfig
from aether.extensions.llm.fake import FakeProvider, ScriptItem
from aether.extensions.llm.registry import PROVIDER_KIND
from aether.extensions.llm.retrying import set_testing
from aether.llm.contracts import LLMRequest, LLMResponse, LLMStreamChunk, Message, ToolCall
from aether.registry import Registry

REQUEST = LLMRequest(messages=[Message(role="user", content="hi")], model="main-model")
BUSY = ServerError("busy", status_code=503)


@pytest.fixture(autouse=True)
def instant_retries() -> Iterator[None]:
    with set_testing(True):
        yield


def client(*first: ScriptItem) -> Aether:
    """A client whose first provider (``fake``) follows ``first``; ``spare`` echoes."""
    registry = Registry()
    for name in ("fake", "spare"):
        registry.register(PROVIDER_KIND, name)(FakeProvider)
    config = ProviderConfig(
        provider="fake",
        options={"responses": list(first)},
        retry=None,
        fallbacks=[ProviderConfig(provider="spare", model="spare-model")],
    )
    return Aether(config=config, registry=registry)


# --- the events -----------------------------------------------------------------------------


async def test_request_complete_names_the_fallback_that_answered() -> None:
    seen: list[RequestComplete] = []
    async with client(BUSY, "first answers") as aether:
        aether.on(REQUEST_COMPLETE, seen.append)
        assert await aether.ask("hi") == "You said: hi"
        assert await aether.ask("again") == "first answers"
    assert [event.fallback_provider for event in seen] == ["spare", None]
    assert seen[0].response.model == "spare-model"
    assert not seen[0].cached


async def test_stream_complete_names_the_fallback_that_answered() -> None:
    seen: list[StreamComplete] = []
    async with client(BUSY, "first answers") as aether:
        aether.on(STREAM_COMPLETE, seen.append)
        assert "".join([t async for t in aether.stream_text("hi")]) == "You said: hi"
        assert "".join([t async for t in aether.stream_text("x")]) == "first answers"
    assert [(event.text, event.fallback_provider) for event in seen] == [
        ("You said: hi", "spare"),
        ("first answers", None),
    ]


def weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


async def test_with_tool_rounds_the_events_name_the_fallback_of_each_round() -> None:
    # Round one: the first provider asks for the tool; round two: it fails, the spare answers.
    call = ToolCall(id="call_1", name="weather", arguments={"city": "Paris"})
    requests: list[RequestComplete] = []
    streams: list[StreamComplete] = []
    async with client(call, BUSY, call, BUSY) as aether:
        aether.on(REQUEST_COMPLETE, requests.append)
        aether.on(STREAM_COMPLETE, streams.append)
        assert await aether.ask("hi", tools=[weather]) == "You said: hi"
        text = "".join([t async for t in aether.stream_text("hi", tools=[weather])])
    assert text == "You said: hi"
    assert [event.fallback_provider for event in requests] == [None, "spare"]
    [stream] = streams
    assert stream.fallback_provider == "spare"


# --- the marks ------------------------------------------------------------------------------


async def test_the_chain_marks_only_what_a_fallback_gave() -> None:
    first = FakeProvider(responses=[BUSY, "first", BUSY, "first"])
    provider = FallbackProvider([first, FallbackTarget(FakeProvider(), name="b", model="b-1")])
    by_fallback = await provider.complete(REQUEST)
    mark = fallback_of(by_fallback)
    assert mark is not None and (mark.provider, mark.model) == ("b", "b-1")
    assert fallback_of(await provider.complete(REQUEST)) is None
    chunks = [chunk async for chunk in provider.stream(REQUEST)]
    assert len(chunks) > 1
    assert all(fallback_of(chunk) is not None for chunk in chunks)  # each one, the last too
    assert not any(fallback_of(chunk) for chunk in [c async for c in provider.stream(REQUEST)])


async def test_an_unnamed_fallback_is_marked_by_its_providers_class() -> None:
    class Anonymous:
        async def complete(self, request: LLMRequest) -> LLMResponse:
            return LLMResponse(text="ok")

        async def stream(self, request: LLMRequest) -> Any:
            yield LLMStreamChunk(text="ok")

    provider = FallbackProvider([FakeProvider(responses=[BUSY]), Anonymous()])
    mark = fallback_of(await provider.complete(REQUEST))
    assert mark is not None and mark.provider == "Anonymous"


def test_a_mark_is_weak_and_never_matches_another_answer() -> None:
    answer = LLMResponse(text="kept only here")
    mark_fallback(answer, "b", None)
    assert fallback_of(answer) is not None
    assert fallback_of(LLMResponse(text="kept only here")) is None  # equal is not the same
    key = id(answer)
    del answer
    gc.collect()
    assert key not in _fallback_mark._marks


async def test_without_a_chain_the_events_do_not_look_for_marks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def never(answer: object) -> None:
        raise AssertionError("looked for a fallback's mark in a program without a chain")

    monkeypatch.setattr(_fallback_mark, "watching", False)
    monkeypatch.setattr(_fallback_mark, "fallback_of", never)
    requests: list[RequestComplete] = []
    streams: list[StreamComplete] = []
    async with Aether(FakeProvider()) as aether:
        aether.on(REQUEST_COMPLETE, requests.append)
        aether.on(STREAM_COMPLETE, streams.append)
        await aether.ask("hi")
        assert "".join([t async for t in aether.stream_text("hi")]) == "You said: hi"
    assert requests[0].fallback_provider is None and streams[0].fallback_provider is None


def test_building_a_chain_turns_the_look_up_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_fallback_mark, "watching", False)
    FallbackProvider([FakeProvider(), FakeProvider()])
    assert _fallback_mark.watching is True
