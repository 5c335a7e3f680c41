"""Response cache building blocks: what the key covers and how the memory backend evicts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from aether.errors import ServerError
from aether.extensions.llm.caching import CachingProvider, MemoryCache, cache_key
from aether.extensions.llm.fake import FakeProvider
from aether.llm.contracts import LLMRequest, LLMResponse, LLMStreamChunk, Message

REQUEST = LLMRequest(messages=[Message(role="user", content="hi")], model="m", temperature=0.0)


def test_key_is_stable_and_hex() -> None:
    same = LLMRequest(messages=[Message(role="user", content="hi")], model="m", temperature=0.0)
    key = cache_key("openai", REQUEST)
    assert key == cache_key("openai", same)
    assert len(key) == 64 and int(key, 16) >= 0


@pytest.mark.parametrize(
    "change",
    [
        {"messages": [Message(role="user", content="hello")]},
        {"model": "other"},
        {"temperature": 0.5},
        {"seed": 7},
        {"max_tokens": 10},
        {"provider_options": {"x": 1}},
    ],
)
def test_key_changes_with_what_determines_the_answer(change: dict[str, object]) -> None:
    changed = REQUEST.model_copy(update=change)
    assert cache_key("openai", changed) != cache_key("openai", REQUEST)


def test_key_separates_providers_and_ignores_headers() -> None:
    assert cache_key("openai", REQUEST) != cache_key("anthropic", REQUEST)
    traced = REQUEST.model_copy(update={"extra_headers": {"x-trace": "1"}})
    assert cache_key("openai", traced) == cache_key("openai", REQUEST)


async def test_memory_cache_round_trip_and_delete() -> None:
    cache = MemoryCache()
    assert await cache.get("k") is None
    await cache.set("k", b"v")
    assert await cache.get("k") == b"v"
    await cache.delete("k")
    await cache.delete("k")
    assert await cache.get("k") is None


async def test_memory_cache_evicts_least_recently_used() -> None:
    cache = MemoryCache(max_entries=2)
    await cache.set("a", b"1")
    await cache.set("b", b"2")
    assert await cache.get("a") == b"1"  # "b" is now the least recently used
    await cache.set("c", b"3")
    assert await cache.get("b") is None
    assert await cache.get("a") == b"1" and await cache.get("c") == b"3"
    assert len(cache) == 2


async def test_memory_cache_expires_entries() -> None:
    now = [100.0]
    cache = MemoryCache(ttl=10, clock=lambda: now[0])
    await cache.set("default", b"d")
    await cache.set("short", b"s", ttl=1)
    now[0] = 101.0
    assert await cache.get("short") is None
    assert await cache.get("default") == b"d"
    now[0] = 110.0
    assert await cache.get("default") is None
    assert len(cache) == 0


@pytest.mark.parametrize(
    ("kwargs", "word"), [({"max_entries": 0}, "max_entries"), ({"ttl": 0}, "ttl")]
)
def test_memory_cache_rejects_bad_bounds(kwargs: dict[str, float], word: str) -> None:
    with pytest.raises(ValueError, match=word):
        MemoryCache(**kwargs)  # type: ignore[arg-type]


class SlowProvider:
    """Counts calls and holds each one open, so concurrent asks really overlap."""

    def __init__(self) -> None:
        self.calls = 0

    async def complete(self, request: LLMRequest) -> LLMResponse:
        self.calls += 1
        await asyncio.sleep(0.01)
        return LLMResponse(text=f"answer {self.calls}", model="m")

    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        self.calls += 1
        for word in ("one ", "two ", "three"):
            await asyncio.sleep(0)
            yield LLMStreamChunk(text=word)


async def test_one_hundred_concurrent_identical_asks_make_one_call() -> None:
    inner = SlowProvider()
    layer = CachingProvider(inner, MemoryCache(), "slow")
    answers = await asyncio.gather(*(layer.complete(REQUEST) for _ in range(100)))
    assert inner.calls == 1
    assert {a.text for a in answers} == {"answer 1"}
    assert (await layer.complete(REQUEST)).text == "answer 1" and inner.calls == 1


async def test_a_failed_call_is_shared_and_not_cached() -> None:
    inner = FakeProvider(responses=[ServerError("down"), "fine"])
    layer = CachingProvider(inner, MemoryCache(), "fake")
    with pytest.raises(ServerError):
        await layer.complete(REQUEST)
    assert (await layer.complete(REQUEST)).text == "fine"


async def test_stream_replay_equals_the_original_chunks() -> None:
    inner = SlowProvider()
    layer = CachingProvider(inner, MemoryCache(), "slow")
    first = [c.text async for c in layer.stream(REQUEST)]
    again = [c.text async for c in layer.stream(REQUEST)]
    assert first == again == ["one ", "two ", "three"]
    assert inner.calls == 1


async def test_an_abandoned_stream_is_not_cached() -> None:
    inner = SlowProvider()
    layer = CachingProvider(inner, MemoryCache(), "slow")
    stream = layer.stream(REQUEST)
    assert (await anext(stream)).text == "one "
    await stream.aclose()  # type: ignore[attr-defined]
    assert [c.text async for c in layer.stream(REQUEST)] == ["one ", "two ", "three"]
    assert inner.calls == 2


@pytest.mark.parametrize("damage", [lambda raw: raw[: len(raw) // 2], lambda raw: b"\xff{not json"])
async def test_a_corrupt_or_truncated_entry_is_a_miss(damage: Callable[[bytes], bytes]) -> None:
    backend = MemoryCache()
    inner = FakeProvider(responses=["first", "second"])
    layer = CachingProvider(inner, backend, "fake")
    assert (await layer.complete(REQUEST)).text == "first"
    key = "complete:" + cache_key("fake", REQUEST)
    raw = await backend.get(key)
    assert raw is not None
    await backend.set(key, damage(raw))
    assert (await layer.complete(REQUEST)).text == "second"
    assert (await layer.complete(REQUEST)).text == "second"  # the fresh answer was stored
