"""Cancelling appends at random points leaves each whole or absent, never in another session."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from pathlib import Path

from aether.llm.contracts import Message
from aether_memory_sqlite import SQLiteSessionStore

VICTIMS = 1000


def _turn(tag: str, size: int) -> list[Message]:
    return [Message(role="user", content=f"{tag} q")] + [
        Message(role="assistant", content=f"{tag} a{i}") for i in range(size - 1)
    ]


async def test_cancelled_appends_leave_nothing_behind_elsewhere(tmp_path: Path) -> None:
    path = tmp_path / "cancel.db"
    rng = random.Random(7)
    store = SQLiteSessionStore(path, synchronous="NORMAL")
    bystander_done: list[int] = []

    async def bystander() -> None:
        for n in range(200):
            await store.append_turn("bystander", f"b{n}", _turn(f"bystander-{n}", 2))
            bystander_done.append(n)

    async def victim(index: int) -> None:
        await store.append_turn(f"victim-{index}", f"v{index}", _turn(f"victim-{index}", 3))

    background = asyncio.create_task(bystander())
    tasks = []
    for index in range(VICTIMS):
        task = asyncio.create_task(victim(index))
        tasks.append(task)
        for _ in range(rng.randint(0, 3)):
            await asyncio.sleep(0)
        if rng.random() < 0.3:
            await asyncio.sleep(rng.uniform(0, 0.0005))
        task.cancel()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    await background
    cancelled = sum(isinstance(o, asyncio.CancelledError) for o in outcomes)
    assert cancelled > 0
    assert all(o is None or isinstance(o, asyncio.CancelledError) for o in outcomes)

    # Each victim's turn is whole or absent, and only ever in its own session.
    stored = 0
    for index in range(VICTIMS):
        loaded = await store.load(f"victim-{index}")
        assert loaded in ([], _turn(f"victim-{index}", 3))
        stored += bool(loaded)
    assert stored >= VICTIMS - cancelled  # every append that returned is there
    assert await store.load("bystander") == [
        m for n in range(200) for m in _turn(f"bystander-{n}", 2)
    ]
    await store.aclose()

    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT session_id, message FROM aether_messages").fetchall()
        for session_id, message in rows:
            mark = '"bystander-' if session_id == "bystander" else f'"{session_id} '
            assert mark in message, (session_id, message)
        (turn_rows,) = conn.execute(
            "SELECT count(*) FROM aether_turns WHERE session_id LIKE 'victim-%'"
        ).fetchone()
        assert turn_rows == stored
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        conn.close()

    # The file keeps working afterwards.
    async with SQLiteSessionStore(path) as reopened:
        assert await reopened.append_turn("after", "t", _turn("after", 2)) is True
        assert await reopened.load("after") == _turn("after", 2)


async def test_a_cancelled_load_does_not_disturb_the_next_write(tmp_path: Path) -> None:
    async with SQLiteSessionStore(tmp_path / "c.db") as store:
        await store.append_turn("s", "t0", _turn("s", 2))
        for index in range(50):
            load = asyncio.create_task(store.load("s", limit=10))
            await asyncio.sleep(0)
            load.cancel()
            assert await store.append_turn("s", f"t{index + 1}", _turn("s", 2)) is True
        assert len(await store.load("s")) == 2 * 51
