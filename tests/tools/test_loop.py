"""run_tool_loop / stream_tool_loop with scripted FakeProvider conversations."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest

from aether.errors import MaxToolIterationsError, ToolArgumentsError
from aether.events import (
    REQUEST_COMPLETE,
    REQUEST_START,
    TOOL_COMPLETE,
    TOOL_ERROR,
    TOOL_START,
    EventBus,
)
from aether.extensions.llm.fake import FakeProvider
from aether.llm.contracts import LLMRequest, LLMResponse, LLMStreamChunk, Message, ToolCall
from aether.tools import DeferredToolCallsError, Tool, make_tool, run_tool_loop, stream_tool_loop


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def calls(*items: tuple[str, str, dict[str, Any]], text: str = "") -> LLMResponse:
    return LLMResponse(
        text=text,
        model="fake-model",
        input_tokens=10,
        output_tokens=2,
        tool_calls=[ToolCall(id=i, name=n, arguments=a) for i, n, a in items],
        finish_reason="tool_calls",
    )


def answer(text: str) -> LLMResponse:
    return LLMResponse(
        text=text, model="fake-model", input_tokens=20, output_tokens=5, finish_reason="stop"
    )


def request_for(tools: Sequence[Tool], prompt: str = "What is 2 + 3?", **kw: Any) -> LLMRequest:
    return LLMRequest(
        messages=[Message(role="user", content=prompt)], tools=[t.spec for t in tools], **kw
    )


async def run(
    provider: Any, tools: Sequence[Tool], *, events: EventBus | None = None, **kw: Any
) -> LLMResponse:
    kw.setdefault("max_iterations", 10)
    return await run_tool_loop(
        provider, request_for(tools), tools, events=events or EventBus(), **kw
    )


async def stream(
    provider: Any, tools: Sequence[Tool], *, events: EventBus | None = None, **kw: Any
) -> list[LLMStreamChunk]:
    kw.setdefault("max_iterations", 10)
    source = stream_tool_loop(
        provider, request_for(tools), tools, events=events or EventBus(), **kw
    )
    return [chunk async for chunk in source]


async def final_text(provider: Any, tools: Sequence[Tool], *, streamed: bool) -> str:
    """The answer text of one run of the loop, non-streamed or streamed."""
    if streamed:
        return "".join(chunk.text for chunk in await stream(provider, tools))
    return (await run(provider, tools)).text


BOTH_LOOPS = pytest.mark.parametrize("streamed", [False, True], ids=["complete", "stream"])


def tool_messages(request: LLMRequest) -> list[tuple[str | None, str]]:
    return [(m.tool_call_id, m.content) for m in request.messages if m.role == "tool"]


# --- the README's scripted example -----------------------------------------------------


async def test_readme_scripted_flow() -> None:
    fake = FakeProvider(
        responses=[
            LLMResponse(
                text="",
                model="...",
                input_tokens=1,
                output_tokens=1,
                tool_calls=[ToolCall(id="c1", name="add", arguments={"a": 2, "b": 3})],
            ),
            LLMResponse(text="The answer is 5.", model="...", input_tokens=1, output_tokens=1),
        ]
    )
    response = await run(fake, [make_tool(add)])
    assert response.text == "The answer is 5."
    second = fake.calls[1]
    assert [m.role for m in second.messages] == ["user", "assistant", "tool"]
    assert second.messages[1].tool_calls[0].id == "c1"
    assert tool_messages(second) == [("c1", "5")]
    assert second.messages[2].name == "add"


# --- complete ---------------------------------------------------------------------------


async def test_no_tool_calls_returns_the_first_answer_as_is() -> None:
    first = answer("Hello")
    fake = FakeProvider(responses=[first])
    assert await run(fake, [make_tool(add)]) is first


async def test_usage_is_summed_over_iterations_and_text_is_the_last() -> None:
    fake = FakeProvider(
        responses=[calls(("c1", "add", {"a": 2, "b": 3}), text="Let me add."), answer("5.")]
    )
    response = await run(fake, [make_tool(add)])
    assert (response.text, response.finish_reason) == ("5.", "stop")
    assert (response.input_tokens, response.output_tokens) == (30, 7)
    assert fake.calls[1].messages[1].content == "Let me add."


async def test_parallel_calls_run_concurrently_and_answer_in_call_order() -> None:
    first_started = asyncio.Event()
    second_started = asyncio.Event()

    async def slow_first(x: int) -> str:
        first_started.set()
        await second_started.wait()  # would deadlock if the calls ran one after the other
        await asyncio.sleep(0.01)  # finish last
        return f"first:{x}"

    async def quick_second(x: int) -> str:
        second_started.set()
        await first_started.wait()
        return f"second:{x}"

    tools = [make_tool(slow_first), make_tool(quick_second)]
    fake = FakeProvider(
        responses=[
            calls(("a", "slow_first", {"x": 1}), ("b", "quick_second", {"x": 2})),
            answer("both done"),
        ]
    )
    response = await asyncio.wait_for(run(fake, tools), 5)
    assert response.text == "both done"
    assert tool_messages(fake.calls[1]) == [("a", "first:1"), ("b", "second:2")]


async def test_bad_arguments_go_back_to_the_model_which_corrects_itself() -> None:
    ran: list[tuple[int, int]] = []

    def tracked_add(a: int, b: int) -> int:
        ran.append((a, b))
        return a + b

    bus = EventBus()
    errors: list[Any] = []
    bus.on(TOOL_ERROR, errors.append)
    fake = FakeProvider(
        responses=[
            calls(("c1", "tracked_add", {"a": "two", "b": 3})),
            calls(("c2", "tracked_add", {"a": 2, "b": 3})),
            answer("5"),
        ]
    )
    response = await run(fake, [make_tool(tracked_add)], events=bus)
    assert response.text == "5"
    assert ran == [(2, 3)]
    [(call_id, content)] = tool_messages(fake.calls[1])
    assert call_id == "c1"
    assert content.startswith("Error: Invalid arguments for tool 'tracked_add': a:")
    assert isinstance(errors[0].error, ToolArgumentsError)


async def test_unknown_and_raising_tools_become_content_and_the_conversation_goes_on() -> None:
    def explode() -> str:
        raise RuntimeError("kaboom")

    fake = FakeProvider(
        responses=[calls(("c1", "explode", {}), ("c2", "nope", {})), answer("sorry")]
    )
    response = await run(fake, [make_tool(explode)])
    assert response.text == "sorry"
    results = dict(tool_messages(fake.calls[1]))
    assert results["c1"] == "Error: Tool 'explode' raised RuntimeError: kaboom"
    assert "no tool named 'nope'" in results["c2"]


@BOTH_LOOPS
async def test_every_usage_counter_is_summed_over_iterations(streamed: bool) -> None:
    def counted(input_tokens: int) -> LLMResponse:
        return LLMResponse(
            text="" if input_tokens < 100 else "done",
            model="fake-model",
            input_tokens=input_tokens,
            output_tokens=input_tokens // 10,
            cached_input_tokens=input_tokens // 2,
            cache_write_tokens=input_tokens // 5,
            reasoning_tokens=input_tokens // 20,
            tool_calls=[ToolCall(id="c1", name="add", arguments={"a": 1, "b": 1})]
            if input_tokens < 100
            else [],
        )

    fake = FakeProvider(responses=[counted(20), counted(40), counted(100)])
    tools = [make_tool(add)]
    if streamed:
        final: LLMResponse | LLMStreamChunk = (await stream(fake, tools))[-1]
    else:
        final = await run(fake, tools)
    counts = (
        final.input_tokens,
        final.output_tokens,
        final.cached_input_tokens,
        final.cache_write_tokens,
        final.reasoning_tokens,
    )
    assert counts == (160, 16, 80, 32, 8)


async def test_a_subscriber_added_mid_loop_gets_the_next_events_with_their_payloads() -> None:
    # Whether an event has subscribers is asked each time it could fire, never once per loop.
    bus = EventBus()
    seen: list[Any] = []

    def subscribe_then_add(a: int, b: int) -> int:
        if not seen:
            for name in (REQUEST_START, REQUEST_COMPLETE, TOOL_START, TOOL_COMPLETE):
                bus.on(name, seen.append)
        return a + b

    fake = FakeProvider(
        responses=[
            calls(("c1", "subscribe_then_add", {"a": 1, "b": 2})),
            calls(("c2", "subscribe_then_add", {"a": 3, "b": 4})),
            answer("done"),
        ]
    )
    await run(fake, [make_tool(subscribe_then_add)], events=bus)
    # The first tool.complete fires after the tool subscribed, so it is the first seen.
    assert [event.name for event in seen] == [
        TOOL_COMPLETE,
        REQUEST_START,
        REQUEST_COMPLETE,
        TOOL_START,
        TOOL_COMPLETE,
        REQUEST_START,
        REQUEST_COMPLETE,
    ]
    assert (seen[0].call.id, seen[0].result) == ("c1", "3")
    assert seen[1].request is fake.calls[1]
    assert seen[2].response.tool_calls[0].id == "c2"
    assert (seen[3].call.id, seen[4].call.id, seen[4].result) == ("c2", "c2", "7")
    assert seen[6].response.text == "done"


async def test_events_request_per_iteration_and_tool_per_call() -> None:
    bus = EventBus()
    seen: list[str] = []
    for name in (REQUEST_START, REQUEST_COMPLETE, TOOL_START, TOOL_COMPLETE, TOOL_ERROR):
        bus.on(name, lambda event: seen.append(event.name))
    fake = FakeProvider(
        responses=[calls(("c1", "add", {"a": 1, "b": 1}), ("c2", "add", {})), answer("2")]
    )
    await run(fake, [make_tool(add)], events=bus)
    assert seen.count(REQUEST_START) == seen.count(REQUEST_COMPLETE) == 2
    assert seen.count(TOOL_START) == 2
    assert seen.count(TOOL_COMPLETE) == seen.count(TOOL_ERROR) == 1


async def test_the_callers_request_is_not_mutated_and_forced_choice_is_first_call_only() -> None:
    tools = [make_tool(add)]
    request = request_for(tools, tool_choice="required")
    before = request.model_dump()
    fake = FakeProvider(responses=[calls(("c1", "add", {"a": 1, "b": 2})), answer("3")])
    await run_tool_loop(fake, request, tools, events=EventBus(), max_iterations=3)
    assert request.model_dump() == before
    assert [c.tool_choice for c in fake.calls] == ["required", None]
    assert len(request.messages) == 1  # the loop's appends went to its own list
    assert fake.calls[1].messages is not fake.calls[0].messages


@BOTH_LOOPS
async def test_a_slow_sync_tool_leaves_the_loop_responsive(streamed: bool) -> None:
    ticks: list[int] = []
    release = threading.Event()

    def slow_lookup() -> str:
        release.wait(timeout=5)  # only the ticker, running on the event loop, releases it
        return "found"

    async def ticker() -> None:
        for i in range(3):
            ticks.append(i)
            await asyncio.sleep(0)
        release.set()

    fake = FakeProvider(responses=[calls(("c1", "slow_lookup", {})), answer("ok")])
    text, _ = await asyncio.gather(
        final_text(fake, [make_tool(slow_lookup)], streamed=streamed), ticker()
    )
    assert text == "ok"
    assert ticks == [0, 1, 2]
    assert tool_messages(fake.calls[1]) == [("c1", "found")]


@BOTH_LOOPS
async def test_slow_sync_tool_sleeping_does_not_stop_other_tasks(streamed: bool) -> None:
    import time

    progress: list[int] = []
    seen_by_tool: list[int] = []

    def nap() -> str:
        time.sleep(0.2)
        seen_by_tool.append(len(progress))  # 0 if the nap had blocked the event loop
        return "rested"

    async def other() -> None:
        while not seen_by_tool:
            progress.append(len(progress))
            await asyncio.sleep(0.01)

    fake = FakeProvider(responses=[calls(("c1", "nap", {})), answer("done")])
    text, _ = await asyncio.gather(final_text(fake, [make_tool(nap)], streamed=streamed), other())
    assert text == "done"
    assert seen_by_tool[0] > 0
    assert tool_messages(fake.calls[1]) == [("c1", "rested")]


async def test_per_call_timeout_is_reported_to_the_model() -> None:
    async def hang() -> str:
        await asyncio.Event().wait()
        return "never"

    fake = FakeProvider(responses=[calls(("c1", "hang", {})), answer("gave up")])
    response = await run(fake, [make_tool(hang)], tool_timeout=0.01)
    assert response.text == "gave up"
    assert "did not finish within 0.01s" in tool_messages(fake.calls[1])[0][1]


async def test_the_iteration_cap_raises_with_the_conversation_so_far() -> None:
    ran: list[int] = []

    def again(n: int) -> int:
        ran.append(n)
        return n

    fake = FakeProvider(responses=[calls((f"c{i}", "again", {"n": i})) for i in range(4)])
    with pytest.raises(MaxToolIterationsError) as info:
        await run(fake, [make_tool(again)], max_iterations=3)
    error = info.value
    assert error.iterations == 3
    assert ran == [0, 1, 2]  # three rounds; the fourth answer's calls were not run
    assert [m.role for m in error.messages] == [
        "user",
        *["assistant", "tool"] * 3,
        "assistant",
    ]
    assert error.messages[-1].tool_calls[0].id == "c3"
    assert len(fake.calls) == 4
    assert "after 3 tool rounds" in str(error)


async def test_a_cap_of_one_allows_an_answer_without_tools() -> None:
    fake = FakeProvider(responses=[answer("direct")])
    assert (await run(fake, [make_tool(add)], max_iterations=1)).text == "direct"


@BOTH_LOOPS
async def test_a_cap_of_one_runs_exactly_one_tool_round_then_answers(streamed: bool) -> None:
    ran: list[tuple[int, int]] = []

    def tracked_add(a: int, b: int) -> int:
        ran.append((a, b))
        return a + b

    fake = FakeProvider(
        responses=[calls(("c1", "tracked_add", {"a": 2, "b": 3})), answer("The answer is 5.")]
    )
    tools = [make_tool(tracked_add)]
    if streamed:
        text = "".join(c.text for c in await stream(fake, tools, max_iterations=1))
    else:
        text = (await run(fake, tools, max_iterations=1)).text
    assert text == "The answer is 5."
    assert ran == [(2, 3)]
    assert len(fake.calls) == 2
    assert tool_messages(fake.calls[1]) == [("c1", "5")]


@BOTH_LOOPS
@pytest.mark.parametrize("cap", [1, 2, 5])
async def test_a_model_that_keeps_calling_tools_gets_n_rounds_and_n_plus_one_calls(
    streamed: bool, cap: int
) -> None:
    ran: list[int] = []

    def again(n: int) -> int:
        ran.append(n)
        return n

    # More scripted answers than the cap allows: the loop, not the script, must stop it.
    fake = FakeProvider(responses=[calls((f"c{i}", "again", {"n": i})) for i in range(cap + 3)])
    tools = [make_tool(again)]
    loop = stream if streamed else run
    with pytest.raises(MaxToolIterationsError) as info:
        await loop(fake, tools, max_iterations=cap)
    assert ran == list(range(cap))
    assert len(fake.calls) == cap + 1
    assert info.value.iterations == cap
    messages = info.value.messages
    assert [m.role for m in messages].count("tool") == cap
    assert messages[-1].role == "assistant"
    assert messages[-1].tool_calls[0].id == f"c{cap}"


# --- streaming --------------------------------------------------------------------------


async def test_streaming_shows_text_of_every_iteration_as_one_stream() -> None:
    fake = FakeProvider(
        responses=[
            calls(("c1", "add", {"a": 17, "b": 25}), text="Let me add those."),
            answer("The answer is 42."),
        ]
    )
    chunks = await stream(fake, [make_tool(add)])
    assert "".join(c.text for c in chunks) == "Let me add those.The answer is 42."
    assert all(not c.tool_calls for c in chunks)
    assert [c.finish_reason for c in chunks].count("tool_calls") == 0
    final = chunks[-1]
    assert final.finish_reason == "stop"
    assert (final.input_tokens, final.output_tokens) == (30, 7)
    assert all(c.finish_reason is None and not c.input_tokens for c in chunks[:-1])
    assert tool_messages(fake.calls[1]) == [("c1", "42")]
    assert fake.calls[1].messages[1].content == "Let me add those."


async def test_streaming_without_tool_calls_passes_the_providers_chunks_through() -> None:
    fake = FakeProvider(responses=[answer("just text")])
    chunks = await stream(fake, [make_tool(add)])
    assert "".join(c.text for c in chunks) == "just text"
    assert (chunks[-1].finish_reason, chunks[-1].input_tokens) == ("stop", 20)


async def test_streaming_parallel_calls_and_bad_arguments() -> None:
    fake = FakeProvider(
        responses=[
            calls(("a", "add", {"a": 1, "b": 2}), ("b", "add", {"a": "x", "b": 1})),
            answer("done"),
        ]
    )
    chunks = await stream(fake, [make_tool(add)])
    assert "".join(c.text for c in chunks) == "done"
    results = tool_messages(fake.calls[1])
    assert results[0] == ("a", "3")
    assert results[1][0] == "b"
    assert results[1][1].startswith("Error: Invalid arguments")


async def test_streaming_iteration_cap_raises_after_the_text() -> None:
    fake = FakeProvider(responses=[calls(("c1", "add", {"a": 1, "b": 1}), text="Again.")] * 3)
    seen: list[str] = []

    async def consume() -> None:
        tools = [make_tool(add)]
        source = stream_tool_loop(
            fake, request_for(tools), tools, events=EventBus(), max_iterations=2
        )
        async for chunk in source:
            seen.append(chunk.text)

    with pytest.raises(MaxToolIterationsError) as info:
        await consume()
    assert "".join(seen) == "Again.Again.Again."  # the unanswered third turn's text too
    assert len(info.value.messages) == 6
    assert fake.remaining == 0


class ChunkScript:
    """A provider streaming hand-written chunk lists, one list per call."""

    def __init__(self, *scripts: list[LLMStreamChunk]) -> None:
        self.scripts = list(scripts)
        self.requests: list[LLMRequest] = []
        self.closed = 0

    async def complete(self, request: LLMRequest) -> LLMResponse:
        raise AssertionError("streaming only")

    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        self.requests.append(request)
        try:
            for chunk in self.scripts.pop(0):
                yield chunk
        finally:
            self.closed += 1


async def test_a_chunk_carrying_text_and_tool_calls_shows_only_the_text() -> None:
    call = ToolCall(id="c1", name="add", arguments={"a": 1, "b": 2})
    provider = ChunkScript(
        [
            LLMStreamChunk(text="Adding"),
            LLMStreamChunk(
                text=" now.", tool_calls=[call], finish_reason="tool_calls", input_tokens=3
            ),
        ],
        [
            LLMStreamChunk(text="It is 3.", finish_reason="stop"),
            LLMStreamChunk(input_tokens=4, output_tokens=2),  # usage arrives after the finish
        ],
    )
    chunks = await stream(provider, [make_tool(add)])
    assert [c.text for c in chunks] == ["Adding", " now.", "It is 3.", ""]
    assert all(not c.tool_calls for c in chunks)
    assert chunks[1].finish_reason is None and chunks[1].input_tokens == 0
    final = chunks[-1]
    assert (final.finish_reason, final.input_tokens, final.output_tokens) == ("stop", 7, 2)
    assert provider.requests[1].messages[1].content == "Adding now."


async def test_final_chunk_with_text_keeps_its_text_and_gets_summed_usage() -> None:
    call = ToolCall(id="c1", name="add", arguments={"a": 1, "b": 2})
    provider = ChunkScript(
        [LLMStreamChunk(tool_calls=[call], finish_reason="tool_calls", output_tokens=1)],
        [LLMStreamChunk(text="3", finish_reason="stop", output_tokens=1, model="m")],
    )
    chunks = await stream(provider, [make_tool(add)])
    assert len(chunks) == 1
    assert (chunks[0].text, chunks[0].output_tokens, chunks[0].model) == ("3", 2, "m")


async def test_closing_the_stream_early_closes_the_providers_stream() -> None:
    provider = ChunkScript([LLMStreamChunk(text="a"), LLMStreamChunk(text="b")])
    source = stream_tool_loop(
        provider,
        request_for([make_tool(add)]),
        [make_tool(add)],
        events=EventBus(),
        max_iterations=2,
    )
    first = await source.__anext__()
    assert first.text == "a"
    await source.aclose()  # type: ignore[attr-defined]
    assert provider.closed == 1


async def test_max_iterations_below_one_is_rejected() -> None:
    with pytest.raises(ValueError, match="max_iterations"):
        await run(FakeProvider(responses=[]), [make_tool(add)], max_iterations=0)
    with pytest.raises(ValueError, match="max_iterations"):
        await stream(FakeProvider(responses=[]), [make_tool(add)], max_iterations=0)


async def test_streaming_raising_and_unknown_tools_become_content_and_the_stream_goes_on() -> None:
    def explode() -> str:
        raise RuntimeError("kaboom")

    bus = EventBus()
    errors: list[str] = []
    bus.on(TOOL_ERROR, lambda event: errors.append(event.call.id))
    fake = FakeProvider(
        responses=[calls(("c1", "explode", {}), ("c2", "nope", {})), answer("sorry about that")]
    )
    chunks = await stream(fake, [make_tool(explode)], events=bus)
    assert "".join(c.text for c in chunks) == "sorry about that"
    assert chunks[-1].finish_reason == "stop"
    results = dict(tool_messages(fake.calls[1]))
    assert results["c1"] == "Error: Tool 'explode' raised RuntimeError: kaboom"
    assert "no tool named 'nope'" in results["c2"]
    assert sorted(errors) == ["c1", "c2"]


def test_a_control_chunks_refusal_reaches_the_user() -> None:
    from aether.tools.loop import _shown

    shown = _shown(LLMStreamChunk(refusal="I won't do that.", response_id="r1"))
    assert shown is not None and shown.refusal == "I won't do that." and shown.response_id == "r1"
    assert _shown(LLMStreamChunk(response_id="r1")) is None


# --- deferred tools ---------------------------------------------------------------------


ASK_USER = Tool.from_schema(
    "ask_user",
    {"properties": {"question": {"type": "string"}}, "required": ["question"]},
    description="Ask the person at the keyboard",
)


async def _run_to_deferral(
    fake: FakeProvider, tools: Sequence[Tool], *, streamed: bool
) -> tuple[DeferredToolCallsError, str]:
    """Run a loop expected to stop at deferred calls; the error and the text streamed."""
    shown: list[str] = []

    async def go() -> None:
        if streamed:
            source = stream_tool_loop(
                fake, request_for(tools), tools, events=EventBus(), max_iterations=5
            )
            async for chunk in source:
                shown.append(chunk.text)
        else:
            await run(fake, tools, max_iterations=5)

    with pytest.raises(DeferredToolCallsError) as info:
        await go()
    return info.value, "".join(shown)


@BOTH_LOOPS
async def test_a_deferred_call_ends_the_loop_after_the_calls_it_can_run(streamed: bool) -> None:
    fake = FakeProvider(
        responses=[
            calls(("c1", "add", {"a": 1, "b": 2})),
            calls(
                ("c2", "ask_user", {"question": "Which city?"}),
                ("c3", "add", {"a": 3, "b": 4}),
                text="One question.",
            ),
            answer("never reached"),
        ]
    )
    error, shown = await _run_to_deferral(fake, [make_tool(add), ASK_USER], streamed=streamed)
    assert [call.id for call in error.calls] == ["c2"]
    assert error.calls[0].arguments == {"question": "Which city?"}
    assert [m.role for m in error.messages] == ["user", "assistant", "tool", "assistant", "tool"]
    assert [(m.tool_call_id, m.content) for m in error.messages if m.role == "tool"] == [
        ("c1", "3"),  # the earlier round is kept
        ("c3", "7"),  # and the other call of the last round ran
    ]
    assert error.messages[3].content == "One question."
    assert len(fake.calls) == 2
    assert "ask_user" in str(error) and ".messages" in str(error)
    if streamed:
        assert shown == "One question."


async def test_the_caller_answers_deferred_calls_and_the_conversation_goes_on() -> None:
    tools = [make_tool(add), ASK_USER]
    fake = FakeProvider(
        responses=[calls(("c1", "ask_user", {"question": "Which city?"})), answer("Oslo it is.")]
    )
    error, _ = await _run_to_deferral(fake, tools, streamed=False)
    results = [
        Message(role="tool", tool_call_id=call.id, name=call.name, content="Oslo")
        for call in error.calls
    ]
    request = LLMRequest(messages=[*error.messages, *results], tools=[t.spec for t in tools])
    response = await run_tool_loop(fake, request, tools, events=EventBus(), max_iterations=5)
    assert response.text == "Oslo it is."
    assert tool_messages(fake.calls[1]) == [("c1", "Oslo")]


async def test_at_the_round_cap_deferred_calls_are_not_reached() -> None:
    fake = FakeProvider(
        responses=[calls(("c1", "add", {"a": 1, "b": 1})), calls(("c2", "ask_user", {}))]
    )
    with pytest.raises(MaxToolIterationsError) as info:
        await run(fake, [make_tool(add), ASK_USER], max_iterations=1)
    assert info.value.messages[-1].tool_calls[0].name == "ask_user"


# --- allowed tools ----------------------------------------------------------------------


@BOTH_LOOPS
async def test_allowed_tools_hold_for_every_call_and_the_loop_enforces_them(
    streamed: bool,
) -> None:
    ran: list[str] = []

    def mult(a: int, b: int) -> int:
        ran.append("mult")
        return a * b

    tools = [make_tool(add), make_tool(mult)]
    fake = FakeProvider(
        responses=[
            calls(("c1", "mult", {"a": 2, "b": 3}), ("c2", "add", {"a": 2, "b": 3})),
            answer("5"),
        ]
    )
    request = request_for(tools, allowed_tools=["add"], tool_choice="required")
    if streamed:
        source = stream_tool_loop(fake, request, tools, events=EventBus(), max_iterations=3)
        text = "".join([chunk.text async for chunk in source])
    else:
        text = (await run_tool_loop(fake, request, tools, events=EventBus(), max_iterations=3)).text
    assert text == "5"
    assert ran == []
    results = dict(tool_messages(fake.calls[1]))
    assert "no tool named 'mult'" in results["c1"] and "are: add." in results["c1"]
    assert results["c2"] == "5"
    assert [c.allowed_tools for c in fake.calls] == [["add"], ["add"]]
    assert [c.tool_choice for c in fake.calls] == ["required", None]
    assert [s.name for s in fake.calls[1].tools] == ["add", "mult"]  # all stay declared
