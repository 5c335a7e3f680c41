"""Tools, then a typed answer: the loop runs the tools first and ends at the output tool's call."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from aether import Aether, Output
from aether.errors import MaxToolIterationsError
from aether.events import EventBus
from aether.extensions.llm.fake import FakeProvider
from aether.llm.contracts import LLMRequest, LLMResponse, Message, ToolCall
from aether.tools import Tool, make_tool, run_tool_loop, stream_tool_loop


class Weather(BaseModel):
    city: str
    celsius: float


PARIS = Weather(city="Paris", celsius=21.5)


def call(name: str, call_id: str = "c1", **arguments: Any) -> ToolCall:
    return ToolCall(id=call_id, name=name, arguments=arguments)


def temperature(city: str) -> float:
    """The temperature in a city."""
    ran.append(city)
    return 21.5


ran: list[str] = []


@pytest.fixture(autouse=True)
def _fresh() -> None:
    ran.clear()


@pytest.mark.parametrize("mode", ["native", "tool", "prompted"])
async def test_tools_run_first_and_the_final_answer_is_typed(mode: Any) -> None:
    fake = FakeProvider(responses=[call("temperature", city="Paris"), PARIS])
    client = Aether(fake)
    answer = await client.ask(
        "Weather in Paris?", tools=[temperature], output_type=Output(Weather, mode=mode)
    )
    assert answer == PARIS
    assert ran == ["Paris"]
    assert [m.role for m in fake.calls[1].messages][-3:] == ["user", "assistant", "tool"]
    assert fake.calls[1].messages[-1].text == "21.5"


async def test_tool_mode_keeps_every_call_on_a_tool_until_the_answer() -> None:
    fake = FakeProvider(
        responses=[
            call("temperature", city="Paris"),
            call("temperature", "c2", city="Lyon"),
            call("final_result", "c3", city="Paris", celsius=21.5),
        ]
    )
    answer = await Aether(fake).ask(
        "?",
        tools=[temperature],
        tool_choice="temperature",
        output_type=Output(Weather, mode="tool"),
    )
    assert answer == PARIS
    # The caller's forced first call is kept; after it, some tool must be called every time,
    # since a text answer would end the loop without the typed answer.
    assert [request.tool_choice for request in fake.calls] == [
        "temperature",
        "required",
        "required",
    ]
    assert [tool.name for tool in fake.calls[0].tools] == ["temperature", "final_result"]


async def test_calls_beside_the_answer_run_first_and_deferred_ones_are_answered() -> None:
    deferred = Tool.from_schema("notify", {"type": "object", "properties": {}}, description="x")
    answer = LLMResponse(
        tool_calls=[
            call("temperature", "c1", city="Nice"),
            call("final_result", "c2", city="Paris", celsius=21.5),
            call("notify", "c3"),
        ],
        finish_reason="tool_calls",
    )
    conversation: list[Message] = []
    request = LLMRequest(
        messages=[Message(role="user", content="?")],
        tools=[temperature_tool().spec, deferred.spec],
        tool_choice="required",
    )
    response = await run_tool_loop(
        FakeProvider(responses=[answer]),
        request,
        [temperature_tool(), deferred],
        events=EventBus(),
        max_iterations=3,
        final_tool="final_result",
        conversation=conversation,
    )
    assert [c.name for c in response.tool_calls] == ["temperature", "final_result", "notify"]
    assert ran == ["Nice"]  # the model asked for it: it ran, though the loop ends here
    assert [m.role for m in conversation] == ["user", "assistant", "tool", "tool"]
    results = {m.tool_call_id: m.text for m in conversation if m.role == "tool"}
    assert results["c1"] == "21.5"
    assert results["c3"].startswith("Not run: the answer was given (final_result)")
    assert "c2" not in results  # the answer's own call is the caller's to answer


def temperature_tool() -> Tool:
    return make_tool(temperature)


async def test_the_streamed_loop_ends_at_the_answer_with_its_calls() -> None:
    fake = FakeProvider(
        responses=[
            call("temperature", city="Paris"),
            call("final_result", "c2", city="P", celsius=1),
        ]
    )
    request = LLMRequest(
        messages=[Message(role="user", content="?")],
        tools=[temperature_tool().spec],
        tool_choice="required",
    )
    conversation: list[Message] = []
    chunks = [
        chunk
        async for chunk in stream_tool_loop(
            fake,
            request,
            [temperature_tool()],
            events=EventBus(),
            max_iterations=3,
            final_tool="final_result",
            conversation=conversation,
        )
    ]
    last = chunks[-1]
    assert [c.name for c in last.tool_calls] == ["final_result"]
    assert last.finish_reason == "tool_calls"
    scripted = [call("temperature", city="Paris"), call("final_result")]
    each = [
        (await FakeProvider(responses=[item]).complete(sent)).input_tokens
        for item, sent in zip(scripted, fake.calls, strict=True)
    ]
    assert last.input_tokens == sum(each) > each[0]  # what the whole loop cost
    assert ran == ["Paris"]
    assert fake.calls[1].tool_choice == "required"
    assert [m.role for m in conversation] == ["user", "assistant", "tool", "assistant"]
    # The answer's fragments came through, for a reader of the typed answer as it forms.
    assert any(d.name == "final_result" for c in chunks for d in c.tool_call_deltas)


async def test_the_conversation_ends_with_a_text_answer_too() -> None:
    conversation: list[Message] = []
    await run_tool_loop(
        FakeProvider(responses=[call("temperature", city="Paris"), "It is 21.5 °C."]),
        LLMRequest(messages=[Message(role="user", content="?")], tools=[temperature_tool().spec]),
        [temperature_tool()],
        events=EventBus(),
        max_iterations=3,
        conversation=conversation,
    )
    assert [m.role for m in conversation] == ["user", "assistant", "tool", "assistant"]
    assert conversation[-1].text == "It is 21.5 °C."


async def test_the_iteration_cap_still_holds_with_a_typed_answer() -> None:
    looping = [call("temperature", f"c{i}", city="Paris") for i in range(3)]
    with pytest.raises(MaxToolIterationsError):
        await Aether(FakeProvider(responses=looping)).ask(
            "?", tools=[temperature], output_type=Weather, max_tool_iterations=2
        )


async def test_a_repair_after_tool_rounds_keeps_them_in_the_conversation() -> None:
    fake = FakeProvider(responses=[call("temperature", city="Paris"), '{"city": "Paris"}', PARIS])
    assert await Aether(fake).ask("?", tools=[temperature], output_type=Weather) == PARIS
    roles = [m.role for m in fake.calls[2].messages]
    assert roles == ["user", "assistant", "tool", "assistant", "user"]
    assert "celsius" in fake.calls[2].messages[-1].text
