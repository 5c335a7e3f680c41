"""The concurrency guarantee, as a check any store's tests can run."""

from __future__ import annotations

import asyncio

from aether import Aether
from aether.extensions.llm.fake import FakeProvider
from aether.llm.contracts import Message
from aether.memory import Session, SessionStore


async def check_concurrent_asks(
    store: SessionStore, *, tasks: int = 50, asks: int = 20, history_limit: int | None = 20
) -> None:
    """``tasks`` tasks times ``asks`` asks on one session: history complete, ordered, never mixed.

    ``history_limit`` keeps the run linear (each call sends the newest turns only); the
    stored history is still checked whole.
    """
    fake = FakeProvider()  # echoes the last user message
    client = Aether(fake, memory_store=store)
    session = Session(
        client=client, session_id="shared", store=store, system="sys", history_limit=history_limit
    )

    async def worker(task: int) -> None:
        for n in range(asks):
            assert await session.ask(f"{task}:{n}") == f"You said: {task}:{n}"

    await asyncio.gather(*(worker(task) for task in range(tasks)))

    history = await session.history()
    assert len(history) == 2 * tasks * asks
    questions = [m.content for m in history[0::2]]
    assert all(m.role == "user" for m in history[0::2])
    assert [m.content for m in history[1::2]] == [f"You said: {q}" for q in questions]
    assert sorted(questions) == sorted(f"{t}:{n}" for t in range(tasks) for n in range(asks))
    for task in range(tasks):
        mine = [q for q in questions if q.startswith(f"{task}:")]
        assert mine == [f"{task}:{n}" for n in range(asks)]
    # Serialised: call k saw exactly the (newest) turns before it, then its own question.
    system = Message(role="system", content="sys")
    for k, request in enumerate(fake.calls):
        first = 0 if history_limit is None else max(0, 2 * k - history_limit)
        assert request.messages == [system, *history[first : 2 * k], history[2 * k]]
