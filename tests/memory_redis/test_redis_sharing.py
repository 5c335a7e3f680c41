"""Many writers, one history: processes, stores and tasks sharing one Redis session."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from aether import Aether
from aether.extensions.llm.fake import FakeProvider
from aether_memory_redis import RedisSessionStore
from aether_memory_redis.testing import RedisServer
from tests.memory_redis._child import split_tagged, turn_messages

CHILD = Path(__file__).with_name("_child.py")


async def test_two_processes_share_one_history(redis_server: RedisServer, prefix: str) -> None:
    count = 60
    names = ("one", "two")
    children = [
        await asyncio.create_subprocess_exec(
            *(sys.executable, str(CHILD), redis_server.url, prefix, name, str(count)),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        for name in names
    ]
    try:
        for child in children:
            assert child.stdout is not None
            assert await asyncio.wait_for(child.stdout.readline(), 30) == b"ready\n"
        # Both wait for "go", so their appends overlap.
        outputs = await asyncio.wait_for(
            asyncio.gather(*(child.communicate(b"go\n") for child in children)), 60
        )
    finally:
        for child in children:
            if child.returncode is None:
                child.kill()
                await child.wait()
    assert [child.returncode for child in children] == [0, 0]
    for (out, _), name in zip(outputs, names, strict=True):
        assert out.split() == [w.encode() for n in range(count) for w in ("ack", f"{name}-{n}")]

    async with RedisSessionStore(redis_server.url, prefix=prefix) as store:
        shared = split_tagged(await store.load("shared"))
        for name in ("one", "two"):
            mine = [turn_id for turn_id, _ in shared if turn_id.startswith(f"{name}-")]
            assert mine == [f"{name}-{n}" for n in range(count)]
            own = await store.load(name)
            assert own == [m for n in range(count) for m in turn_messages(f"{name}-{n}")]
        assert len(shared) == 2 * count
        for turn_id, messages in shared:
            assert messages == turn_messages(turn_id)


async def test_fifty_tasks_times_twenty_appends_on_one_session(
    redis_server: RedisServer, prefix: str
) -> None:
    # Two stores (two connection pools, as two servers would have), no lock between tasks.
    async with (
        RedisSessionStore(redis_server.url, prefix=prefix) as first,
        RedisSessionStore(redis_server.url, prefix=prefix) as second,
    ):

        async def writer(task: int) -> None:
            store = first if task % 2 else second
            for n in range(20):
                turn_id = f"{task}-{n}"
                assert await store.append_turn("s", turn_id, turn_messages(turn_id, pad=10))

        await asyncio.gather(*(writer(task) for task in range(50)))
        turns = split_tagged(await first.load("s"))
        assert sorted(turn_id for turn_id, _ in turns) == sorted(
            f"{t}-{n}" for t in range(50) for n in range(20)
        )
        for turn_id, messages in turns:
            assert messages == turn_messages(turn_id, pad=10)
        for task in range(50):
            mine = [turn_id for turn_id, _ in turns if turn_id.split("-")[0] == str(task)]
            assert mine == [f"{task}-{n}" for n in range(20)]


async def test_two_clients_on_one_server_share_sessions(
    redis_server: RedisServer, prefix: str
) -> None:
    async with (
        RedisSessionStore(redis_server.url, prefix=prefix) as first,
        RedisSessionStore(redis_server.url, prefix=prefix) as second,
    ):
        a = Aether(FakeProvider(canned_response="a"), memory_store=first).session("alice")
        b = Aether(FakeProvider(canned_response="b"), memory_store=second).session("alice")
        await a.ask("one")
        await b.ask("two")
        await a.ask("three")
        assert [m.content for m in await b.history()] == ["one", "a", "two", "b", "three", "a"]


async def test_prefixes_keep_applications_apart(redis_server: RedisServer, prefix: str) -> None:
    async with (
        RedisSessionStore(redis_server.url, prefix=f"{prefix}:app1") as app1,
        RedisSessionStore(redis_server.url, prefix=f"{prefix}:app2") as app2,
    ):
        await app1.append_turn("alice", "t1", turn_messages("app1"))
        assert await app2.load("alice") == []
        assert await app2.append_turn("alice", "t1", turn_messages("app2")) is True
        await app2.delete("alice")
        assert await app1.load("alice") == turn_messages("app1")
