from __future__ import annotations

import pytest

from aether.errors import AetherError, ServerError
from aether.extensions.llm.fake import FakeProvider, Fault
from aether.llm.contracts import LLMRequest, LLMResponse, Message, ToolCall

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
