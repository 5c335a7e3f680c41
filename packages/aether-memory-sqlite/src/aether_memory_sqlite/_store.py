"""``SQLiteSessionStore``: conversations in one SQLite file, safe across threads and processes.

Every blocking SQLite call runs on the store's own worker thread (see ``_worker``), one
operation at a time, each write a complete transaction, so cancelling a call never leaves a
transaction open for the next operation, whichever session that is for.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import partial

from aether.llm.contracts import Message
from aether.memory.turns import check_limit, split_turns, validate_turn
from aether_memory_sqlite import _ops
from aether_memory_sqlite._errors import translate
from aether_memory_sqlite._options import Synchronous, check_seconds, check_synchronous
from aether_memory_sqlite._schema import connect
from aether_memory_sqlite._worker import Worker, WorkerOwner

__all__ = ["SQLiteSessionStore", "Synchronous"]


class SQLiteSessionStore(WorkerOwner):
    """A durable :class:`~aether.memory.AppendableSessionStore` backed by one SQLite file.

    It is a :class:`~aether.memory.ListableSessionStore` too (``aether logs`` lists it).

    The file is opened on first use (so building the store never blocks an event loop) in WAL
    mode, with ``BEGIN IMMEDIATE`` writes and a busy timeout, so several processes can share
    it. Close it with ``await store.aclose()`` (or ``async with``); an unclosed store is closed
    when the interpreter exits, after its pending writes.

    Args:
        path: The database file (created if missing), or ``":memory:"`` for a private one.
        timeout: Seconds to wait for another connection's write lock before failing.
        synchronous: ``FULL`` (default) makes a returned append survive power loss;
            ``NORMAL`` only process crashes, for faster appends.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        timeout: float = 10.0,
        synchronous: Synchronous = "FULL",
    ) -> None:
        timeout = check_seconds("timeout", timeout)
        check_synchronous(synchronous)
        self._path = os.fspath(path)
        self._worker = Worker(
            self._path,
            label="SQLite session store",
            connect=partial(connect, self._path, timeout=timeout, synchronous=synchronous),
            translate=translate,
            closed="the store was closed; create a new SQLiteSessionStore",
            thread_name="aether-sqlite",
        )

    def __repr__(self) -> str:
        return f"SQLiteSessionStore({self._path!r})"

    @property
    def path(self) -> str:
        """The database file."""
        return self._path

    # --- SessionStore ------------------------------------------------------------------

    async def load(self, session_id: str, *, limit: int | None = None) -> list[Message]:
        """The session's messages, oldest first; with ``limit``, the newest whole turns only."""
        check_limit(limit)
        return await self._run(
            f"loading session {session_id!r}", _ops.load, session_id, limit, self._path
        )

    async def save(self, session_id: str, messages: list[Message]) -> None:
        """Replace the session's history in one transaction (``[]`` removes the session)."""
        turns = [_dump(turn) for turn in split_turns(messages)]
        await self._run(f"saving session {session_id!r}", _ops.save, session_id, turns)

    async def append_turn(self, session_id: str, turn_id: str, messages: Sequence[Message]) -> bool:
        """Append one turn atomically; False (nothing added) if ``turn_id`` is already stored."""
        validate_turn(messages)
        if not isinstance(turn_id, str) or not turn_id:
            raise ValueError(f"turn_id must be a non-empty string, got {turn_id!r}.")
        rows = _dump(messages)
        return await self._run(
            f"appending to session {session_id!r}", _ops.append_turn, session_id, turn_id, rows
        )

    async def delete(self, session_id: str) -> None:
        """Forget the session and its turn ids."""
        await self._run(f"deleting session {session_id!r}", _ops.delete, session_id)

    async def exists(self, session_id: str) -> bool:
        """Whether the session holds at least one message."""
        return await self._run(f"checking session {session_id!r}", _ops.exists, session_id)

    async def list_sessions(self, *, limit: int | None = None) -> list[str]:
        """Ids of the sessions holding messages, most recently written first."""
        check_limit(limit)
        return await self._run("listing sessions", _ops.list_sessions, limit)


def _dump(messages: Sequence[Message]) -> list[str]:
    rows = []
    for index, message in enumerate(messages):
        if not isinstance(message, Message):
            raise ValueError(
                f"Message {index} is a {type(message).__name__}, not an aether Message."
            )
        rows.append(message.model_dump_json())
    return rows
