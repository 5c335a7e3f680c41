"""The builder's stack: order, opting out, find_layer, and how the layers compose."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from aether.errors import CircuitOpenError, ServerError, StreamInterruptedError
from aether.extensions.llm._default_stack import DefaultStack
from aether.extensions.llm.builder import ProviderConfig, build_provider, find_layer
from aether.extensions.llm.circuit_breaker import CircuitBreakerConfig, CircuitBreakerProvider
from aether.extensions.llm.cost_tracking import CostTrackingConfig, CostTrackingProvider
from aether.extensions.llm.fake import FakeProvider, Fault
from aether.extensions.llm.pricing import ModelPricing
from aether.extensions.llm.retrying import RetryConfig, RetryingProvider, set_testing
from aether.llm.contracts import LLMProvider, LLMRequest, LLMResponse, LLMStreamChunk, Message

REQUEST = LLMRequest(messages=[Message(role="user", content="hi")], model="m")
PRICE = {"m": ModelPricing(input_per_million=1_000_000, output_per_million=1_000_000)}


@pytest.fixture(autouse=True)
def instant_retries() -> Iterator[None]:
    with set_testing(True):
        yield


def stack(fake: FakeProvider, **overrides: object) -> LLMProvider:
    settings: dict[str, object] = {
        "cost_tracking": CostTrackingConfig(pricing=PRICE),
        "circuit_breaker": CircuitBreakerConfig(failure_threshold=2),
        **overrides,
    }
    return build_provider(ProviderConfig(**settings), provider=fake)  # type: ignore[arg-type]


def layers(provider: object) -> list[type]:
    found = []
    while provider is not None:
        found.append(type(provider))
        provider = getattr(provider, "inner", None)
    return found


def test_the_default_order_is_cost_breaker_retry_provider() -> None:
    fake = FakeProvider()
    built = build_provider(provider=fake)
    assert layers(built) == [
        DefaultStack,  # a CostTrackingProvider that runs the other two layers in its frame
        CircuitBreakerProvider,
        RetryingProvider,
        FakeProvider,
    ]
    assert isinstance(built, CostTrackingProvider)
    assert isinstance(built, LLMProvider)
    assert built.default_model == "fake-model"


@pytest.mark.parametrize("off", ["retry", "circuit_breaker", "cost_tracking"])
def test_each_layer_can_be_turned_off(off: str) -> None:
    settings: dict[str, Any] = {off: None}
    built = build_provider(ProviderConfig(**settings), provider=FakeProvider())
    assert len(layers(built)) == 3
    kinds = {
        "retry": RetryingProvider,
        "circuit_breaker": CircuitBreakerProvider,
        "cost_tracking": CostTrackingProvider,
    }
    assert find_layer(built, kinds[off]) is None


def test_find_layer_walks_inner() -> None:
    fake = FakeProvider()
    built = build_provider(provider=fake)
    retry = find_layer(built, RetryingProvider)
    assert retry is not None
    assert retry.inner is fake
    assert find_layer(built, FakeProvider) is fake
    assert find_layer(fake, CostTrackingProvider) is None


def test_the_builder_builds_a_named_provider_and_labels_the_breaker() -> None:
    built = build_provider(ProviderConfig(provider="fake", model="tiny"))
    breaker = find_layer(built, CircuitBreakerProvider)
    assert breaker is not None
    assert breaker.name == "fake"
    assert built.default_model == "tiny"  # type: ignore[attr-defined]


def test_layer_configs_flow_through() -> None:
    retry = RetryConfig(max_retries=7)
    built = build_provider(ProviderConfig(retry=retry), provider=FakeProvider())
    layer = find_layer(built, RetryingProvider)
    assert layer is not None
    assert layer.config is retry


async def test_failed_retries_are_billed_once_and_are_one_breaker_failure() -> None:
    fake = FakeProvider(
        responses=[
            ServerError("x", status_code=500),
            ServerError("x", status_code=500),
            LLMResponse(text="ok", model="m", input_tokens=1, output_tokens=1),
        ]
    )
    built = stack(fake)
    response = await built.complete(REQUEST)
    assert response.text == "ok"
    assert len(fake.calls) == 3
    cost = find_layer(built, CostTrackingProvider)
    assert cost is not None
    assert cost.usage.total_requests == 1
    assert cost.usage.total_cost_usd == pytest.approx(2.0)
    breaker = find_layer(built, CircuitBreakerProvider)
    assert breaker is not None
    assert breaker.failures == 0  # the breaker saw one success, not two failures


async def test_one_retry_exhausted_call_is_one_breaker_failure() -> None:
    fake = FakeProvider(responses=[ServerError("x", status_code=500) for _ in range(6)])
    built = stack(fake)
    breaker = find_layer(built, CircuitBreakerProvider)
    assert breaker is not None
    with pytest.raises(ServerError):
        await built.complete(REQUEST)
    assert len(fake.calls) == 3
    assert breaker.failures == 1
    assert breaker_state(breaker) == "closed"
    with pytest.raises(ServerError):
        await built.complete(REQUEST)
    assert breaker_state(breaker) == "open"  # threshold 2 = two logical calls, six attempts
    with pytest.raises(CircuitOpenError):
        await built.complete(REQUEST)
    assert len(fake.calls) == 6
    cost = find_layer(built, CostTrackingProvider)
    assert cost is not None
    assert cost.usage.total_requests == 0


def breaker_state(breaker: CircuitBreakerProvider) -> str:
    return breaker.state


async def drain(stream: AsyncIterator[LLMStreamChunk]) -> list[str]:
    return [chunk.text async for chunk in stream]


async def drain_into(stream: AsyncIterator[LLMStreamChunk], received: list[str]) -> None:
    async for chunk in stream:
        received.append(chunk.text)


async def test_a_stream_retried_before_output_is_billed_once() -> None:
    fake = FakeProvider(
        responses=[
            Fault(ServerError("x", status_code=503)),
            LLMResponse(text="a b", model="m", input_tokens=1, output_tokens=2),
        ]
    )
    built = stack(fake)
    assert "".join(await drain(built.stream(REQUEST))) == "a b"
    cost = find_layer(built, CostTrackingProvider)
    assert cost is not None
    usage = cost.usage
    assert (usage.total_requests, usage.total_output_tokens) == (1, 2)
    assert usage.total_estimated_requests == 0


@pytest.mark.parametrize("after", [0, 1, 5])
async def test_a_stream_interrupted_after_n_chunks_through_the_stack(after: int) -> None:
    answer = "one two three four five six seven"
    fake = FakeProvider(
        responses=[
            Fault(ServerError("x", status_code=502), after_chunks=after, response=answer),
            LLMResponse(text=answer, model="m", input_tokens=1, output_tokens=7),
        ]
    )
    built = stack(fake)
    received: list[str] = []
    cost = find_layer(built, CostTrackingProvider)
    breaker = find_layer(built, CircuitBreakerProvider)
    assert cost is not None
    assert breaker is not None
    if after == 0:
        received = await drain(built.stream(REQUEST))
        assert "".join(received) == answer
        assert len(fake.calls) == 2
        assert cost.usage.total_estimated_requests == 0
        assert breaker.failures == 0
    else:
        with pytest.raises(StreamInterruptedError) as info:
            await drain_into(built.stream(REQUEST), received)
        assert info.value.chunks_received == after
        assert received == [word + " " for word in answer.split(" ")][:after]
        assert len(fake.calls) == 1
        assert cost.usage.total_estimated_requests == 1
        assert breaker.failures == 1  # a stream dropped mid-way counts against the provider
    assert cost.usage.total_requests == 1


async def test_aclose_reaches_the_provider() -> None:
    closed: list[bool] = []

    class Closable(FakeProvider):
        async def aclose(self) -> None:
            closed.append(True)

    built = build_provider(provider=Closable())
    await built.aclose()  # type: ignore[attr-defined]
    assert closed == [True]
