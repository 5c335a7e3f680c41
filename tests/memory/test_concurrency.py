"""Concurrent ``session.ask()`` on one session is serialised, whatever the store."""

from __future__ import annotations

from aether.extensions.memory import InMemorySessionStore
from tests.memory._concurrency import check_concurrent_asks
from tests.memory.test_session import DictStore


async def test_fifty_tasks_times_twenty_asks_in_memory() -> None:
    await check_concurrent_asks(InMemorySessionStore())


async def test_fifty_tasks_times_twenty_asks_on_a_four_method_store() -> None:
    await check_concurrent_asks(DictStore())


async def test_unbounded_history_is_sent_whole_and_in_order() -> None:
    await check_concurrent_asks(InMemorySessionStore(), tasks=10, asks=10, history_limit=None)
