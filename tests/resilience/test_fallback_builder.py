"""``ProviderConfig(fallbacks=..., layers=..., circuit_breaker=<factory>)``: what the builder
makes of them, usage per model and the client's events."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from aether import Aether
from aether.errors import (
    ConfigurationError,
    ServerError,
)
from aether.events import REQUEST_RETRY, RequestRetry
from aether.extensions.llm import (
    FallbackPolicy,
    FallbackProvider,
    LayerFactory,
)
from aether.extensions.llm._default_stack import DefaultStack
from aether.extensions.llm._layer import ProviderLayer
from aether.extensions.llm.builder import ProviderConfig, build_provider, find_layer
from aether.extensions.llm.circuit_breaker import CircuitBreakerConfig, CircuitBreakerProvider
from aether.extensions.llm.cost_tracking import CostTrackingConfig, CostTrackingProvider
from aether.extensions.llm.fake import FakeProvider, Fault, ScriptItem
from aether.extensions.llm.pricing import ModelPricing
from aether.extensions.llm.retrying import RetryConfig, RetryingProvider, set_testing
from aether.llm.contracts import LLMProvider, LLMRequest, LLMResponse, LLMStreamChunk, Message

REQUEST = LLMRequest(messages=[Message(role="user", content="hi")], model="main-model")


@pytest.fixture(autouse=True)
def instant_retries() -> Iterator[None]:
    with set_testing(True):
        yield


# --- the builder ----------------------------------------------------------------------------

PRICE = ModelPricing(input_per_million=1_000_000, output_per_million=1_000_000)


def fake_config(*responses: ScriptItem, **fields: Any) -> ProviderConfig:
    return ProviderConfig(provider="fake", options={"responses": list(responses)}, **fields)


def types_of(provider: object) -> list[type]:
    found = []
    while provider is not None:
        found.append(type(provider))
        provider = getattr(provider, "inner", None)
    return found


def test_fallbacks_build_a_stack_per_provider_inside_cost_tracking() -> None:
    config = fake_config(
        "ok", fallbacks=["fake", ProviderConfig(provider="fake", model="backup-model")]
    )
    built = build_provider(config)
    assert types_of(built) == [
        CostTrackingProvider,
        FallbackProvider,
        CircuitBreakerProvider,
        RetryingProvider,
        FakeProvider,
    ]
    chain = find_layer(built, FallbackProvider)
    assert chain is not None
    assert [(t.name, t.model) for t in chain.fallbacks] == [
        ("fake", "fake-model"),  # a bare name: that provider's default model
        ("fake", "backup-model"),
    ]
    breakers = [find_layer(t.provider, CircuitBreakerProvider) for t in chain.fallbacks]
    assert all(b is not None for b in breakers)
    assert len({id(b) for b in [find_layer(built, CircuitBreakerProvider), *breakers]}) == 3


def test_a_fallback_inherits_retry_and_breaker_unless_it_sets_its_own() -> None:
    retry = RetryConfig(max_retries=5)
    breaker = CircuitBreakerConfig(failure_threshold=9)
    own_retry = RetryConfig(max_retries=0)
    config = fake_config(
        retry=retry,
        circuit_breaker=breaker,
        fallbacks=[
            "fake",
            ProviderConfig(provider="fake", retry=own_retry),
            ProviderConfig(provider="fake", circuit_breaker=None, retry=None),
        ],
    )
    chain = find_layer(build_provider(config), FallbackProvider)
    assert chain is not None
    inherits, own, bare = (t.provider for t in chain.fallbacks)
    assert find_layer(inherits, RetryingProvider).config is retry  # type: ignore[union-attr]
    assert find_layer(inherits, CircuitBreakerProvider).config is breaker  # type: ignore[union-attr]
    assert find_layer(own, RetryingProvider).config is own_retry  # type: ignore[union-attr]
    assert find_layer(own, CircuitBreakerProvider).config is breaker  # type: ignore[union-attr]
    assert type(bare) is FakeProvider


@pytest.mark.parametrize(
    "field",
    [
        {"settings": {"temperature": 0.1}},
        {"cost_tracking": None},
        {"output_retries": 3},
        {"fallbacks": ["fake"]},
        {"fallback_policy": FallbackPolicy()},
    ],
    ids=lambda f: next(iter(f)),
)
def test_a_fallback_may_not_set_what_the_chain_has_once(field: dict[str, Any]) -> None:
    config = fake_config(fallbacks=[ProviderConfig(provider="fake", **field)])
    with pytest.raises(ConfigurationError) as info:
        build_provider(config)
    name = next(iter(field))
    assert f"ProviderConfig.fallbacks[0] sets {name}" in str(info.value)
    assert "on the first provider's ProviderConfig" in str(info.value)


def test_a_fallbacks_secrets_stay_out_of_the_repr() -> None:
    backup = ProviderConfig(
        provider="fake",
        api_key=SecretStr("sk-backup-key-123"),
        options={"token": "tok-backup-456"},
    )
    shown = repr(ProviderConfig(provider="fake", fallbacks=[backup]))
    assert "sk-backup-key-123" not in shown and "tok-backup-456" not in shown
    assert "provider='fake'" in shown


def test_an_empty_fallback_name_is_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"fallbacks\[1\] is an empty name"):
        ProviderConfig(fallbacks=["fake", " "])


def test_the_chain_reads_through_to_the_first_provider() -> None:
    built = build_provider(fake_config("ok", fallbacks=["fake"], model="first-model"))
    assert built.default_model == "first-model"  # type: ignore[attr-defined]
    assert find_layer(built, FakeProvider) is not None
    assert "fallbacks=[fake (model fake-model)]" in repr(find_layer(built, FallbackProvider))


async def test_usage_is_counted_per_model_of_the_provider_that_answered() -> None:
    config = fake_config(
        ServerError("down", status_code=503),
        "first answers",
        Fault(ServerError("down", status_code=503)),
        retry=None,
        fallbacks=[ProviderConfig(provider="fake", model="backup-model")],
        cost_tracking=CostTrackingConfig(
            pricing={"fake-model": PRICE, "backup-model": PRICE}, use_price_library=False
        ),
    )
    async with Aether(config=config) as client:
        assert await client.ask("one two") == "You said: one two"  # the fallback echoes
        assert await client.ask("x") == "first answers"
        assert "".join([t async for t in client.stream_text("a b c")]) == "You said: a b c"
        usage = client.usage
    assert set(usage.by_model) == {"fake-model", "backup-model"}
    assert usage.by_model["backup-model"].requests == 2
    assert usage.by_model["fake-model"].requests == 1
    assert usage.by_model["backup-model"].estimated_requests == 0


async def test_a_fallbacks_stream_broken_after_output_is_estimated_under_its_model() -> None:
    # The spare's chunks name no model and report no usage before the break: the estimate is
    # the spare's, not the first provider's (whose model the request names).
    broken = Fault(ServerError("down", status_code=503), after_chunks=2, response="one two three")
    config = ProviderConfig(
        provider="fake",
        model="first-model",
        options={"responses": [ServerError("down", status_code=503)]},
        retry=None,
        fallbacks=[
            ProviderConfig(provider="fake", model="backup-model", options={"responses": [broken]})
        ],
    )
    seen: list[str] = []

    async def read(client: Aether) -> None:
        async for piece in client.stream_text("a b"):
            seen.append(piece)

    async with Aether(config=config) as client:
        with pytest.raises(ServerError):
            await read(client)
        usage = client.usage
    assert "".join(seen) == "one two "
    assert list(usage.by_model) == ["backup-model"]
    row = usage.by_model["backup-model"]
    assert (row.requests, row.estimated_requests, row.output_tokens) == (1, 1, 2)


async def test_a_broken_stream_is_estimated_under_the_model_its_chunks_name() -> None:
    class Named:
        name = "named"
        default_model = "default-model"

        async def complete(self, request: LLMRequest) -> LLMResponse:
            raise NotImplementedError

        async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
            yield LLMStreamChunk(text="hi", model="served-model")
            raise ServerError("down", status_code=503)

    tracked = CostTrackingProvider(Named(), CostTrackingConfig(use_price_library=False))
    with pytest.raises(ServerError):
        async for _ in tracked.stream(REQUEST):
            pass
    assert list(tracked.usage.by_model) == ["served-model"]


async def test_each_provider_keeps_its_own_breaker() -> None:
    config = fake_config(
        *[ServerError("down", status_code=503)] * 2,
        retry=None,
        circuit_breaker=CircuitBreakerConfig(failure_threshold=2, reset_timeout=60),
        fallbacks=["fake"],
    )
    built = build_provider(config)
    for _ in range(3):
        response = await built.complete(REQUEST)
        assert response.text == "You said: hi"
    breaker = find_layer(built, CircuitBreakerProvider)
    chain = find_layer(built, FallbackProvider)
    assert breaker is not None and chain is not None
    assert breaker.state == "open"  # the third call was refused at once, then fell over
    fallback_breaker = find_layer(chain.fallbacks[0].provider, CircuitBreakerProvider)
    assert fallback_breaker is not None and fallback_breaker.state == "closed"
    primary = find_layer(built, FakeProvider)
    assert primary is not None and len(primary.calls) == 2


# --- events and logs ------------------------------------------------------------------------


async def test_events_say_which_provider_answered(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="aether.fallback")
    first, second = ServerError("busy", status_code=503), ServerError("busy", status_code=503)
    config = fake_config(
        first,
        second,
        retry=RetryConfig(max_retries=1),
        fallbacks=[ProviderConfig(provider="fake", model="backup-model")],
    )
    seen: list[RequestRetry] = []
    async with Aether(config=config) as client:
        client.on(REQUEST_RETRY, seen.append)
        assert await client.ask("hi") == "You said: hi"
    retry, fall_over = seen
    assert (retry.fallback_provider, retry.attempt, retry.error) == (None, 1, first)
    assert (fall_over.provider, fall_over.model) == ("fake", "fake-model")
    assert (fall_over.fallback_provider, fall_over.fallback_model) == ("fake", "backup-model")
    assert (fall_over.attempt, fall_over.delay_seconds, fall_over.error) == (2, 0.0, second)
    assert fall_over.request.model == "fake-model"
    [line] = [r.getMessage() for r in caplog.records if r.name == "aether.fallback"]
    assert line == (
        "Falling over from fake (model fake-model) to fake (model backup-model): it failed "
        "with ServerError, HTTP 503."
    )


# --- layers= and circuit_breaker=<factory> --------------------------------------------------


class Counting(ProviderLayer):
    """A layer of one's own: counts the calls that pass through it."""

    __slots__ = ("calls", "label")

    def __init__(self, inner: LLMProvider, label: str) -> None:
        super().__init__(inner)
        self.label = label
        self.calls = 0

    async def complete(self, request: LLMRequest) -> LLMResponse:
        self.calls += 1
        return await self.inner.complete(request)

    def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        self.calls += 1
        return self.inner.stream(request)


def counting(label: str) -> LayerFactory:
    return lambda inner: Counting(inner, label)


async def test_layers_go_innermost_in_order_and_see_every_attempt() -> None:
    config = fake_config(
        ServerError("busy", status_code=503),
        ServerError("busy", status_code=503),
        "ok",
        layers=[counting("first"), counting("second")],
    )
    built = build_provider(config)
    assert types_of(built) == [
        DefaultStack,  # the plain case keeps its fused path with layers inside
        CircuitBreakerProvider,
        RetryingProvider,
        Counting,
        Counting,
        FakeProvider,
    ]
    retry = find_layer(built, RetryingProvider)
    assert retry is not None
    outer = retry.inner
    inner = getattr(outer, "inner", None)
    assert isinstance(outer, Counting) and isinstance(inner, Counting)
    assert (outer.label, inner.label) == ("second", "first")
    assert (await built.complete(REQUEST)).text == "ok"
    assert outer.calls == inner.calls == 3  # every attempt, not once per call


def test_a_fallbacks_layers_are_its_own() -> None:
    config = fake_config(
        layers=[counting("main")],
        fallbacks=["fake", ProviderConfig(provider="fake", layers=[counting("backup")])],
    )
    chain = find_layer(build_provider(config), FallbackProvider)
    assert chain is not None
    bare, layered = (t.provider for t in chain.fallbacks)
    assert find_layer(bare, Counting) is None
    found = find_layer(layered, Counting)
    assert found is not None and found.label == "backup"


def test_a_layer_factory_must_return_a_provider() -> None:
    config = fake_config(layers=[lambda inner: None])
    with pytest.raises(ConfigurationError, match=r"layers\[0\].*is not a provider"):
        build_provider(config)


async def test_circuit_breaker_takes_a_layer_factory_outside_retry() -> None:
    config = fake_config(
        ServerError("busy", status_code=503), "ok", circuit_breaker=counting("breaker")
    )
    built = build_provider(config)
    assert types_of(built) == [CostTrackingProvider, Counting, RetryingProvider, FakeProvider]
    assert find_layer(built, CircuitBreakerProvider) is None
    assert (await built.complete(REQUEST)).text == "ok"
    breaker = find_layer(built, Counting)
    assert breaker is not None and breaker.calls == 1  # one call, however many attempts


def test_a_breaker_factory_must_return_a_provider() -> None:
    config = fake_config(circuit_breaker=lambda inner: 42)
    with pytest.raises(ConfigurationError, match=r"circuit_breaker .* is not a provider"):
        build_provider(config)
