"""``stream_output``: growing partial values, the last one the validated whole ``ask`` returns."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from itertools import pairwise
from typing import Any

import pytest
from pydantic import BaseModel
from typing_extensions import assert_type

from aether import Aether, CallSettings, Output
from aether.errors import OutputValidationError, ProviderTimeoutError, ResponseBlockedError
from aether.events import STREAM_COMPLETE, STREAM_START, StreamComplete, StreamStart
from aether.extensions.llm.fake import FakeProvider
from aether.llm import ProviderCapabilities
from aether.llm.contracts import LLMRequest, LLMResponse, LLMStreamChunk, ToolCall, ToolCallDelta


class Item(BaseModel):
    name: str
    qty: int


class Order(BaseModel):
    customer: str
    items: list[Item] = []
    note: str = ""


ORDER = Order(
    customer="Ada",
    items=[Item(name="apple", qty=2), Item(name="pear", qty=1), Item(name="fig", qty=5)],
    note="Leave it at the door, please.",
)


async def values(client: Aether, output_type: Any, **options: Any) -> list[Any]:
    return [value async for value in client.stream_output("?", output_type=output_type, **options)]


def assert_growing(seen: list[Order]) -> None:
    assert len(seen) >= 3, seen
    for before, after in pairwise(seen):
        assert after != before  # never the same value twice
        assert len(after.items) >= len(before.items)  # list items only ever arrive
        assert after.items[: len(before.items)] == before.items  # and stay as they were
        assert after.customer.startswith(before.customer)


async def test_native_partials_grow_from_text_deltas_and_end_with_the_ask_result() -> None:
    seen = await values(Aether(FakeProvider(responses=[ORDER])), Order)
    assert_growing(seen)
    assert seen[-1] == ORDER
    assert seen[-1] == await Aether(FakeProvider(responses=[ORDER])).ask("?", output_type=Order)
    assert any(len(value.items) < 3 for value in seen)  # shown before the answer was whole
    assert any(0 < len(value.note) < len(ORDER.note) for value in seen)  # strings as they form


async def test_the_values_are_typed() -> None:
    async for order in Aether(FakeProvider(responses=[ORDER])).stream_output(
        "?", output_type=Order
    ):
        assert_type(order, Order)


class Streams:
    """A provider that is not FakeProvider: each call streams the chunks it is given."""

    name = "streams"
    capabilities = ProviderCapabilities()  # tools, no native structured output

    def __init__(self, *answers: list[LLMStreamChunk]) -> None:
        self.answers = list(answers)
        self.calls: list[LLMRequest] = []

    async def complete(self, request: LLMRequest) -> LLMResponse:
        raise AssertionError("streamed calls only")

    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        self.calls.append(request)
        for chunk in self.answers.pop(0):
            yield chunk


def tool_stream(
    arguments: str, *, pieces: int = 12, name: str = "final_result"
) -> list[LLMStreamChunk]:
    """A tool call streamed as a provider does: fragments, then the whole call on the last chunk."""
    size = max(1, len(arguments) // pieces)
    fragments = [arguments[i : i + size] for i in range(0, len(arguments), size)]
    chunks = [
        LLMStreamChunk(
            tool_call_deltas=[
                ToolCallDelta(
                    index=0,
                    id="call_1" if i == 0 else None,
                    name=name if i == 0 else None,
                    arguments=fragment,
                )
            ]
        )
        for i, fragment in enumerate(fragments)
    ]
    call = ToolCall(id="call_1", name=name, arguments=json.loads(arguments))
    last = LLMStreamChunk(
        tool_calls=[call], finish_reason="tool_calls", input_tokens=9, output_tokens=30
    )
    return [*chunks, last]


async def test_tool_mode_partials_grow_from_the_calls_argument_fragments() -> None:
    provider = Streams(tool_stream(ORDER.model_dump_json()))
    seen = await values(Aether(provider), Order)
    assert_growing(seen)
    assert seen[-1] == ORDER
    assert provider.calls[0].tool_choice == "final_result"


async def test_the_fake_streams_tool_mode_answers_in_fragments_too() -> None:
    seen = await values(Aether(FakeProvider(responses=[ORDER])), Output(Order, mode="tool"))
    assert_growing(seen)
    assert seen[-1] == ORDER


async def test_prompted_partials_read_past_the_fence() -> None:
    answer = f"Here:\n```json\n{ORDER.model_dump_json(indent=1)}\n```\nDone."
    seen = await values(Aether(FakeProvider(responses=[answer])), Output(Order, mode="prompted"))
    assert_growing(seen)
    assert seen[-1] == ORDER


async def test_a_non_object_type_streams_unwrapped() -> None:
    numbers = list(range(100, 160))
    seen = await values(Aether(FakeProvider(responses=[{"response": numbers}])), list[int])
    assert seen[-1] == numbers
    assert all(value == numbers[: len(value)] for value in seen)  # prefixes, growing
    assert len(seen) > 2


async def test_tools_run_first_then_the_typed_answer_streams() -> None:
    ran: list[int] = []

    def stock(name: str) -> int:
        """How many are in stock."""
        ran.append(1)
        return 7

    call = ToolCall(id="t1", name="stock", arguments={"name": "apple"})
    fake = FakeProvider(responses=[call, ORDER])
    seen = await values(Aether(fake), Order, tools=[stock])
    assert ran == [1]
    assert seen[-1] == ORDER
    assert [m.role for m in fake.calls[1].messages] == ["user", "assistant", "tool"]


async def test_a_stream_is_repaired_and_its_values_start_over() -> None:
    fake = FakeProvider(responses=['{"customer": 5}', ORDER])
    seen = await values(Aether(fake), Order)
    assert seen[-1] == ORDER
    assert len(fake.calls) == 2
    assert "does not fit the schema" in fake.calls[1].messages[-1].text


async def test_a_stream_that_never_fits_raises() -> None:
    with pytest.raises(OutputValidationError) as caught:
        await values(Aether(FakeProvider(responses=["{}", "{}"])), Order)
    assert caught.value.attempts == 2


async def test_a_streamed_refusal_raises_the_refusal_error() -> None:
    refused = LLMResponse(refusal="No.", finish_reason="stop")
    with pytest.raises(ResponseBlockedError) as caught:
        await values(Aether(FakeProvider(responses=[refused])), Order)
    assert caught.value.reason == "refusal" and caught.value.refusal == "No."


async def test_each_attempt_is_one_stream_in_the_events() -> None:
    client = Aether(FakeProvider(responses=["{}", ORDER]))
    starts: list[StreamStart] = []
    completes: list[StreamComplete] = []
    client.on(STREAM_START, starts.append)
    client.on(STREAM_COMPLETE, completes.append)
    await values(client, Order)
    assert len(starts) == len(completes) == 2
    assert completes[1].text == json.dumps(ORDER.model_dump())


async def test_the_timeout_covers_the_whole_stream() -> None:
    class Slow(FakeProvider):
        async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
            async for chunk in super().stream(request):
                await asyncio.sleep(0.05)
                yield chunk

    client = Aether(Slow(responses=[ORDER]))
    with pytest.raises(ProviderTimeoutError, match="timeout"):
        await values(client, Order, settings=CallSettings(timeout=0.1))


async def test_leaving_early_closes_the_stream() -> None:
    closed: list[bool] = []

    class Watched(FakeProvider):
        async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
            try:
                async for chunk in super().stream(request):
                    yield chunk
            finally:
                closed.append(True)

    stream = Aether(Watched(responses=[ORDER])).stream_output("?", output_type=Order)
    async for _ in stream:
        break
    await stream.aclose()  # type: ignore[attr-defined]
    assert closed == [True]
