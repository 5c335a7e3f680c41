"""The response cache through the client: hits, usage, events, opt-out, streams, single-flight."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import aclosing

import pytest
from pydantic import BaseModel

import aether
from aether import Aether, ProviderConfig, SyncAether
from aether.errors import ConfigurationError, PluginNotFoundError, ServerError
from aether.events import REQUEST_COMPLETE, STREAM_COMPLETE, RequestComplete, StreamComplete
from aether.extensions.llm._default_stack import DefaultStack
from aether.extensions.llm.cache_config import CacheConfig
from aether.extensions.llm.caching import CachingProvider, MemoryCache, served_from_cache
from aether.extensions.llm.cost_tracking import CostTrackingConfig
from aether.extensions.llm.fake import FakeProvider, Fault
from aether.extensions.llm.pricing import ModelPricing
from aether.llm.contracts import LLMRequest, LLMResponse, LLMStreamChunk, ToolCall
from aether.registry import default_registry

PRICE = ModelPricing(input_per_million=1_000_000.0, output_per_million=2_000_000.0)


def cached(*responses: object, **config: object) -> tuple[Aether, FakeProvider]:
    """A client with the cache on over a scripted fake (retry and breaker off)."""
    fake = FakeProvider(responses=list(responses))
    return Aether(fake, with_cache=CacheConfig(**config)), fake  # type: ignore[arg-type]


# --- on and off -------------------------------------------------------------------------


def test_the_cache_is_off_by_default_and_the_default_stack_keeps_its_fast_path() -> None:
    client = Aether(config=ProviderConfig(provider="fake"))
    assert type(client.provider) is DefaultStack
    assert not isinstance(Aether(FakeProvider()).provider, CachingProvider)


def test_with_cache_puts_the_cache_outermost() -> None:
    client = Aether(config=ProviderConfig(provider="fake"), with_cache=True)
    assert isinstance(client.provider, CachingProvider)
    assert type(client.provider.inner) is DefaultStack  # cost tracking inside: hits unbilled
    assert isinstance(client.provider.backend, MemoryCache)


def test_a_configs_cache_is_used_and_with_cache_false_removes_it() -> None:
    backend = MemoryCache(max_entries=3)
    config = ProviderConfig(provider="fake", cache=CacheConfig(backend=backend, ttl=60))
    layer = Aether(config=config).provider
    assert isinstance(layer, CachingProvider)
    assert layer.backend is backend and layer.ttl == 60
    same = Aether(config=config, with_cache=True).provider
    assert isinstance(same, CachingProvider) and same.backend is backend
    assert not isinstance(Aether(config=config, with_cache=False).provider, CachingProvider)


# --- hits -------------------------------------------------------------------------------


async def test_a_hit_costs_nothing_and_is_counted_with_what_it_saved() -> None:
    # One scripted answer: a second provider call would fail, having nothing to answer.
    config = ProviderConfig(
        provider="fake",
        options={"responses": ["four words of answer"]},
        cost_tracking=CostTrackingConfig(pricing={"fake-model": PRICE}),
        cache=CacheConfig(),
    )
    client = Aether(config=config)
    assert await client.ask("two words") == "four words of answer"
    assert await client.ask("two words") == "four words of answer"
    usage = client.usage
    one_call = 2 * 1.0 + 4 * 2.0  # 2 input and 4 output tokens at $1 and $2 a token
    assert usage.total_requests == 1 and usage.total_cost_usd == pytest.approx(one_call)
    assert usage.cache_hits == 1 and usage.cost_saved_usd == pytest.approx(one_call)
    assert usage.by_model["fake-model"].cache_hits == 1


async def test_events_mark_a_hit() -> None:
    client, _ = cached("answer", "one two")
    completed: list[RequestComplete] = []
    streamed: list[StreamComplete] = []
    client.on(REQUEST_COMPLETE, completed.append)
    client.on(STREAM_COMPLETE, streamed.append)
    await client.ask("q")
    await client.ask("q")
    assert [event.cached for event in completed] == [False, True]
    [c async for c in client.stream("s")]
    [c async for c in client.stream("s")]
    assert [event.cached for event in streamed] == [False, True]
    assert streamed[0].text == streamed[1].text == "one two"


async def test_cache_false_neither_reads_nor_writes() -> None:
    client, fake = cached("first", "second", "third")
    assert await client.ask("q", cache=False) == "first"  # not stored
    assert await client.ask("q") == "second"  # a miss, stored
    assert await client.ask("q", cache=False) == "third"  # not read
    assert await client.ask("q") == "second"
    assert len(fake.calls) == 3


async def test_the_switch_reaches_the_cache_through_a_timeout_and_a_stream() -> None:
    # A timeout runs the call in a task of its own: the switch must travel with it.
    client, fake = cached("first", "a b", "c d")
    assert await client.ask("q") == "first"
    assert await client.ask("q", settings={"timeout": 5}, cache=False) == "a b"
    chunks = [c.text async for c in client.stream("q", settings={"timeout": 5}, cache=False)]
    assert "".join(chunks) == "c d"
    assert len(fake.calls) == 3


async def test_cache_true_needs_a_cache() -> None:
    client = Aether(FakeProvider(canned_response="x"))
    with pytest.raises(ConfigurationError, match="with_cache=True"):
        await client.ask("q", cache=True)
    with pytest.raises(ConfigurationError, match="has none"):
        [c async for c in client.stream("q", cache=True)]
    assert await client.ask("q", cache=False) == "x"  # nothing to skip is fine


async def test_deterministic_only_caches_temperature_zero_and_seeds() -> None:
    client, fake = cached("a", "b", "c", "d", "e", deterministic_only=True)
    assert [await client.ask("q") for _ in range(2)] == ["a", "b"]  # the default 0.7 samples
    assert [await client.ask("q", temperature=0) for _ in range(2)] == ["c", "c"]
    assert [await client.ask("q", settings={"seed": 1}) for _ in range(2)] == ["d", "d"]
    assert [await client.ask("q", cache=True) for _ in range(2)] == ["e", "e"]  # forced
    assert len(fake.calls) == 5


async def test_a_session_uses_the_cache_and_its_opt_out() -> None:
    client, fake = cached("hello", "again")
    assert await client.session("a").ask("hi") == "hello"
    assert await client.session("b").ask("hi") == "hello"  # the same conversation so far
    assert await client.session("c").ask("hi", cache=False) == "again"
    assert len(fake.calls) == 2
    assert [m.text for m in await client.session("b").history()] == ["hi", "hello"]


async def test_a_typed_answer_comes_from_the_cache_whole() -> None:
    class City(BaseModel):
        name: str

    client, fake = cached({"name": "Paris"})
    first = await client.ask("where?", output_type=City)
    second = await client.ask("where?", output_type=City)
    assert first == second == City(name="Paris")
    assert len(fake.calls) == 1


async def test_tools_still_run_when_the_model_calls_come_from_the_cache() -> None:
    runs: list[int] = []

    def add(a: int, b: int) -> int:
        """Add two numbers."""
        runs.append(a + b)
        return a + b

    call = ToolCall(id="c1", name="add", arguments={"a": 2, "b": 3})
    client, fake = cached(call, "5")
    assert await client.ask("2+3?", tools=[add]) == "5"
    assert await client.ask("2+3?", tools=[add]) == "5"
    assert len(fake.calls) == 2 and runs == [5, 5]


def test_the_blocking_client_takes_the_same_keywords() -> None:
    fake = FakeProvider(responses=["a", "b"])
    with SyncAether(fake, with_cache=True) as client:
        assert [client.ask("q"), client.ask("q"), client.ask("q", cache=False)] == ["a", "a", "b"]
        assert client.usage.cache_hits == 1


async def test_ask_with_cache_true_builds_its_client_with_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shared = MemoryCache()
    fake = FakeProvider(responses=["stored", "fresh"])
    with default_registry.isolated() as registry:
        registry.add("cache", "shared", lambda: shared)
        monkeypatch.setenv("AETHER_CACHE", "shared")
        assert await aether.ask("q", fake, cache=True) == "stored"
        assert await aether.ask("q", fake, cache=True) == "stored"
        assert await aether.ask("q", fake) == "fresh"
    assert len(shared) == 1


# --- streams ----------------------------------------------------------------------------


async def test_a_stream_is_stored_whole_and_replayed_equal() -> None:
    client, fake = cached("the quick brown fox")
    first = [c async for c in client.stream("q")]
    again = [c async for c in client.stream("q")]
    assert [c.model_dump() for c in again] == [c.model_dump() for c in first]
    assert len(again) > 2 and again[-1].finish_reason == "stop" and again[-1].output_tokens
    assert all(served_from_cache(c) for c in again) and not served_from_cache(first[0])
    assert "".join([t async for t in client.stream_text("q")]) == "the quick brown fox"
    assert len(fake.calls) == 1
    assert client.usage.cache_hits == 2 and client.usage.total_requests == 1


async def test_an_interrupted_stream_is_never_cached() -> None:
    broken = Fault(ServerError("connection reset"), after_chunks=2, response="a b c d")
    client, fake = cached(broken, "w x y z", "fresh")
    with pytest.raises(ServerError):
        [c async for c in client.stream("q")]
    assert "".join([c.text async for c in client.stream("q")]) == "w x y z"
    assert len(fake.calls) == 2


async def test_a_stream_left_early_is_never_cached() -> None:
    client, fake = cached("a b c d", "w x y z")
    async with aclosing(client.stream("q")) as chunks:
        async for chunk in chunks:
            assert chunk.text == "a "
            break
    assert "".join([c.text async for c in client.stream("q")]) == "w x y z"
    assert "".join([c.text async for c in client.stream("q")]) == "w x y z"
    assert len(fake.calls) == 2


# --- single-flight ----------------------------------------------------------------------


class SlowProvider:
    """Holds each call open for a moment, so concurrent asks overlap; counts the calls."""

    name = "slow"
    default_model = "slow-model"

    def __init__(self) -> None:
        self.calls = 0

    async def complete(self, request: LLMRequest) -> LLMResponse:
        self.calls += 1
        await asyncio.sleep(0.05)
        return LLMResponse(text="the answer", model="slow-model", input_tokens=3, output_tokens=2)

    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        yield LLMStreamChunk(text="unused", finish_reason="stop")


async def test_one_hundred_concurrent_identical_asks_make_one_provider_call() -> None:
    slow = SlowProvider()
    client = Aether(slow, with_cache=True)
    answers = await asyncio.gather(*(client.ask("the same question") for _ in range(100)))
    assert answers == ["the answer"] * 100
    assert slow.calls == 1
    usage = client.usage
    assert usage.total_requests == 1 and usage.cache_hits == 99
    assert usage.total_input_tokens == 3  # billed once


async def test_concurrent_asks_through_the_full_stack_make_one_call() -> None:
    slow = SlowProvider()
    client = Aether(slow, with_cache=True, with_retry=True, with_circuit_breaker=True)
    await asyncio.gather(*(client.ask("q", settings={"timeout": 5}) for _ in range(100)))
    assert slow.calls == 1


# --- the backend: AETHER_CACHE and specs ------------------------------------------------


async def test_aether_cache_names_the_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AETHER_CACHE", "memory?max_entries=7")
    layer = Aether(FakeProvider(), with_cache=True).provider
    assert isinstance(layer, CachingProvider)
    assert isinstance(layer.backend, MemoryCache) and layer.backend.max_entries == 7
    # Naming a backend does not turn the cache on.
    assert not isinstance(Aether(FakeProvider()).provider, CachingProvider)


def test_an_unknown_backend_name_suggests_the_closest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AETHER_CACHE", "memroy://secret@host")
    with pytest.raises(PluginNotFoundError) as caught:
        Aether(FakeProvider(), with_cache=True)
    assert caught.value.setting == "AETHER_CACHE" and "memory" in caught.value.suggestions
    message = str(caught.value)
    assert message.startswith("No cache named 'memroy' (from AETHER_CACHE). Did you mean 'memory'?")
    assert "secret" not in message
    with pytest.raises(PluginNotFoundError, match=r"^No cache named 'memroy'\. Did you mean"):
        Aether(FakeProvider(), with_cache=CacheConfig(backend="memroy"))
