"""``ask(question, provider)``: the spec's one-call convenience, delegating to ``Aether``."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

import aether
import aether.llm
from aether.errors import (
    MaxToolIterationsError,
    ServerError,
    ToolNotFoundError,
    UnknownProviderError,
)
from aether.events import REQUEST_COMPLETE, REQUEST_START, EventBus
from aether.extensions.llm.fake import FakeProvider, ScriptItem
from aether.extensions.llm.retrying import set_testing
from aether.llm.ask import ask
from aether.llm.contracts import LLMResponse, Message, ToolCall
from aether.registry import default_registry
from aether.tools import make_tool


class ClosableFake(FakeProvider):
    """A FakeProvider that counts how often it is closed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.closed = 0

    async def aclose(self) -> None:
        self.closed += 1


@pytest.fixture
def scripted() -> Iterator[list[ClosableFake]]:
    """Registers provider ``scripted``; each build answers "recovered" after one 503."""
    built: list[ClosableFake] = []

    def factory(api_key: str | None = None) -> ClosableFake:
        script: list[ScriptItem] = [ServerError("busy", status_code=503), "recovered"]
        built.append(ClosableFake(responses=script))
        return built[-1]

    with default_registry.isolated(), set_testing(True):
        default_registry.add("provider", "scripted", factory)
        yield built


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def tool_turn(call_id: str) -> LLMResponse:
    return LLMResponse(
        text="", tool_calls=[ToolCall(id=call_id, name="add", arguments={"a": 17, "b": 25})]
    )


def test_exported_from_aether_llm_and_aether() -> None:
    assert aether.ask is ask
    assert aether.llm.ask is ask
    assert "ask" in aether.__all__ and "ask" in aether.llm.__all__


async def test_a_provider_object_is_used_as_given_and_left_open() -> None:
    fake = ClosableFake(canned_response="hello")
    assert await ask("hi", fake) == "hello"
    assert fake.calls[0].messages == [Message(role="user", content="hi")]
    assert fake.closed == 0  # the caller's provider: it may be used again
    # As given, like Aether(provider): no retry layer is added around it.
    flaky = ClosableFake(responses=[ServerError("busy", status_code=503), "never reached"])
    with pytest.raises(ServerError):
        await ask("hi", flaky)
    assert len(flaky.calls) == 1


async def test_a_name_builds_the_resilient_stack_and_closes_it(
    scripted: list[ClosableFake],
) -> None:
    assert await ask("hi", "scripted") == "recovered"  # the retry layer retried the 503
    [provider] = scripted
    assert len(provider.calls) == 2
    assert provider.closed == 1


async def test_no_provider_reads_llm_provider(
    scripted: list[ClosableFake], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLM_PROVIDER", "scripted")
    assert await ask("hi") == "recovered"
    assert [p.closed for p in scripted] == [1]


async def test_a_built_client_is_closed_when_the_call_fails(
    scripted: list[ClosableFake],
) -> None:
    with pytest.raises(ToolNotFoundError):
        await ask("hi", "scripted", tools=["not_registered"])
    assert [p.closed for p in scripted] == [1]


async def test_call_options_reach_the_request() -> None:
    fake = FakeProvider(responses=[tool_turn("c1"), "42"])
    answer = await ask(
        "17+25?",
        fake,
        tools=[make_tool(add)],
        model="m-1",
        temperature=0.1,
        max_tokens=50,
        stop=["END"],
        tool_choice="required",
    )
    assert answer == "42"
    first = fake.calls[0]
    assert (first.model, first.temperature, first.max_tokens, first.stop) == (
        "m-1",
        0.1,
        50,
        ["END"],
    )
    assert (first.tool_choice, [t.name for t in first.tools]) == ("required", ["add"])
    assert fake.calls[1].messages[-1].content == "42"


async def test_settings_and_allowed_tools_reach_the_request() -> None:
    def mult(a: int, b: int) -> int:
        return a * b

    fake = FakeProvider(canned_response="ok")
    await ask(
        "hi",
        fake,
        tools=[make_tool(add), make_tool(mult)],
        allowed_tools=["mult"],
        temperature=0.2,
        settings={"seed": 7, "temperature": 0.9, "reasoning": {"effort": "low"}},
    )
    request = fake.calls[0]
    assert (request.seed, request.reasoning, request.allowed_tools) == (
        7,
        {"effort": "low"},
        ["mult"],
    )
    assert request.temperature == 0.2  # the keyword wins over settings=


async def test_settings_timeout_bounds_the_whole_call() -> None:
    from aether.errors import ProviderTimeoutError

    async def hang() -> str:
        await asyncio.Event().wait()
        return "never"

    slow = FakeProvider(
        responses=[LLMResponse(text="", tool_calls=[ToolCall(id="h", name="hang")]), "late"]
    )
    with pytest.raises(ProviderTimeoutError, match=r"0\.05s timeout"):
        await ask("wait", slow, tools=[make_tool(hang)], settings={"timeout": 0.05})


async def test_tool_loop_options_reach_the_loop() -> None:
    looping = FakeProvider(responses=[tool_turn("c1"), tool_turn("c2"), "unused"])
    with pytest.raises(MaxToolIterationsError):
        await ask("loop", looping, tools=[make_tool(add)], max_tool_iterations=1)
    assert len(looping.calls) == 2

    async def hang() -> str:
        await asyncio.Event().wait()
        return "never"

    slow = FakeProvider(
        responses=[LLMResponse(text="", tool_calls=[ToolCall(id="h", name="hang")]), "gave up"]
    )
    assert await ask("wait", slow, tools=[make_tool(hang)], tool_timeout=0.01) == "gave up"
    assert "did not finish within 0.01s" in slow.calls[1].messages[-1].content


async def test_events_reach_the_given_bus() -> None:
    bus = EventBus()
    seen: list[str] = []
    for name in (REQUEST_START, REQUEST_COMPLETE):
        bus.on(name, lambda event: seen.append(event.name))
    await ask("hi", FakeProvider(canned_response="ok"), events=bus)
    assert seen == [REQUEST_START, REQUEST_COMPLETE]


async def test_bad_input_says_what_to_pass() -> None:
    with pytest.raises(TypeError, match=r"question as a str.*Aether\(\)\.ask\(messages\)"):
        await ask([Message(role="user", content="hi")])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="is not an LLM provider"):
        await ask("hi", 42)  # type: ignore[arg-type]
    with default_registry.isolated(), pytest.raises(UnknownProviderError, match="no-such"):
        await ask("hi", "no-such-provider")
