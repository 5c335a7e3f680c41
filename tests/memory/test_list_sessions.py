"""``list_sessions()``: the optional capability of stores that can name their sessions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from aether import Aether
from aether.extensions.llm.fake import FakeProvider
from aether.extensions.memory import InMemorySessionStore
from aether.llm.contracts import Message
from aether.memory import ListableSessionStore, SessionStore
from aether_memory_sqlite import SQLiteSessionStore
from tests.memory._four_method_store import FourMethodStore

TURN = [Message(role="user", content="hi"), Message(role="assistant", content="hello")]


@pytest.fixture(params=["memory", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SessionStore]:
    if request.param == "memory":
        yield InMemorySessionStore()
        return
    sqlite = SQLiteSessionStore(tmp_path / "sessions.db")
    yield sqlite
    await sqlite.aclose()


async def test_most_recently_written_first(store: ListableSessionStore) -> None:
    assert isinstance(store, ListableSessionStore)
    assert await store.list_sessions() == []
    for name in ("a", "b", "c"):
        await store.append_turn(name, f"turn-{name}", TURN)  # type: ignore[attr-defined]
    assert await store.list_sessions() == ["c", "b", "a"]
    await store.append_turn("a", "turn-a2", TURN)  # type: ignore[attr-defined]
    assert await store.list_sessions() == ["a", "c", "b"]
    assert not await store.append_turn("b", "turn-b", TURN)  # type: ignore[attr-defined]
    assert await store.list_sessions() == ["a", "c", "b"]  # a retried append writes nothing
    await store.save("b", TURN)
    assert await store.list_sessions() == ["b", "a", "c"]


async def test_empty_and_deleted_sessions_are_not_listed(store: ListableSessionStore) -> None:
    await store.save("kept", TURN)
    await store.save("emptied", TURN)
    await store.save("emptied", [])
    await store.save("gone", TURN)
    await store.delete("gone")
    assert await store.list_sessions() == ["kept"]


async def test_limit(store: ListableSessionStore) -> None:
    for name in ("a", "b", "c"):
        await store.save(name, TURN)
    assert await store.list_sessions(limit=2) == ["c", "b"]
    assert await store.list_sessions(limit=0) == []
    assert await store.list_sessions(limit=None) == ["c", "b", "a"]
    with pytest.raises(ValueError, match="limit must be None or an integer >= 0"):
        await store.list_sessions(limit=-1)


async def test_sessions_written_through_a_client_are_listed(store: ListableSessionStore) -> None:
    client = Aether(FakeProvider(), memory_store=store)
    await client.session("alice").ask("hi")
    await client.session("bob").ask("hi")
    assert await store.list_sessions() == ["bob", "alice"]


def test_a_store_with_the_four_methods_alone_is_not_listable() -> None:
    assert isinstance(FourMethodStore(), SessionStore)
    assert not isinstance(FourMethodStore(), ListableSessionStore)
