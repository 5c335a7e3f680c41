"""``SQLiteSessionStore``: conversations in one SQLite file, safe across threads and processes.

Every blocking SQLite call runs on the store's own worker thread, one operation at a time,
each write a complete transaction. That is what makes cancellation safe: cancelling the
awaiting task either stops an operation that has not started (nothing is written) or lets a
started one finish in the worker (it commits or rolls back as a whole); no transaction is ever
left open for the next operation, whichever session that is for.
"""

from __future__ import annotations

import asyncio
import math
import os
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Any, Literal, TypeVar

from aether.errors import SessionStoreError
from aether.llm.contracts import Message
from aether.memory.turns import check_limit, split_turns, validate_turn
from aether_memory_sqlite import _ops
from aether_memory_sqlite._errors import translate
from aether_memory_sqlite._schema import connect

__all__ = ["SQLiteSessionStore", "Synchronous"]

T = TypeVar("T")

Synchronous = Literal["NORMAL", "FULL", "EXTRA"]
"""SQLite's ``synchronous`` setting: ``FULL`` survives power loss; ``NORMAL`` survives crashes."""


class SQLiteSessionStore:
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
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
            raise TypeError(f"timeout must be a number of seconds, got {timeout!r}.")
        if not math.isfinite(timeout) or timeout < 0:
            raise ValueError(f"timeout must be a finite number of seconds >= 0, got {timeout!r}.")
        if synchronous not in ("NORMAL", "FULL", "EXTRA"):
            raise ValueError(f"synchronous must be NORMAL, FULL or EXTRA, got {synchronous!r}.")
        self._path = os.fspath(path)
        self._timeout = float(timeout)
        self._synchronous = synchronous
        self._conn: sqlite3.Connection | None = None  # touched only on the worker thread
        self._executor: ThreadPoolExecutor | None = None
        self._guard = threading.Lock()
        self._pid = os.getpid()
        self._closed = False
        self._inherited: list[sqlite3.Connection] = []

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

    # --- lifecycle ---------------------------------------------------------------------

    async def aclose(self) -> None:
        """Finish pending operations and close the file; later calls raise."""
        executor = self._shutdown()
        if executor is not None:
            done = executor.submit(self._close_connection)
            executor.shutdown(wait=False)
            await asyncio.wrap_future(done)

    def close(self) -> None:
        """Blocking :meth:`aclose`, for synchronous code and ``atexit`` hooks."""
        executor = self._shutdown()
        if executor is not None:
            executor.submit(self._close_connection)
            executor.shutdown(wait=True)

    async def __aenter__(self) -> SQLiteSessionStore:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # --- the worker --------------------------------------------------------------------

    def _shutdown(self) -> ThreadPoolExecutor | None:
        with self._guard:
            if self._closed:
                return None
            self._closed = True
            executor, self._executor = self._executor, None
            return executor

    def _submit(self, doing: str, fn: Callable[..., T], *args: Any) -> Future[T]:
        with self._guard:
            if self._closed:
                raise SessionStoreError(
                    f"SQLite session store {self._path!r}: {doing} failed because the store was "
                    f"closed; create a new SQLiteSessionStore."
                )
            if os.getpid() != self._pid:
                # Forked: the parent's thread does not exist here and its connection must not
                # be used (nor closed, which could disturb the parent's locks); start afresh.
                if self._conn is not None:
                    self._inherited.append(self._conn)
                self._conn, self._executor, self._pid = None, None, os.getpid()
            if self._executor is None:
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="aether-sqlite")
            return self._executor.submit(self._call, doing, fn, *args)

    async def _run(self, doing: str, fn: Callable[..., T], *args: Any) -> T:
        # Cancelling the awaiting task cancels the job only if it has not started; a started
        # job runs to its commit or rollback in the worker.
        return await asyncio.wrap_future(self._submit(doing, fn, *args))

    def _call(self, doing: str, fn: Callable[..., T], *args: Any) -> T:
        try:
            if self._conn is None:
                self._conn = connect(
                    self._path, timeout=self._timeout, synchronous=self._synchronous
                )
            return fn(self._conn, *args)
        except sqlite3.Error as exc:
            self._reset_if_dirty()
            raise translate(exc, self._path, doing) from exc
        except BaseException:
            self._reset_if_dirty()
            raise

    def _reset_if_dirty(self) -> None:
        conn = self._conn
        if conn is None or not conn.in_transaction:
            return
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            # A connection that cannot roll back is not trusted with another write.
            self._conn = None
            conn.close()

    def _close_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()


def _dump(messages: Sequence[Message]) -> list[str]:
    rows = []
    for index, message in enumerate(messages):
        if not isinstance(message, Message):
            raise ValueError(
                f"Message {index} is a {type(message).__name__}, not an aether Message."
            )
        rows.append(message.model_dump_json())
    return rows
