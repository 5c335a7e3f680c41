"""Killing the server mid-run: typed errors, then, after a restart, every acknowledged turn."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import pytest

from aether.errors import SessionStoreError
from aether_memory_redis import RedisSessionStore
from aether_memory_redis.testing import RedisServer
from tests.memory_redis._child import split_tagged, turn_messages

WRITERS = 8


async def test_killed_server_gives_typed_errors_and_keeps_acknowledged_turns(
    tmp_path: Path,
) -> None:
    server = RedisServer(tmp_path / "redis", persistent=True)
    server.start()
    try:
        store = RedisSessionStore(server.url, prefix="outage", timeout=2, retries=0)
        acked: list[str] = []
        enough = asyncio.Event()
        failures: list[SessionStoreError] = []

        async def writer(index: int) -> None:
            for n in itertools.count():
                turn_id = f"{index}-{n}"
                try:
                    await store.append_turn("s", turn_id, turn_messages(turn_id))
                except SessionStoreError as exc:
                    failures.append(exc)
                    return
                acked.append(turn_id)
                if len(acked) >= 300:
                    enough.set()

        tasks = [asyncio.create_task(writer(index)) for index in range(WRITERS)]
        await asyncio.wait_for(enough.wait(), timeout=30)
        # Off the event loop (kill waits for the process), so writers keep going meanwhile:
        # some appends sent, some waiting for the reply when the server dies.
        await asyncio.to_thread(server.kill)
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=30)

        assert len(failures) == WRITERS
        for failure in failures:
            assert "Redis session store redis://127.0.0.1:" in str(failure)
            assert "check that the Redis server is running" in str(failure)
        for call in (store.load("s"), store.exists("s"), store.delete("s")):
            with pytest.raises(SessionStoreError, match="server is running"):
                await call

        await asyncio.to_thread(server.start)  # same port and files: the AOF is replayed
        turns = split_tagged(await store.load("s"))  # the same store reconnects by itself
        stored = [turn_id for turn_id, _ in turns]
        assert set(acked) <= set(stored)
        assert len(stored) == len(set(stored))
        for turn_id, messages in turns:  # whole turns only, nothing half-stored
            assert messages == turn_messages(turn_id)
        for index in range(WRITERS):
            mine = [t for t in stored if t.startswith(f"{index}-")]
            assert mine == [f"{index}-{n}" for n in range(len(mine))]
        # Each writer's failed append may or may not have landed; retrying it is exactly-once.
        failed = [f"{i}-{sum(t.startswith(f'{i}-') for t in acked)}" for i in range(WRITERS)]
        for turn_id in failed:
            added = await store.append_turn("s", turn_id, turn_messages(turn_id))
            assert added is (turn_id not in stored)
        assert [t for t, _ in split_tagged(await store.load("s"))] == stored + [
            t for t in failed if t not in stored
        ]
        await store.aclose()
    finally:
        server.stop()
