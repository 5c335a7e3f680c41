"""Cost tracking: what is counted, how streams are counted, and concurrent updates."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator

import pytest

from aether.errors import ServerError, StreamInterruptedError
from aether.extensions.llm.cost_tracking import CostTrackingConfig, CostTrackingProvider
from aether.extensions.llm.fake import FakeProvider, Fault
from aether.extensions.llm.pricing import ModelPricing
from aether.extensions.llm.usage import TokenUsage
from aether.llm.contracts import LLMRequest, LLMResponse, LLMStreamChunk, Message

REQUEST = LLMRequest(messages=[Message(role="user", content="x" * 40)], model="gpt-4o-mini")
CHEAP = ModelPricing(input_per_million=1.0, output_per_million=2.0, cached_input_per_million=0.5)


def tracked(*responses: object, **config: object) -> CostTrackingProvider:
    return CostTrackingProvider(
        FakeProvider(responses=list(responses)),  # type: ignore[arg-type]
        CostTrackingConfig(**config),  # type: ignore[arg-type]
    )


async def drain(stream: AsyncIterator[LLMStreamChunk]) -> list[LLMStreamChunk]:
    return [chunk async for chunk in stream]


async def test_complete_counts_tokens_and_cost_per_model() -> None:
    layer = tracked(
        LLMResponse(
            text="a",
            model="gpt-4o-mini-2024-07-18",
            input_tokens=1000,
            output_tokens=500,
            cached_input_tokens=800,
        ),
        LLMResponse(text="b", model="gpt-4o-mini-2024-07-18", input_tokens=10, output_tokens=20),
    )
    await layer.complete(REQUEST)
    await layer.complete(REQUEST)
    usage = layer.usage
    assert usage.total_requests == 2
    assert usage.total_input_tokens == 1010
    assert usage.total_output_tokens == 520
    assert usage.total_cached_input_tokens == 800
    # gpt-4o-mini: $0.15 input, $0.075 cached input, $0.60 output per million.
    expected = (210 * 0.15 + 800 * 0.075 + 520 * 0.6) / 1e6
    assert usage.total_cost_usd == pytest.approx(expected)
    assert usage.unpriced_models == []
    row = usage.by_model["gpt-4o-mini-2024-07-18"]
    assert row.requests == 2
    assert row.cost_usd == pytest.approx(expected)


async def test_reasoning_tokens_are_reported_and_priced_once_as_output() -> None:
    layer = tracked(
        LLMResponse(
            text="a", model="o3-mini", input_tokens=100, output_tokens=3000, reasoning_tokens=2500
        ),
    )
    await layer.complete(REQUEST)
    usage = layer.usage
    assert usage.total_reasoning_tokens == 2500
    assert usage.total_output_tokens == 3000
    assert usage.total_cost_usd == pytest.approx((100 * 1.1 + 3000 * 4.4) / 1e6)


async def test_unknown_models_cost_none_and_are_named() -> None:
    layer = tracked(
        LLMResponse(text="a", model="my-local-llama", input_tokens=5, output_tokens=5),
        LLMResponse(text="b", model="gpt-4o-mini", input_tokens=5, output_tokens=5),
    )
    await layer.complete(REQUEST)
    await layer.complete(REQUEST)
    usage = layer.usage
    assert usage.by_model["my-local-llama"].cost_usd is None
    assert usage.by_model["my-local-llama"].input_tokens == 5
    assert usage.unpriced_models == ["my-local-llama"]
    assert usage.total_cost_usd == pytest.approx((5 * 0.15 + 5 * 0.6) / 1e6)
    assert usage.total_requests == 2


async def test_override_pricing_wins_over_the_library() -> None:
    layer = tracked(
        LLMResponse(
            text="a",
            model="gpt-4o-mini-2024-07-18",
            input_tokens=1_000_000,
            output_tokens=1_000_000,
            cached_input_tokens=1_000_000,
        ),
        pricing={"gpt-4o-mini": CHEAP},
    )
    await layer.complete(REQUEST)
    assert layer.usage.total_cost_usd == pytest.approx(0.5 + 2.0)


async def test_model_falls_back_to_the_request_then_the_default() -> None:
    layer = tracked(
        LLMResponse(text="a", input_tokens=1, output_tokens=1),
        LLMResponse(text="b", input_tokens=1, output_tokens=1),
    )
    # FakeProvider fills in request.model or its default_model when the answer has none.
    await layer.complete(REQUEST)
    await layer.complete(LLMRequest(messages=REQUEST.messages))
    assert set(layer.usage.by_model) == {"gpt-4o-mini", "fake-model"}


async def test_failed_calls_are_not_counted() -> None:
    layer = tracked(ServerError("x", status_code=500))
    with pytest.raises(ServerError):
        await layer.complete(REQUEST)
    assert layer.usage.total_requests == 0


async def test_a_stream_is_counted_from_its_final_chunk() -> None:
    layer = tracked(
        LLMResponse(
            text="one two three",
            model="gpt-4o-mini",
            input_tokens=7,
            output_tokens=3,
            cached_input_tokens=2,
            reasoning_tokens=1,
        ),
    )
    chunks = await drain(layer.stream(REQUEST))
    assert len(chunks) == 4
    usage = layer.usage
    assert (usage.total_requests, usage.total_input_tokens, usage.total_output_tokens) == (1, 7, 3)
    assert usage.total_cached_input_tokens == 2
    assert usage.total_reasoning_tokens == 1
    assert usage.total_estimated_requests == 0


class UsageLast:
    """Reports usage on its last chunk only, as the contract says, with the dated model name."""

    default_model = "gpt-4o-mini"

    async def complete(self, request: LLMRequest) -> LLMResponse:
        raise NotImplementedError

    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        yield LLMStreamChunk(text="hi")
        yield LLMStreamChunk(
            model="gpt-4o-mini-2024-07-18", input_tokens=40, output_tokens=9, finish_reason="stop"
        )


async def test_a_stream_is_counted_under_the_model_its_last_chunk_names() -> None:
    layer = CostTrackingProvider(UsageLast())
    await drain(layer.stream(LLMRequest(messages=REQUEST.messages)))
    row = layer.usage.by_model["gpt-4o-mini-2024-07-18"]
    assert (row.input_tokens, row.output_tokens, row.requests) == (40, 9, 1)
    assert row.estimated_requests == 0


async def test_a_stream_ending_without_usage_is_estimated() -> None:
    class NoUsage(UsageLast):
        async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
            yield LLMStreamChunk(text="a")
            yield LLMStreamChunk(text="b", finish_reason="stop")

    layer = CostTrackingProvider(NoUsage())
    await drain(layer.stream(REQUEST))
    assert layer.usage.by_model["gpt-4o-mini"].estimated_requests == 1
    assert layer.usage.by_model["gpt-4o-mini"].output_tokens == 2


async def test_many_calls_fold_into_the_same_totals() -> None:
    layer = tracked(
        *[
            LLMResponse(text="a", model=f"m{i % 3}", input_tokens=1, output_tokens=2)
            for i in range(1000)
        ],
        pricing={"m0": CHEAP, "m1": CHEAP},
    )
    for _ in range(1000):
        await layer.complete(REQUEST)
    usage = layer.usage
    assert usage.total_requests == 1000
    assert usage.by_model["m0"].requests == 334
    assert usage.by_model["m2"].cost_usd is None
    assert usage.unpriced_models == ["m2"]
    assert usage.total_cost_usd == pytest.approx((334 + 333) * (1 * 1.0 + 2 * 2.0) / 1e6)


async def test_prompt_size_tiered_models_are_priced_per_call() -> None:
    small = LLMResponse(text="a", model="gemini-2.5-pro", input_tokens=1000, output_tokens=10)
    large = LLMResponse(text="b", model="gemini-2.5-pro", input_tokens=300_000, output_tokens=10)
    layer = tracked(small, large)
    await layer.complete(REQUEST)
    await layer.complete(REQUEST)
    # $1.25/$10 per million up to 200k prompt tokens, $2.50/$15 above.
    expected = (1000 * 1.25 + 10 * 10 + 300_000 * 2.5 + 10 * 15) / 1e6
    assert layer.usage.total_cost_usd == pytest.approx(expected)


@pytest.mark.parametrize("after", [1, 5])
async def test_a_stream_failing_after_output_began_is_still_counted(after: int) -> None:
    layer = tracked(
        Fault(ServerError("x", status_code=502), after_chunks=after, response="a b c d e f g h")
    )
    with pytest.raises(ServerError):
        await drain(layer.stream(REQUEST))
    row = layer.usage.by_model["gpt-4o-mini"]
    assert row.requests == 1
    assert row.estimated_requests == 1
    assert row.output_tokens == after  # one token per chunk received
    assert row.input_tokens == 10  # 40 prompt characters / 4
    assert row.cost_usd == pytest.approx((10 * 0.15 + after * 0.6) / 1e6)
    assert layer.usage.total_estimated_requests == 1


async def test_a_stream_failing_before_output_is_not_counted() -> None:
    layer = tracked(Fault(ServerError("x", status_code=502), after_chunks=0))
    with pytest.raises(ServerError):
        await drain(layer.stream(REQUEST))
    assert layer.usage.total_requests == 0


async def test_a_stream_abandoned_by_its_consumer_is_counted() -> None:
    layer = tracked("one two three four")
    stream = layer.stream(REQUEST)
    async for _chunk in stream:
        break
    await stream.aclose()  # type: ignore[attr-defined]
    assert layer.usage.total_requests == 1
    assert layer.usage.total_estimated_requests == 1


async def test_a_cancelled_stream_after_output_is_counted() -> None:
    gate = asyncio.Event()

    class Hanging:
        default_model = "gpt-4o-mini"

        async def complete(self, request: LLMRequest) -> LLMResponse:
            raise NotImplementedError

        async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
            yield LLMStreamChunk(text="a")
            gate.set()
            await asyncio.Event().wait()
            yield LLMStreamChunk(text="never")

    layer = CostTrackingProvider(Hanging())
    task = asyncio.create_task(drain(layer.stream(REQUEST)))
    await gate.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert layer.usage.total_estimated_requests == 1


async def test_stream_interrupted_from_retry_is_counted_once() -> None:
    layer = tracked(Fault(StreamInterruptedError("x", chunks_received=2), 2, "a b c"))
    with pytest.raises(StreamInterruptedError):
        await drain(layer.stream(REQUEST))
    assert layer.usage.total_requests == 1


async def test_usage_is_a_snapshot_and_reset_starts_over() -> None:
    layer = tracked("a", "b")
    await layer.complete(REQUEST)
    before = layer.usage
    await layer.complete(REQUEST)
    assert before.total_requests == 1
    assert layer.usage.total_requests == 2
    layer.reset()
    assert layer.usage.total_requests == 0
    assert layer.usage.by_model == {}


async def test_concurrent_tasks_lose_no_update() -> None:
    layer = CostTrackingProvider(
        FakeProvider(LLMResponse(text="x", model="gpt-4o-mini", input_tokens=3, output_tokens=2))
    )

    async def one(i: int) -> None:
        if i % 2:
            await layer.complete(REQUEST)
        else:
            await drain(layer.stream(REQUEST))

    await asyncio.gather(*(one(i) for i in range(1000)))
    usage = layer.usage
    assert usage.total_requests == 1000
    assert usage.total_input_tokens == 3000
    assert usage.total_output_tokens == 2000
    assert usage.total_cost_usd == pytest.approx(1000 * (3 * 0.15 + 2 * 0.6) / 1e6)


def test_concurrent_threads_lose_no_update() -> None:
    layer = CostTrackingProvider(FakeProvider())

    def work() -> None:
        for _ in range(2000):
            layer.record("gpt-4o-mini", input_tokens=1, output_tokens=1)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    row = layer.usage.by_model["gpt-4o-mini"]
    assert row.cost_usd == pytest.approx(16000 * 0.75 / 1e6)
    assert row.model_copy(update={"cost_usd": None}) == TokenUsage(
        requests=16000, input_tokens=16000, output_tokens=16000, cost_usd=None
    )


# --- answers the response cache gave ------------------------------------------------------


async def test_a_cache_hit_is_counted_apart_and_priced_as_saved() -> None:
    answer = LLMResponse(
        text="a", model="cheap", input_tokens=1000, output_tokens=500, cached_input_tokens=200
    )
    layer = tracked(answer, pricing={"cheap": CHEAP})
    await layer.complete(REQUEST)
    layer.count_hit(REQUEST, answer)
    layer.count_hit(REQUEST, LLMStreamChunk(model="cheap", input_tokens=10, output_tokens=5))
    usage = layer.usage
    billed = (800 * 1.0 + 200 * 0.5 + 500 * 2.0) / 1e6
    assert usage.total_requests == 1 and usage.total_cost_usd == pytest.approx(billed)
    assert usage.total_input_tokens == 1000  # what was billed only
    assert usage.cache_hits == 2
    assert usage.cost_saved_usd == pytest.approx(billed + (10 * 1.0 + 5 * 2.0) / 1e6)
    row = usage.by_model["cheap"]
    assert row.cache_hits == 2 and row.cost_saved_usd == pytest.approx(usage.cost_saved_usd)


async def test_hits_alone_cost_nothing_even_unpriced() -> None:
    layer = tracked()
    layer.count_hit(REQUEST, LLMResponse(model="mystery", input_tokens=3, output_tokens=4))
    row = layer.usage.by_model["mystery"]
    assert (row.requests, row.cache_hits, row.cost_usd, row.cost_saved_usd) == (0, 1, 0.0, None)
    assert layer.usage.unpriced_models == []  # nothing billed, so nothing unknown was spent
    assert layer.usage.cost_saved_usd == 0.0  # an unknown saving is left out of the total


async def test_a_hit_without_a_model_is_counted_under_the_requests() -> None:
    layer = tracked()
    layer.count_hit(REQUEST, LLMStreamChunk(text="x"))
    assert layer.usage.by_model["gpt-4o-mini"].cache_hits == 1


async def test_tiered_hits_are_priced_per_hit_and_many_fold() -> None:
    large = LLMResponse(model="gemini-2.5-pro", input_tokens=300_000, output_tokens=10)
    layer = tracked()
    for _ in range(300):  # past one fold's batch
        layer.count_hit(REQUEST, large)
    usage = layer.usage
    assert usage.cache_hits == 300
    assert usage.cost_saved_usd == pytest.approx(300 * (300_000 * 2.5 + 10 * 15) / 1e6)
    layer.reset()
    assert layer.usage.cache_hits == 0 and layer.usage.cost_saved_usd == 0.0
