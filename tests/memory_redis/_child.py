"""Turns that name themselves, and a writer process for the multi-process test.

``python _child.py URL PREFIX NAME COUNT`` connects, prints ``ready``, waits for a line on
stdin (so several writers start together), then appends COUNT turns to session ``shared``
and to session NAME, printing ``ack TURN_ID`` after each shared append returns.
"""

from __future__ import annotations

import asyncio
import sys
import zlib

from aether.llm.contracts import Message, ToolCall


def turn_size(turn_id: str) -> int:
    """1 to 4 messages, fixed per turn id, so a reader can rebuild the expected turn."""
    return 1 + zlib.crc32(turn_id.encode()) % 4


def turn_messages(turn_id: str, size: int | None = None, *, pad: int = 2_000) -> list[Message]:
    """A turn whose every message names its turn, so partial or mixed turns are detectable."""
    size = turn_size(turn_id) if size is None else size
    messages = [Message(role="user", content=f"{turn_id} q")]
    if size >= 3:
        messages.append(
            Message(
                role="assistant",
                tool_calls=[ToolCall(id=f"{turn_id}-c", name="t", arguments={"x": turn_id})],
            )
        )
        messages.append(Message(role="tool", content=f"{turn_id} r", tool_call_id=f"{turn_id}-c"))
    while len(messages) < size:
        messages.append(Message(role="assistant", content=f"{turn_id} a" + "x" * pad))
    return messages


def split_tagged(messages: list[Message]) -> list[tuple[str, list[Message]]]:
    """Cut a history of :func:`turn_messages` turns back into (turn id, messages) pairs."""
    turns: list[tuple[str, list[Message]]] = []
    for message in messages:
        if message.role == "user":
            turns.append((message.content.removesuffix(" q"), [message]))
        else:
            turns[-1][1].append(message)
    return turns


async def _write(url: str, prefix: str, name: str, count: int) -> None:
    from aether_memory_redis import RedisSessionStore

    async with RedisSessionStore(url, prefix=prefix) as store:
        await store.check()
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        for n in range(count):
            turn_id = f"{name}-{n}"
            await store.append_turn("shared", turn_id, turn_messages(turn_id))
            print(f"ack {turn_id}", flush=True)
            await store.append_turn(name, turn_id, turn_messages(turn_id))


if __name__ == "__main__":
    asyncio.run(_write(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
