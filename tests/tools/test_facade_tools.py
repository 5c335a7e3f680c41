"""The README's tool examples through the Aether facade, with a scripted FakeProvider."""

from __future__ import annotations

import re
from typing import Any

import pytest

from aether.client import Aether
from aether.errors import ConfigurationError, MaxToolIterationsError
from aether.events import (
    REQUEST_START,
    STREAM_CHUNK,
    STREAM_COMPLETE,
    STREAM_START,
    TOOL_COMPLETE,
    TOOL_ERROR,
    TOOL_START,
)
from aether.extensions.llm.fake import FakeProvider
from aether.llm.contracts import LLMResponse, Message, ToolCall
from aether.tools import DeferredToolCallsError, Tool, register_tool


def tool_turn(*calls: ToolCall, text: str = "") -> LLMResponse:
    return LLMResponse(
        text=text, model="fake-model", input_tokens=1, output_tokens=1, tool_calls=list(calls)
    )


@pytest.fixture
def add() -> Any:
    @register_tool(description="Add two numbers")
    def add(a: int, b: int) -> int:
        return a + b

    return add


async def test_readme_ask_with_tools(add: Any) -> None:
    fake = FakeProvider(
        responses=[
            tool_turn(ToolCall(id="c1", name="add", arguments={"a": 17, "b": 25})),
            "The answer is 42.",
        ]
    )
    client = Aether(fake)
    answer = await client.ask("What is 17 + 25?", tools=["add"])
    assert answer == "The answer is 42."
    first = fake.calls[0]
    assert [t.name for t in first.tools] == ["add"]
    assert first.tools[0].description == "Add two numbers"
    assert fake.calls[1].messages[-1].content == "42"
    assert client.usage.total_requests == 2  # cost tracking sees each provider call


async def test_readme_stream_text_with_tools_is_one_logical_stream(add: Any) -> None:
    fake = FakeProvider(
        responses=[
            tool_turn(
                ToolCall(id="c1", name="add", arguments={"a": 17, "b": 25}),
                text="Let me add those. ",
            ),
            "The answer is 42.",
        ]
    )
    client = Aether(fake)
    seen: list[str] = []
    for name in (STREAM_START, STREAM_COMPLETE, TOOL_START, TOOL_COMPLETE, REQUEST_START):
        client.on(name, lambda event: seen.append(event.name))
    chunk_events: list[Any] = []
    client.on(STREAM_CHUNK, chunk_events.append)
    completed: list[Any] = []
    client.on(STREAM_COMPLETE, completed.append)

    text = "".join([d async for d in client.stream_text("What's 17+25?", tools=["add"])])

    assert text == "Let me add those. The answer is 42."
    assert seen.count(STREAM_START) == seen.count(STREAM_COMPLETE) == 1
    assert seen.count(TOOL_START) == seen.count(TOOL_COMPLETE) == 1
    assert seen.count(REQUEST_START) == 0  # streaming fires stream.*, not request.*
    assert seen[0] == STREAM_START and seen[-1] == STREAM_COMPLETE
    assert all(not e.chunk.tool_calls for e in chunk_events)
    assert completed[0].text == text
    assert completed[0].finish_reason == "stop"


async def test_readme_get_customer_tool(isolated_registry: Any) -> None:
    @register_tool(description="Look up a customer by ID")
    def get_customer(customer_id: str) -> dict[str, str]:
        """
        Args:
            customer_id: Internal customer ID (UUID).
        """
        return {"id": customer_id, "name": "..."}

    fake = FakeProvider(
        responses=[
            tool_turn(ToolCall(id="c1", name="get_customer", arguments={"customer_id": "u-1"})),
            "Found them.",
        ]
    )
    response = await Aether(fake).complete("Who is u-1?", tools=["get_customer"])
    assert response.text == "Found them."
    spec = fake.calls[0].tools[0]
    assert spec.parameters["properties"]["customer_id"]["description"] == (
        "Internal customer ID (UUID)."
    )
    assert fake.calls[1].messages[-1].content == '{"id":"u-1","name":"..."}'


async def test_readme_async_tools_and_tool_errors_as_content() -> None:
    @register_tool(description="Fetch a page")
    async def fetch(url: str) -> str:
        raise ConnectionError(f"cannot reach {url}")

    fake = FakeProvider(
        responses=[
            tool_turn(ToolCall(id="c1", name="fetch", arguments={"url": "http://x"})),
            "The site is down.",
        ]
    )
    client = Aether(fake)
    alerts: list[str] = []

    @client.on(TOOL_ERROR)
    async def alert(event: Any) -> None:
        alerts.append(f"Tool {event.call.name} failed: {event.error}")

    assert await client.ask("Fetch x", tools=["fetch"]) == "The site is down."
    assert alerts == [
        "Tool fetch failed: Tool 'fetch' raised ConnectionError: cannot reach http://x"
    ]


async def test_tools_are_only_offered_when_named(add: Any) -> None:
    fake = FakeProvider(responses=["no tools"])
    await Aether(fake).ask("hi")
    assert fake.calls[0].tools == []


async def test_functions_can_be_passed_directly(add: Any) -> None:
    def mul(a: int, b: int) -> int:
        return a * b

    fake = FakeProvider(
        responses=[tool_turn(ToolCall(id="c1", name="mul", arguments={"a": 6, "b": 7})), "42"]
    )
    assert await Aether(fake).ask("6*7?", tools=[mul, add]) == "42"
    assert [t.name for t in fake.calls[0].tools] == ["mul", "add"]
    assert fake.calls[1].messages[-1].content == "42"


async def test_max_tool_iterations_kwarg_and_env(add: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    looping = tool_turn(ToolCall(id="c", name="add", arguments={"a": 1, "b": 1}))
    fake = FakeProvider(responses=[looping] * 3)
    with pytest.raises(MaxToolIterationsError) as info:
        await Aether(fake).ask("loop", tools=["add"], max_tool_iterations=2)
    assert info.value.iterations == 2
    assert fake.remaining == 0  # two rounds, then the third answer still asked for tools
    monkeypatch.setenv("AETHER_MAX_TOOL_ITERATIONS", "3")
    fake = FakeProvider(responses=[looping] * 4)
    with pytest.raises(MaxToolIterationsError) as info:
        await Aether(fake).ask("loop", tools=["add"])
    assert info.value.iterations == 3
    assert fake.remaining == 0


@pytest.mark.parametrize("streamed", [False, True], ids=["ask", "stream_text"])
async def test_max_tool_iterations_one_runs_one_round_then_answers(
    add: Any, streamed: bool
) -> None:
    fake = FakeProvider(
        responses=[
            tool_turn(ToolCall(id="c1", name="add", arguments={"a": 17, "b": 25})),
            "The answer is 42.",
        ]
    )
    client = Aether(fake)
    ran: list[str] = []
    client.on(TOOL_COMPLETE, lambda event: ran.append(event.result))
    if streamed:
        chunks = client.stream_text("17+25?", tools=["add"], max_tool_iterations=1)
        text = "".join([delta async for delta in chunks])
    else:
        text = await client.ask("17+25?", tools=["add"], max_tool_iterations=1)
    assert text == "The answer is 42."
    assert ran == ["42"]
    assert len(fake.calls) == 2


async def test_the_env_cap_counts_tool_rounds_too(
    add: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AETHER_MAX_TOOL_ITERATIONS", "1")
    looping = tool_turn(ToolCall(id="c", name="add", arguments={"a": 1, "b": 1}))
    fake = FakeProvider(responses=[looping, "2"])
    assert await Aether(fake).ask("1+1?", tools=["add"]) == "2"
    fake = FakeProvider(responses=[looping] * 5)
    with pytest.raises(MaxToolIterationsError) as info:
        async for _ in Aether(fake).stream_text("loop", tools=["add"]):
            pass
    assert info.value.iterations == 1
    assert len(fake.calls) == 2


# --- allowed_tools ----------------------------------------------------------------------


async def _call_with(client: Aether, method: str, **kwargs: Any) -> None:
    if method in ("ask", "complete"):
        await getattr(client, method)("2+3?", **kwargs)
    else:
        async for _ in getattr(client, method)("2+3?", **kwargs):
            pass


@pytest.mark.parametrize("method", ["ask", "complete", "stream", "stream_text"])
async def test_allowed_tools_reach_the_request_with_every_tool_still_declared(
    add: Any, method: str
) -> None:
    @register_tool
    def mult(a: int, b: int) -> int:
        return a * b

    fake = FakeProvider(canned_response="5")
    client = Aether(fake)
    await _call_with(client, method, tools=["add", "mult"], allowed_tools=["mult", "mult"])
    request = fake.calls[0]
    assert request.allowed_tools == ["mult"]  # once each
    assert [t.name for t in request.tools] == ["add", "mult"]


async def test_without_allowed_tools_the_request_allows_all(add: Any) -> None:
    fake = FakeProvider(canned_response="5")
    await Aether(fake).ask("2+3?", tools=["add"])
    assert fake.calls[0].allowed_tools is None


@pytest.mark.parametrize(
    ("tools", "allowed", "error", "fragment"),
    [
        (
            ["add"],
            ["ad"],
            ConfigurationError,
            re.escape(
                "allowed_tools names 'ad', not among this call's tools (add). Did you mean 'add'?"
            ),
        ),
        (None, ["add"], ConfigurationError, re.escape("not among this call's tools (none)")),
        (["add"], [], ConfigurationError, "allows no tool; .*tool_choice='none'"),
        (["add"], "add", TypeError, r"use \['add'\]"),
        (["add"], [3], TypeError, "holds tool names, got 3"),
    ],
    ids=["unknown", "no-tools", "empty", "string", "not-a-name"],
)
async def test_bad_allowed_tools_are_refused_before_anything_is_sent(
    add: Any, tools: Any, allowed: Any, error: type[Exception], fragment: str
) -> None:
    fake = FakeProvider(canned_response="5")
    with pytest.raises(error, match=fragment):
        await Aether(fake).ask("2+3?", tools=tools, allowed_tools=allowed)
    assert fake.calls == []


# --- deferred tools ---------------------------------------------------------------------


async def test_a_deferred_tool_through_the_facade_and_the_callers_answer(add: Any) -> None:
    ask_user = Tool.from_schema("ask_user", {"properties": {"q": {"type": "string"}}})
    fake = FakeProvider(
        responses=[
            tool_turn(ToolCall(id="c1", name="ask_user", arguments={"q": "Which city?"})),
            "Oslo it is.",
        ]
    )
    client = Aether(fake)
    with pytest.raises(DeferredToolCallsError) as info:
        await client.ask("Book me a hotel", tools=["add", ask_user])
    deferred = info.value
    results = [
        Message(role="tool", tool_call_id=call.id, name=call.name, content="Oslo")
        for call in deferred.calls
    ]
    answer = await client.ask([*deferred.messages, *results], tools=["add", ask_user])
    assert answer == "Oslo it is."
    assert [m.role for m in fake.calls[1].messages] == ["user", "assistant", "tool"]
