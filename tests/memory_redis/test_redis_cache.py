"""The Redis response-cache backend on a real server: the suite, its keys, errors, processes."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import redis.asyncio

from aether.errors import ConfigurationError, SessionStoreError
from aether.extensions.llm.cache_config import create_cache
from aether.extensions.llm.caching import CachingProvider, cache_key
from aether.extensions.llm.fake import FakeProvider
from aether.llm.contracts import LLMRequest, Message
from aether.testing import CacheBackendConformance
from aether_memory_redis import RedisCache, RedisSessionStore, create_redis_cache
from aether_memory_redis.testing import RedisServer, free_port

CHILD = Path(__file__).parents[1] / "support" / "cache_child.py"
REQUEST = LLMRequest(messages=[Message(role="user", content="hi")], model="m", temperature=0.0)


class TestRedisCache(CacheBackendConformance):
    @pytest.fixture
    async def backend(self, redis_server: RedisServer, prefix: str) -> AsyncIterator[RedisCache]:
        cache = RedisCache(redis_server.url, prefix=prefix)
        yield cache
        await cache.aclose()


class TestRedisCacheOnAGivenClient(CacheBackendConformance):
    @pytest.fixture
    async def backend(self, redis_server: RedisServer, prefix: str) -> AsyncIterator[RedisCache]:
        client = redis.asyncio.Redis.from_url(redis_server.url)
        cache = RedisCache(client=client, prefix=prefix)
        yield cache
        await cache.aclose()
        assert await client.ping()  # closing the cache left the caller's client open
        await client.aclose()


async def test_entries_are_plain_strings_under_the_prefix_with_redis_expiry(
    redis_server: RedisServer, prefix: str, raw: redis.asyncio.Redis
) -> None:
    async with RedisCache(redis_server.url, prefix=prefix, ttl=600) as cache:
        await cache.set("complete:abc", b"v")
        await cache.set("forever", b"f", ttl=None)
        await cache.set("short", b"s", ttl=5)
    assert await raw.get(f"{prefix}:complete:abc") == b"v"
    assert await raw.type(f"{prefix}:complete:abc") == b"string"
    assert 590_000 < await raw.pttl(f"{prefix}:complete:abc") <= 600_000  # the default ttl
    assert 590_000 < await raw.pttl(f"{prefix}:forever") <= 600_000  # None: the default
    assert 0 < await raw.pttl(f"{prefix}:short") <= 5_000
    assert sorted(await raw.keys(f"{prefix}:*")) == sorted(
        f"{prefix}:{key}".encode() for key in ("complete:abc", "forever", "short")
    )


async def test_without_a_default_ttl_entries_never_expire(
    redis_server: RedisServer, prefix: str, raw: redis.asyncio.Redis
) -> None:
    async with RedisCache(redis_server.url, prefix=prefix) as cache:
        await cache.set("k", b"v", ttl=5)
        await cache.set("k", b"v2")
    assert await raw.pttl(f"{prefix}:k") == -1  # a rewrite without ttl clears the old one


async def test_prefixes_keep_caches_and_sessions_apart(
    redis_server: RedisServer, prefix: str
) -> None:
    async with (
        RedisCache(redis_server.url, prefix=f"{prefix}:one") as one,
        RedisCache(redis_server.url, prefix=f"{prefix}:two") as two,
        RedisSessionStore(redis_server.url, prefix=prefix) as store,
    ):
        await one.set("k", b"one")
        assert await two.get("k") is None
        await two.set("k", b"two")
        await two.delete("k")
        assert await one.get("k") == b"one"
        await store.save("k", [Message(role="user", content="hello")])
        assert await one.get("k") == b"one"


async def test_a_key_of_another_type_is_a_clear_error(
    redis_server: RedisServer, prefix: str, raw: redis.asyncio.Redis
) -> None:
    await raw.rpush(f"{prefix}:k", "not a cache entry")
    async with RedisCache(redis_server.url, prefix=prefix) as cache:
        with pytest.raises(SessionStoreError, match="another application uses this key"):
            await cache.get("k")


async def test_an_unreachable_server_is_a_typed_error_without_the_password() -> None:
    url = f"redis://:s3cret-pw@127.0.0.1:{free_port()}/0"
    async with RedisCache(url, timeout=1, retries=0) as cache:
        assert "s3cret" not in repr(cache) and "s3cret" not in cache.url
        calls: list[Callable[[], Awaitable[object]]] = [
            cache.check,
            lambda: cache.get("k"),
            lambda: cache.set("k", b"v"),
            lambda: cache.delete("k"),
        ]
        for call in calls:
            with pytest.raises(SessionStoreError) as caught:
                await call()
            message = str(caught.value)
            assert message.startswith("Redis cache redis://:***@127.0.0.1:")
            assert "check that the Redis server is running" in message
            assert "s3cret" not in message


async def test_a_wrong_password_says_so(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "auth", password="right-one")
    await asyncio.to_thread(server.start)
    try:
        wrong = server.url.replace("right-one", "wrong-one")
        async with RedisCache(wrong) as cache:
            with pytest.raises(SessionStoreError, match="credentials") as caught:
                await cache.get("k")
            assert "wrong-one" not in str(caught.value)
        async with RedisCache(server.url) as cache:
            await cache.set("k", b"v")
            assert await cache.get("k") == b"v"
    finally:
        await asyncio.to_thread(server.stop)


async def test_a_closed_cache_says_so(redis_server: RedisServer, prefix: str) -> None:
    cache = RedisCache(redis_server.url, prefix=prefix)
    await cache.set("k", b"v")
    await cache.aclose()
    await cache.aclose()
    with pytest.raises(SessionStoreError, match="closed"):
        await cache.get("k")


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"prefix": ""}, ValueError),
        ({"ttl": 0}, ValueError),
        ({"timeout": float("nan")}, ValueError),
        ({"retries": -1}, ValueError),
        ({"ttl": "60"}, TypeError),
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        RedisCache("redis://127.0.0.1:6379/0", **kwargs)  # type: ignore[arg-type]


def test_a_bad_url_is_refused_without_echoing_it() -> None:
    with pytest.raises(ValueError, match="scheme") as caught:
        RedisCache("http://:hunter2@example.test/0")
    assert "hunter2" not in str(caught.value)
    with pytest.raises(ValueError):
        RedisCache()
    with pytest.raises(ConfigurationError, match="database"):
        create_redis_cache(":hunter2@127.0.0.1:6379/zero")


def test_factory_reads_options_as_text(monkeypatch: pytest.MonkeyPatch) -> None:
    cache = create_redis_cache("127.0.0.1:6390/2", prefix="app", ttl="60", timeout="1.5")
    assert (cache.url, cache.prefix, cache.ttl) == ("redis://127.0.0.1:6390/2", "app", 60.0)
    assert create_redis_cache("127.0.0.1:6390/2", ttl="0").ttl is None
    monkeypatch.setenv("AETHER_REDIS_URL", "redis://127.0.0.1:6391/1")
    assert create_redis_cache().url == "redis://127.0.0.1:6391/1"
    for options in ({"ttl": "soon"}, {"timeout": "-1"}, {"retries": "x"}, {"timeout": "0"}):
        with pytest.raises(ConfigurationError, match="Redis cache"):
            create_redis_cache("127.0.0.1:6390/2", **options)


async def test_the_spec_finds_the_backend_through_its_entry_point(
    redis_server: RedisServer, prefix: str
) -> None:
    location = redis_server.url.removeprefix("redis://")
    cache = create_cache(f"redis://{location}?prefix={prefix}&ttl=60")
    assert isinstance(cache, RedisCache)
    assert (cache.prefix, cache.ttl) == (prefix, 60.0)
    await cache.set("k", b"v")
    assert await cache.get("k") == b"v"
    await cache.aclose()
    tls = create_cache("rediss://127.0.0.1:6380/0")
    assert isinstance(tls, RedisCache) and tls.url == "rediss://127.0.0.1:6380/0"


# --- through the response cache --------------------------------------------------------------


async def test_a_corrupt_or_truncated_entry_is_a_miss(
    redis_server: RedisServer, prefix: str, raw: redis.asyncio.Redis
) -> None:
    async with RedisCache(redis_server.url, prefix=prefix) as cache:
        layer = CachingProvider(FakeProvider(responses=["first", "second", "third"]), cache, "f")
        assert (await layer.complete(REQUEST)).text == "first"
        name = f"{prefix}:complete:" + cache_key("f", REQUEST)
        stored = await raw.get(name)
        assert stored is not None
        await raw.set(name, stored[: len(stored) // 2])
        assert (await layer.complete(REQUEST)).text == "second"
        await raw.set(name, b"\xff\xfe not json")
        assert (await layer.complete(REQUEST)).text == "third"
        assert (await layer.complete(REQUEST)).text == "third"  # the fresh answer was kept


async def _child(spec: str, answer: str) -> dict[str, object]:
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        str(CHILD),
        spec,
        answer,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(child.communicate(), 120)
    assert child.returncode == 0, err.decode()
    result: dict[str, object] = json.loads(out.decode().strip().splitlines()[-1])
    return result


async def test_a_second_process_is_served_from_the_first_ones_answers(
    redis_server: RedisServer, prefix: str, raw: redis.asyncio.Redis
) -> None:
    spec = f"{redis_server.url}?prefix={prefix}"
    first = await _child(spec, "Paris, from the first process")
    assert first["text"] == "Paris, from the first process" and first["calls"] == 2
    assert "".join(first["stream"]) == "Paris, from the first process"  # type: ignore[arg-type]
    second = await _child(spec, "an answer the second process must not need")
    assert second == {**first, "calls": 0}

    keys = await raw.keys(f"{prefix}:*")
    assert len(keys) == 2  # one complete, one stream
    for key in keys:  # damage every entry, as a writer cut off mid-value might
        value = await raw.get(key)
        assert value is not None
        await raw.set(key, value[:-3])
    third = await _child(spec, "asked again")
    assert third["calls"] == 2 and third["text"] == "asked again"
    fourth = await _child(spec, "not needed either")
    assert fourth == {**third, "calls": 0}
