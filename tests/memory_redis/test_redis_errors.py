"""Failures become SessionStoreError saying what to check, and the password never shows."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio

from aether.errors import SessionStoreError
from aether.llm.contracts import Message
from aether_memory_redis import RedisSessionStore, session_keys
from aether_memory_redis.testing import RedisServer, free_port
from tests.memory_redis._child import turn_messages

SECRET = "s3cr3t-p@ss/word"
ENCODED = "s3cr3t-p%40ss%2Fword"


def _chain(exc: BaseException) -> str:
    texts = []
    current: BaseException | None = exc
    while current is not None:
        texts.append(f"{current!s} {current!r}")
        current = current.__cause__ or current.__context__
    return " ".join(texts)


async def test_server_down_is_a_typed_error_without_the_password() -> None:
    store = RedisSessionStore(f"redis://app:{ENCODED}@127.0.0.1:{free_port()}/3", retries=0)
    assert SECRET not in repr(store) and ENCODED not in repr(store)
    assert repr(store).startswith("RedisSessionStore('redis://app:***@127.0.0.1:")
    for call in (
        store.check(),
        store.load("s"),
        store.load("s", limit=5),
        store.save("s", turn_messages("t")),
        store.append_turn("s", "t", turn_messages("t")),
        store.exists("s"),
        store.delete("s"),
    ):
        with pytest.raises(SessionStoreError) as caught:
            await call
        text = _chain(caught.value)
        assert "check that the Redis server is running" in str(caught.value)
        assert "redis://app:***@127.0.0.1:" in str(caught.value)
        assert SECRET not in text and ENCODED not in text
    await store.aclose()


@pytest.fixture
async def silent_server() -> AsyncIterator[int]:
    """A TCP server on 127.0.0.1 that accepts connections and never answers."""
    held: list[asyncio.StreamWriter] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    for writer in held:
        writer.close()
    server.close()
    await server.wait_closed()


async def test_a_server_that_never_answers_times_out(silent_server: int) -> None:
    store = RedisSessionStore(f"redis://127.0.0.1:{silent_server}/0", timeout=0.2, retries=0)
    with pytest.raises(SessionStoreError, match=r"did not answer after 0\.2 s.*raise timeout="):
        await store.append_turn("s", "t", turn_messages("t"))
    await store.aclose()


async def test_wrong_password_names_the_credentials_not_the_password(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "auth", password="right-one")
    server.start()
    try:
        wrong = RedisSessionStore(f"redis://:{ENCODED}@127.0.0.1:{server.port}/0", retries=0)
        with pytest.raises(SessionStoreError, match="check the user name and password") as caught:
            await wrong.load("s")
        assert SECRET not in _chain(caught.value) and ENCODED not in _chain(caught.value)
        await wrong.aclose()
        async with RedisSessionStore(server.url) as right:
            await right.append_turn("s", "t", turn_messages("t"))
            assert await right.load("s") == turn_messages("t")
            assert "right-one" not in repr(right)
    finally:
        server.stop()


async def test_keys_of_another_type_are_refused_untouched(
    redis_server: RedisServer, prefix: str
) -> None:
    messages_key, turns_key, ids_key = session_keys(prefix, "s")
    raw = redis.asyncio.Redis.from_url(redis_server.url)
    try:
        await raw.set(turns_key, "someone else's")
        async with RedisSessionStore(redis_server.url, prefix=prefix) as store:
            for call in (
                store.append_turn("s", "t", turn_messages("t")),
                store.save("s", turn_messages("t")),
            ):
                with pytest.raises(SessionStoreError, match="its own prefix="):
                    await call
            assert await raw.exists(messages_key, ids_key) == 0
            assert await raw.get(turns_key) == b"someone else's"
    finally:
        await raw.aclose()


async def test_a_corrupted_message_is_reported_not_dropped(
    redis_server: RedisServer, prefix: str
) -> None:
    messages_key, turns_key, _ = session_keys(prefix, "s")
    async with RedisSessionStore(redis_server.url, prefix=prefix) as store:
        await store.append_turn("s", "t", turn_messages("t", 2))
        raw = redis.asyncio.Redis.from_url(redis_server.url)
        try:
            await raw.rpush(messages_key, b'{"role": "alien"}')
            await raw.rpush(turns_key, 1)
        finally:
            await raw.aclose()
        for limit in (None, 10):
            with pytest.raises(SessionStoreError, match="not a valid Message"):
                await store.load("s", limit=limit)


async def test_a_closed_store_says_so(redis_server: RedisServer, prefix: str) -> None:
    store = RedisSessionStore(redis_server.url, prefix=prefix)
    await store.aclose()
    await store.aclose()  # twice is fine
    with pytest.raises(SessionStoreError, match="closed"):
        await store.load("s")


@pytest.mark.parametrize(
    "url",
    [
        f"http://:{ENCODED}@127.0.0.1:6379/0",
        f"redis://:{ENCODED}@127.0.0.1:port/0",
        f"redis://:{ENCODED}@127.0.0.1:6379/zero",
        f"redis://:{ENCODED}@[::1:6379/0",
    ],
)
def test_bad_urls_are_rejected_without_the_password(url: str) -> None:
    with pytest.raises(ValueError) as caught:
        RedisSessionStore(url)
    assert SECRET not in _chain(caught.value) and ENCODED not in _chain(caught.value)
    assert "redis://" in str(caught.value)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({}, ValueError),
        ({"url": "redis://x", "client": object()}, ValueError),
        ({"url": "redis://x", "prefix": ""}, ValueError),
        ({"url": "redis://x", "prefix": "a{b"}, ValueError),
        ({"url": "redis://x", "ttl": 0}, ValueError),
        ({"url": "redis://x", "ttl": float("inf")}, ValueError),
        ({"url": "redis://x", "ttl": "60"}, TypeError),
        ({"url": "redis://x", "timeout": -1}, ValueError),
        ({"url": "redis://x", "retries": -1}, ValueError),
        ({"url": 42}, TypeError),
    ],
)
def test_bad_arguments_are_rejected(kwargs: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        RedisSessionStore(**kwargs)  # type: ignore[arg-type]


async def test_a_cancelled_load_does_not_disturb_the_next_write(
    redis_server: RedisServer, prefix: str
) -> None:
    async with RedisSessionStore(redis_server.url, prefix=prefix) as store:
        await store.append_turn("s", "t0", turn_messages("s", 2))
        for index in range(50):
            load = asyncio.create_task(store.load("s", limit=10))
            await asyncio.sleep(0)
            load.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await load
            assert await store.append_turn("s", f"t{index + 1}", turn_messages("s", 2)) is True
        assert await store.load("s") == [m for _ in range(51) for m in turn_messages("s", 2)]
        assert isinstance((await store.load("s", limit=2))[0], Message)


async def test_a_user_without_script_rights_is_told_what_to_grant(
    redis_server: RedisServer, prefix: str
) -> None:
    user = f"reader-{prefix.rsplit(':', 1)[1]}"
    raw = redis.asyncio.Redis.from_url(redis_server.url)
    try:
        await raw.acl_setuser(
            user, enabled=True, passwords=["+pw"], keys=["*"], commands=["+@all", "-evalsha"]
        )
        url = redis_server.url.replace("redis://", f"redis://{user}:pw@")
        async with RedisSessionStore(url, prefix=prefix, retries=0) as store:
            assert await store.load("s") == []  # LRANGE is allowed
            with pytest.raises(SessionStoreError, match="lacks a permission"):
                await store.append_turn("s", "t", turn_messages("t"))
            assert await store.exists("s") is False
    finally:
        await raw.acl_deluser(user)
        await raw.aclose()
