"""What the store writes in Redis: key layout, hash tags, expiry; and how it is selected."""

from __future__ import annotations

import asyncio
import gc
import random

import pytest
import redis.asyncio
from redis.crc import key_slot

from aether import Aether
from aether.errors import ConfigurationError
from aether.extensions.llm.fake import FakeProvider
from aether.memory import create_session_store
from aether_memory_redis import RedisSessionStore, session_keys
from aether_memory_redis.testing import RedisServer
from tests.memory_redis._child import turn_messages


async def test_key_layout(redis_server: RedisServer, prefix: str, raw: redis.asyncio.Redis) -> None:
    async with RedisSessionStore(redis_server.url, prefix=prefix) as store:
        await store.append_turn("alice", "t1", turn_messages("a", 3))
        await store.append_turn("alice", "t2", turn_messages("b", 1))
    keys = sorted(await raw.keys(f"{{{prefix}:alice}}*"))
    assert keys == [f"{{{prefix}:alice}}:{s}".encode() for s in ("messages", "turn_ids", "turns")]
    assert session_keys(prefix, "alice") == [
        f"{{{prefix}:alice}}:messages",
        f"{{{prefix}:alice}}:turns",
        f"{{{prefix}:alice}}:turn_ids",
    ]
    messages_key, turns_key, ids_key = session_keys(prefix, "alice")
    assert await raw.lrange(turns_key, 0, -1) == [b"3", b"1"]
    assert await raw.smembers(ids_key) == {b"t1", b"t2"}
    stored = await raw.lrange(messages_key, 0, -1)
    assert stored == [
        m.model_dump_json().encode() for m in turn_messages("a", 3) + turn_messages("b", 1)
    ]


@pytest.mark.parametrize("session_id", ["alice", "a}b", "{x}", "a:b}:turns", "", "ünï 🚀"])
def test_one_sessions_keys_share_a_cluster_slot(session_id: str) -> None:
    keys = session_keys("app", session_id)
    assert len({key_slot(key.encode()) for key in keys}) == 1
    assert len(set(keys)) == 3


async def test_sessions_whose_ids_look_like_keys_stay_apart(
    redis_server: RedisServer, prefix: str
) -> None:
    ids = ["a", "a}:messages", "a}", "{a", "a}:turns", "a}:turn_ids"]
    async with RedisSessionStore(redis_server.url, prefix=prefix) as store:
        for index, session_id in enumerate(ids):
            await store.append_turn(session_id, "t", turn_messages(f"s{index}"))
        for index, session_id in enumerate(ids):
            assert await store.load(session_id) == turn_messages(f"s{index}")


async def test_ttl_applies_to_every_key_and_restarts_on_write(
    redis_server: RedisServer, prefix: str, raw: redis.asyncio.Redis
) -> None:
    keys = session_keys(prefix, "s")
    async with RedisSessionStore(redis_server.url, prefix=prefix, ttl=100) as store:
        await store.append_turn("s", "t1", turn_messages("a"))
        await raw.pexpire(keys[0], 5_000)  # pretend time passed for one key
        await store.append_turn("s", "t2", turn_messages("b"))
        for key in keys:
            assert 99_000 < await raw.pttl(key) <= 100_000
        await store.save("s", turn_messages("c"))
        for key in keys[:2]:
            assert 99_000 < await raw.pttl(key) <= 100_000
    async with RedisSessionStore(redis_server.url, prefix=prefix) as forever:
        await forever.save("p", turn_messages("p"))
        for key in session_keys(prefix, "p")[:2]:
            assert await raw.pttl(key) == -1


async def test_an_idle_session_expires_whole(redis_server: RedisServer, prefix: str) -> None:
    async with RedisSessionStore(redis_server.url, prefix=prefix, ttl=0.05) as store:
        await store.append_turn("s", "t1", turn_messages("a"))
        await asyncio.sleep(0.15)
        assert await store.exists("s") is False
        assert await store.load("s") == []
        assert await store.append_turn("s", "t1", turn_messages("b")) is True  # id forgotten


async def test_bookkeeping_without_messages_is_not_a_session(
    redis_server: RedisServer, prefix: str, raw: redis.asyncio.Redis
) -> None:
    # What an expiry racing between keys would leave on a server older than Redis 7.
    _, turns_key, ids_key = session_keys(prefix, "s")
    await raw.rpush(turns_key, 5)
    await raw.sadd(ids_key, "t1")
    async with RedisSessionStore(redis_server.url, prefix=prefix) as store:
        assert await store.append_turn("s", "t1", turn_messages("a", 2)) is True
        assert await store.load("s", limit=2) == turn_messages("a", 2)


async def test_huge_limits_and_turns(redis_server: RedisServer, prefix: str) -> None:
    big_turn = turn_messages("big", 2_500, pad=0)  # more messages than Lua's unpack() takes
    async with RedisSessionStore(redis_server.url, prefix=prefix) as store:
        await store.append_turn("s", "t1", big_turn)
        await store.save("saved", big_turn * 2)
        assert await store.load("s", limit=2**70) == big_turn
        assert await store.load("s", limit=2_499) == []
        assert await store.load("saved", limit=2_500) == big_turn


async def test_cancelled_appends_are_whole_or_absent(
    redis_server: RedisServer, prefix: str
) -> None:
    rng = random.Random(11)
    async with RedisSessionStore(redis_server.url, prefix=prefix) as store:
        bystander_done = 0

        async def bystander() -> None:
            nonlocal bystander_done
            for n in range(200):
                await store.append_turn("bystander", f"b{n}", turn_messages(f"bystander-{n}", 2))
                bystander_done += 1

        async def victim(index: int) -> None:
            await store.append_turn(f"victim-{index}", "v", turn_messages(f"victim-{index}", 3))

        background = asyncio.create_task(bystander())
        tasks = []
        for index in range(1000):
            task = asyncio.create_task(victim(index))
            tasks.append(task)
            for _ in range(rng.randint(0, 3)):
                await asyncio.sleep(0)
            task.cancel()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        await background
        cancelled = sum(isinstance(o, asyncio.CancelledError) for o in outcomes)
        assert cancelled > 0
        assert all(o is None or isinstance(o, asyncio.CancelledError) for o in outcomes)
        stored = 0
        for index in range(1000):
            loaded = await store.load(f"victim-{index}")
            assert loaded in ([], turn_messages(f"victim-{index}", 3))
            stored += bool(loaded)
        assert stored >= 1000 - cancelled
        assert await store.load("bystander") == [
            m for n in range(200) for m in turn_messages(f"bystander-{n}", 2)
        ]
        assert await store.append_turn("after", "t", turn_messages("after", 2)) is True


# Connections opened on a loop that has since closed cannot be closed any more; Python says
# so with a ResourceWarning when they are collected, which is the point of this scenario.
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
async def test_works_from_a_second_event_loop(redis_server: RedisServer, prefix: str) -> None:
    store = RedisSessionStore(redis_server.url, prefix=prefix)
    await store.append_turn("s", "t1", turn_messages("a"))

    async def elsewhere() -> None:
        await store.append_turn("s", "t2", turn_messages("b"))

    await asyncio.to_thread(asyncio.run, elsewhere())
    assert await store.load("s") == turn_messages("a") + turn_messages("b")
    await store.aclose()
    gc.collect()  # the abandoned pools' warnings surface here, under this test's filters


async def test_a_given_client_is_used_and_left_open(
    redis_server: RedisServer, prefix: str, raw: redis.asyncio.Redis
) -> None:
    store = RedisSessionStore(client=raw, prefix=prefix)
    assert repr(store) == f"RedisSessionStore('<Redis>', prefix={prefix!r})"
    await store.append_turn("s", "t", turn_messages("a"))
    await store.aclose()
    assert await raw.ping() is True


async def test_selected_by_environment(
    redis_server: RedisServer, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    location = redis_server.url.removeprefix("redis://")
    monkeypatch.setenv("AETHER_SESSION_STORE", f"redis://{location}?prefix={prefix}&ttl=60")
    client = Aether(FakeProvider())
    store = client.memory_store
    assert isinstance(store, RedisSessionStore)
    assert (store.prefix, store.ttl, store.url) == (prefix, 60.0, redis_server.url)
    await client.session("s").ask("hi")
    assert [m.content for m in await store.load("s")] == ["hi", "You said: hi"]
    await store.aclose()


async def test_selected_by_name_and_variables(
    redis_server: RedisServer, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AETHER_REDIS_URL", redis_server.url)
    monkeypatch.setenv("AETHER_REDIS_PREFIX", prefix)
    monkeypatch.setenv("AETHER_REDIS_TTL", "30")
    monkeypatch.setenv("AETHER_REDIS_TIMEOUT", "2")
    store = create_session_store("redis")
    assert isinstance(store, RedisSessionStore)
    assert (store.url, store.prefix, store.ttl) == (redis_server.url, prefix, 30.0)
    await store.check()
    await store.aclose()
    tls = create_session_store("rediss://example.invalid:6380/0?retries=0")
    assert isinstance(tls, RedisSessionStore) and tls.url == "rediss://example.invalid:6380/0"


@pytest.mark.parametrize(
    "spec",
    [
        "redis://h:6379/0?colour=blue",
        "redis://h:6379/0?ttl=soon",
        "redis://h:6379/0?ttl=-1",
        "redis://h:6379/0?timeout=nan",
        "redis://h:6379/0?retries=many",
        "redis://h:6379/0?prefix=a{b}",
        "redis://:hunter2@h:6379/zero",
        "rediss",
    ],
)
def test_bad_specs_are_configuration_errors(spec: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        create_session_store(spec)
    assert "hunter2" not in str(caught.value)
