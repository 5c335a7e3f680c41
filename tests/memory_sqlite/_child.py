"""Child processes for the crash and multi-process tests (run as a script, not collected).

``_child.py zygote DB``: imports everything once, then forks one appender per ``fork`` line
on stdin, printing ``child PID`` and, once that child has died, ``dead PID``. Each appender
appends turns to DB forever and prints ``ack TURN_ID`` after each append returns. Forking
from this single-threaded process makes 200 crash rounds cheap.

``_child.py writer DB NAME COUNT``: appends COUNT turns to session ``shared`` and to session
NAME, then exits.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import sys

from aether.llm.contracts import Message, ToolCall
from aether_memory_sqlite import SQLiteSessionStore


def turn_messages(turn_id: str, size: int) -> list[Message]:
    """A turn whose every message names its turn, so partial turns are detectable."""
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
        messages.append(Message(role="assistant", content=f"{turn_id} a" + "x" * 20_000))
    return messages


async def _append_forever(path: str) -> None:
    store = SQLiteSessionStore(path)
    rng = random.Random(os.getpid())
    for n in itertools.count():
        turn_id = f"{os.getpid()}-{n}"
        session = rng.choice(["crash-a", "crash-b"])
        await store.append_turn(session, turn_id, turn_messages(turn_id, rng.randint(1, 6)))
        os.write(1, f"ack {session} {turn_id}\n".encode())


def zygote(path: str) -> None:
    for line in sys.stdin:
        if line.strip() != "fork":
            break
        pid = os.fork()
        if pid == 0:
            try:
                asyncio.run(_append_forever(path))
            finally:
                os._exit(1)
        os.write(1, f"child {pid}\n".encode())
        os.waitpid(pid, 0)
        os.write(1, f"dead {pid}\n".encode())


async def _write(path: str, name: str, count: int) -> None:
    async with SQLiteSessionStore(path, timeout=30) as store:
        for n in range(count):
            turn_id = f"{name}-{n}"
            await store.append_turn("shared", turn_id, turn_messages(turn_id, 2))
            await store.append_turn(name, turn_id, turn_messages(turn_id, 3))


if __name__ == "__main__":
    if sys.argv[1] == "zygote":
        zygote(sys.argv[2])
    else:
        asyncio.run(_write(sys.argv[2], sys.argv[3], int(sys.argv[4])))
