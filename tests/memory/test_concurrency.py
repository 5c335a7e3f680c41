"""The kit's concurrency check also holds with the whole history sent on every call."""

from __future__ import annotations

from aether.extensions.memory import InMemorySessionStore
from aether.testing import check_concurrent_asks
from tests.memory._four_method_store import FourMethodStore


async def test_unbounded_history_is_sent_whole_and_in_order() -> None:
    await check_concurrent_asks(InMemorySessionStore(), tasks=10, asks=10, history_limit=None)


async def test_unbounded_history_on_a_four_method_store() -> None:
    await check_concurrent_asks(FourMethodStore(), tasks=10, asks=10, history_limit=None)
