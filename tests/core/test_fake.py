from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from pydantic import BaseModel, Field

from aether.errors import AetherError, ServerError
from aether.extensions.llm.fake import FakeProvider, Fault
from aether.llm import capabilities_of
from aether.llm.contracts import LLMRequest, LLMResponse, Message, ToolCall, ToolSpec

REQUEST = LLMRequest(messages=[Message(role="user", content="hello there")])


async def test_canned_response_and_calls_recorded() -> None:
    fake = FakeProvider(canned_response="hello")
    response = await fake.complete(REQUEST)
    assert (response.text, response.model, response.finish_reason) == (
        "hello",
        "fake-model",
        "stop",
    )
    assert (response.input_tokens, response.output_tokens) == (2, 1)
    assert fake.calls == [REQUEST]


async def test_script_in_order_then_clear_error() -> None:
    call = ToolCall(id="c1", name="add", arguments={"a": 2, "b": 3})
    fake = FakeProvider(
        responses=[
            LLMResponse(text="", model="m", tool_calls=[call]),
            "The answer is 5.",
            ServerError("boom", status_code=500),
        ]
    )
    assert (await fake.complete(REQUEST)).tool_calls == [call]
    assert (await fake.complete(REQUEST)).text == "The answer is 5."
    with pytest.raises(ServerError):
        await fake.complete(REQUEST)
    with pytest.raises(AetherError, match="ran out of scripted responses: 3 were given"):
        await fake.complete(REQUEST)


async def test_stream_splits_text_and_ends_with_usage() -> None:
    fake = FakeProvider(canned_response="one two three")
    chunks = [chunk async for chunk in fake.stream(REQUEST)]
    assert "".join(c.text for c in chunks) == "one two three"
    assert len(chunks) == 4
    assert chunks[-1].finish_reason == "stop"
    assert chunks[-1].output_tokens == 3
    assert all(c.finish_reason is None for c in chunks[:-1])


async def test_stream_fault_after_k_chunks() -> None:
    fake = FakeProvider(responses=[Fault(ServerError("died"), after_chunks=2, response="a b c d")])
    seen: list[str] = []

    async def consume() -> None:
        async for chunk in fake.stream(REQUEST):
            seen.append(chunk.text)

    with pytest.raises(ServerError, match="died"):
        await consume()
    assert seen == ["a ", "b "]


async def test_echo_without_script() -> None:
    assert (await FakeProvider().complete(REQUEST)).text == "You said: hello there"


def test_both_modes_rejected() -> None:
    with pytest.raises(ValueError):
        FakeProvider("x", responses=["y"])


# --- structured answers ------------------------------------------------------------------------


class Invoice(BaseModel):
    number: str = Field(alias="invoiceNumber")
    total: float


@dataclass
class Point:
    x: int
    y: int


INVOICE = Invoice(invoiceNumber="A-1", total=2.5)


def test_it_claims_structured_output() -> None:
    assert capabilities_of(FakeProvider()).structured_output


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (INVOICE, {"invoiceNumber": "A-1", "total": 2.5}),  # by alias: what the schema says
        (Point(1, 2), {"x": 1, "y": 2}),
        ({"a": [1, 2]}, {"a": [1, 2]}),
        ([1, "two"], [1, "two"]),
        (3.5, 3.5),
    ],
)
async def test_a_value_is_answered_as_its_json_text(item: object, expected: object) -> None:
    response = await FakeProvider(responses=[item]).complete(REQUEST)
    assert json.loads(response.text) == expected
    assert response.tool_calls == [] and response.finish_reason == "stop"
    assert response.output_tokens > 0


FORCED = LLMRequest(
    messages=[Message(role="user", content="hi")],
    tools=[ToolSpec(name="final_result")],
    tool_choice="final_result",
)


async def test_a_value_answers_a_forced_tool_as_its_call() -> None:
    response = await FakeProvider(responses=[INVOICE]).complete(FORCED)
    [call] = response.tool_calls
    assert (call.name, call.arguments) == ("final_result", {"invoiceNumber": "A-1", "total": 2.5})
    assert response.finish_reason == "tool_calls" and response.text == ""
    # Not an object: no tool takes it as arguments, so it stays text.
    assert (await FakeProvider(responses=[[1]]).complete(FORCED)).text == "[1]"


async def test_a_tool_call_is_answered_as_a_call_and_streamed_in_fragments() -> None:
    call = ToolCall(id="c9", name="add", arguments={"a": 2, "b": 3, "note": "two words"})
    assert (await FakeProvider(responses=[call]).complete(REQUEST)).tool_calls == [call]
    chunks = [chunk async for chunk in FakeProvider(responses=[call]).stream(REQUEST)]
    deltas = [delta for chunk in chunks for delta in chunk.tool_call_deltas]
    assert len(deltas) > 2
    assert (deltas[0].id, deltas[0].name, deltas[0].index) == ("c9", "add", 0)
    assert all(d.id is None and d.name is None for d in deltas[1:])
    assert json.loads("".join(d.arguments for d in deltas)) == call.arguments
    assert chunks[-1].tool_calls == [call] and chunks[-1].finish_reason == "tool_calls"


async def test_a_refusal_is_streamed() -> None:
    refused = LLMResponse(refusal="No.", finish_reason="stop")
    chunks = [chunk async for chunk in FakeProvider(responses=[refused]).stream(REQUEST)]
    assert "".join(c.refusal or "" for c in chunks) == "No."
    assert chunks[-1].finish_reason == "stop"
