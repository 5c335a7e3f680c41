"""Each store-suite check fails on a store broken in its way (so none is vacuous).

The broken stores wrap the in-memory store and break one rule each; the suite's async tests
are driven directly on a fresh event loop, the way pytest would call them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import pytest

from aether.extensions.memory import InMemorySessionStore
from aether.llm.contracts import Message
from aether.memory import AppendableSessionStore
from aether.testing import ListableSessionStoreConformance

Check = Callable[
    [ListableSessionStoreConformance, AppendableSessionStore], Coroutine[Any, Any, None]
]
SUITE = ListableSessionStoreConformance()


class Wrapper:
    """Delegates to the in-memory store; subclasses break one rule."""

    def __init__(self) -> None:
        self.inner = InMemorySessionStore()

    async def load(self, session_id: str, *, limit: int | None = None) -> list[Message]:
        return await self.inner.load(session_id, limit=limit)

    async def save(self, session_id: str, messages: list[Message]) -> None:
        await self.inner.save(session_id, messages)

    async def append_turn(self, session_id: str, turn_id: str, messages: Sequence[Message]) -> bool:
        return await self.inner.append_turn(session_id, turn_id, messages)

    async def delete(self, session_id: str) -> None:
        await self.inner.delete(session_id)

    async def exists(self, session_id: str) -> bool:
        return await self.inner.exists(session_id)

    async def list_sessions(self, *, limit: int | None = None) -> list[str]:
        return await self.inner.list_sessions(limit=limit)


class LosesATurn(Wrapper):
    """Acknowledges every turn but keeps only the first one of a session."""

    async def append_turn(self, session_id: str, turn_id: str, messages: Sequence[Message]) -> bool:
        if await self.inner.exists(session_id):
            return True
        return await self.inner.append_turn(session_id, turn_id, messages)


class NotIdempotent(Wrapper):
    """Stores a retried turn again: every call gets a fresh turn id."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    async def append_turn(self, session_id: str, turn_id: str, messages: Sequence[Message]) -> bool:
        self.calls += 1
        return await self.inner.append_turn(session_id, f"{turn_id}#{self.calls}", messages)


class NewestFirst(Wrapper):
    """Returns the history newest message first."""

    async def load(self, session_id: str, *, limit: int | None = None) -> list[Message]:
        return list(reversed(await self.inner.load(session_id, limit=limit)))


class ListsOldestFirst(Wrapper):
    """Lists its sessions in the order they were first written."""

    async def list_sessions(self, *, limit: int | None = None) -> list[str]:
        oldest_first = list(reversed(await self.inner.list_sessions()))
        return oldest_first if limit is None else oldest_first[:limit]


class ListsWhatWasDeleted(Wrapper):
    """Keeps listing a session after it was deleted or emptied."""

    def __init__(self) -> None:
        super().__init__()
        self.written: list[str] = []

    async def save(self, session_id: str, messages: list[Message]) -> None:
        await self.inner.save(session_id, messages)
        self._wrote(session_id)

    async def append_turn(self, session_id: str, turn_id: str, messages: Sequence[Message]) -> bool:
        added = await self.inner.append_turn(session_id, turn_id, messages)
        if added:
            self._wrote(session_id)
        return added

    def _wrote(self, session_id: str) -> None:
        if session_id in self.written:
            self.written.remove(session_id)
        self.written.insert(0, session_id)

    async def list_sessions(self, *, limit: int | None = None) -> list[str]:
        return self.written if limit is None else self.written[:limit]


class SharesItsState(Wrapper):
    """Hands out the stored messages themselves, so a caller can change the history."""

    def __init__(self) -> None:
        super().__init__()
        self.kept: dict[str, list[Message]] = {}

    async def load(self, session_id: str, *, limit: int | None = None) -> list[Message]:
        if session_id not in self.kept:
            self.kept[session_id] = await self.inner.load(session_id, limit=limit)
        return list(self.kept[session_id])

    async def save(self, session_id: str, messages: list[Message]) -> None:
        self.kept.pop(session_id, None)
        await self.inner.save(session_id, messages)


def run(check: Check, store: AppendableSessionStore) -> None:
    asyncio.run(check(SUITE, store))


KIT = ListableSessionStoreConformance
CATCHES: list[tuple[type[Wrapper], Check]] = [
    (LosesATurn, KIT.test_appended_turns_load_in_order),
    (LosesATurn, KIT.test_concurrent_appends_to_one_session_all_land_whole),
    (NotIdempotent, KIT.test_a_retried_append_is_a_no_op),
    (NewestFirst, KIT.test_long_history_keeps_its_order),
    (NewestFirst, KIT.test_save_then_load_round_trips_exactly),
    (NewestFirst, KIT.test_appended_turns_load_in_order),
    (SharesItsState, KIT.test_loaded_messages_are_copies),
    (ListsOldestFirst, KIT.test_sessions_are_listed_most_recently_written_first),
    (ListsOldestFirst, KIT.test_limit_lists_the_most_recent),
    (ListsOldestFirst, KIT.test_sessions_a_client_writes_are_listed),
    (ListsWhatWasDeleted, KIT.test_empty_and_deleted_sessions_are_not_listed),
]


def _name(check: Check) -> str:
    return str(getattr(check, "__name__", check))


@pytest.mark.parametrize("check", list(dict.fromkeys(c for _, c in CATCHES)), ids=_name)
def test_the_unbroken_wrapper_passes(check: Check) -> None:
    run(check, Wrapper())


@pytest.mark.parametrize(
    ("broken", "check"), CATCHES, ids=[f"{b.__name__}-{_name(c)}" for b, c in CATCHES]
)
def test_a_broken_store_fails_its_check(broken: type[Wrapper], check: Check) -> None:
    with pytest.raises(AssertionError):
        run(check, broken())
