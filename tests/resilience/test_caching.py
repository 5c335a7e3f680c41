"""The response cache layer: what the key covers, the memory backend, single-flight, replays."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable

import pytest

from aether.config import forget_warnings
from aether.errors import AetherError, ServerError
from aether.extensions.llm._cache_call import CACHE_SWITCH, switched, switched_stream
from aether.extensions.llm.caching import (
    CachingProvider,
    MemoryCache,
    cache_key,
    is_deterministic,
    served_from_cache,
)
from aether.extensions.llm.fake import FakeProvider, Fault
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


# --- what the layer adds around the building blocks -------------------------------------


async def test_waiters_get_a_copy_each_marked_as_served() -> None:
    inner = SlowProvider()
    layer = CachingProvider(inner, MemoryCache(), "slow")
    first, second, third = await asyncio.gather(*(layer.complete(REQUEST) for _ in range(3)))
    assert inner.calls == 1
    assert first.text == second.text == third.text == "answer 1"
    assert len({id(first), id(second), id(third)}) == 3
    # The leader holds the provider's own answer; the two that waited were answered for it.
    assert [served_from_cache(a) for a in (first, second, third)] == [False, True, True]
    stored = await layer.complete(REQUEST)
    assert served_from_cache(stored) and inner.calls == 1


class GatedProvider:
    """Holds each call until released, so a test can cancel the one in flight."""

    def __init__(self) -> None:
        self.calls = 0
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    async def complete(self, request: LLMRequest) -> LLMResponse:
        self.calls += 1
        self.started.set()
        await self.release.wait()
        return LLMResponse(text=f"answer {self.calls}", model="m")

    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        yield LLMStreamChunk(text="unused")


async def test_a_cancelled_leader_hands_the_call_to_a_waiter() -> None:
    inner = GatedProvider()
    layer = CachingProvider(inner, MemoryCache(), "gated")
    leader = asyncio.create_task(layer.complete(REQUEST))
    await inner.started.wait()
    waiter = asyncio.create_task(layer.complete(REQUEST))
    await asyncio.sleep(0)  # the waiter joins the leader's flight
    leader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await leader
    inner.release.set()
    answer = await waiter  # not cancelled itself: it asked again and led
    assert answer.text == "answer 2" and inner.calls == 2
    assert not served_from_cache(answer)


class BrokenBackend:
    """A backend whose every operation fails, as an unreachable server's would."""

    async def get(self, key: str) -> bytes | None:
        raise ConnectionError("redis://:hunter2@cache:6379 unreachable")

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        raise ConnectionError("redis://:hunter2@cache:6379 unreachable")

    async def delete(self, key: str) -> None:
        raise ConnectionError("redis://:hunter2@cache:6379 unreachable")


async def test_a_failing_backend_is_a_miss_not_a_failed_call(
    caplog: pytest.LogCaptureFixture,
) -> None:
    forget_warnings()
    inner = FakeProvider(responses=["first", "second", "one two"])
    layer = CachingProvider(inner, BrokenBackend(), "fake")
    with caplog.at_level(logging.WARNING, logger="aether.cache"):
        assert (await layer.complete(REQUEST)).text == "first"
        assert (await layer.complete(REQUEST)).text == "second"
        assert "".join([c.text async for c in layer.stream(REQUEST)]) == "one two"
    messages = [record.getMessage() for record in caplog.records]
    assert any("could not read" in m for m in messages)
    assert any("could not write" in m for m in messages)
    assert not any("hunter2" in m for m in messages)  # the error's text may hold a password


async def test_the_entry_is_stored_with_the_layers_ttl() -> None:
    now = [0.0]
    backend = MemoryCache(clock=lambda: now[0])
    layer = CachingProvider(FakeProvider(responses=["a", "b"]), backend, "fake", ttl=5)
    assert (await layer.complete(REQUEST)).text == "a"
    now[0] = 4.0
    assert (await layer.complete(REQUEST)).text == "a"
    now[0] = 5.0
    assert (await layer.complete(REQUEST)).text == "b"


def test_the_ttl_must_be_positive() -> None:
    with pytest.raises(ValueError, match="ttl"):
        CachingProvider(FakeProvider(), MemoryCache(), "fake", ttl=0)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"temperature": 0.0}, True),
        ({"temperature": 0.7}, False),
        ({"temperature": 0.7, "seed": 3}, True),
        ({"default_temperature": 0.0}, True),
        ({"default_temperature": 0.7}, False),
        ({"temperature": 0.5, "default_temperature": 0.0}, False),  # the call's own wins
        ({}, False),  # the provider's default temperature is not known to be 0
    ],
)
def test_is_deterministic(fields: dict[str, object], expected: bool) -> None:
    request = LLMRequest(messages=[Message(role="user", content="hi")], **fields)  # type: ignore[arg-type]
    assert is_deterministic(request) is expected


async def test_deterministic_only_leaves_sampled_requests_alone() -> None:
    sampled = REQUEST.model_copy(update={"temperature": 0.9})
    inner = FakeProvider(responses=["a", "b", "c", "d"])
    layer = CachingProvider(inner, MemoryCache(), "fake", deterministic_only=True)
    assert [(await layer.complete(sampled)).text for _ in range(2)] == ["a", "b"]
    assert [(await layer.complete(REQUEST)).text for _ in range(2)] == ["c", "c"]


async def test_the_calls_switch_wins_over_the_rule() -> None:
    sampled = REQUEST.model_copy(update={"temperature": 0.9})
    inner = FakeProvider(responses=["a", "b", "c"])
    layer = CachingProvider(inner, MemoryCache(), "fake", deterministic_only=True)
    assert (await switched(True, layer.complete(sampled))).text == "a"
    assert (await switched(True, layer.complete(sampled))).text == "a"
    assert (await switched(False, layer.complete(sampled))).text == "b"
    assert CACHE_SWITCH.get() is None  # set only while each call ran
    # Off for a cached request: neither read nor written.
    assert (await layer.complete(REQUEST)).text == "c"
    skipped = switched_stream(False, layer.stream(REQUEST))
    with pytest.raises(AetherError, match="ran out"):
        [c async for c in skipped]


async def test_listeners_hear_each_hit_with_its_answer(caplog: pytest.LogCaptureFixture) -> None:
    heard: list[tuple[str, str | None]] = []

    def broken(request: LLMRequest, answer: LLMResponse | LLMStreamChunk) -> None:
        raise RuntimeError("listener bug")

    layer = CachingProvider(FakeProvider(responses=["a", "b c"]), MemoryCache(), "fake")
    layer.add_listener(broken)
    listener = layer.add_listener(lambda request, answer: heard.append((answer.text, answer.model)))
    assert layer.listeners == (broken, listener)
    await layer.complete(REQUEST)
    assert heard == []  # a miss is a call, not a hit
    with caplog.at_level(logging.ERROR, logger="aether.cache"):
        await layer.complete(REQUEST)
    assert heard == [("a", "m")]
    assert "listener" in caplog.text  # the broken one was logged and the call went on
    [c async for c in layer.stream(REQUEST)]
    replayed = [c async for c in layer.stream(REQUEST)]
    assert all(served_from_cache(c) for c in replayed)
    # A replay is told of with the chunk that carries the stream's usage.
    assert heard[-1] == ("", "m") and replayed[-1].output_tokens == 2
    layer.remove_listener(broken)
    with pytest.raises(ValueError, match="not a listener"):
        layer.remove_listener(broken)


async def test_a_stream_that_fails_midway_is_not_cached() -> None:
    inner = FakeProvider(
        responses=[Fault(ServerError("cut"), after_chunks=1, response="a b c"), "x y"]
    )
    layer = CachingProvider(inner, MemoryCache(), "fake")
    with pytest.raises(ServerError):
        [c async for c in layer.stream(REQUEST)]
    assert "".join([c.text async for c in layer.stream(REQUEST)]) == "x y"
    assert "".join([c.text async for c in layer.stream(REQUEST)]) == "x y"
    assert len(inner.calls) == 2


async def test_an_empty_stored_stream_is_a_miss() -> None:
    backend = MemoryCache()
    await backend.set("stream:" + cache_key("fake", REQUEST), b"[]")
    layer = CachingProvider(FakeProvider(responses=["fresh"]), backend, "fake")
    assert [c.text async for c in layer.stream(REQUEST)][:1] == ["fresh"]


async def test_a_corrupt_stream_entry_is_a_miss_and_dropped() -> None:
    backend = MemoryCache()
    layer = CachingProvider(FakeProvider(responses=["one", "two"]), backend, "fake")
    [c async for c in layer.stream(REQUEST)]
    key = "stream:" + cache_key("fake", REQUEST)
    raw = await backend.get(key)
    assert raw is not None
    await backend.set(key, raw[:-7])
    assert [c.text async for c in layer.stream(REQUEST)][:1] == ["two"]


def test_the_repr_names_the_backend() -> None:
    layer = CachingProvider(FakeProvider(), MemoryCache(max_entries=3), "fake")
    assert "MemoryCache(max_entries=3" in repr(layer)
    assert layer.default_model == "fake-model"
