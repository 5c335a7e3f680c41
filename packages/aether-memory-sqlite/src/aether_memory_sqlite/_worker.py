"""One SQLite connection on one thread of its own: how the store and the cache run their calls.

Every blocking SQLite call runs on the worker's thread, one at a time, each write a complete
transaction. That is what makes cancellation safe: cancelling the awaiting task either stops
a call that has not started (nothing is written) or lets a started one finish in the worker
(it commits or rolls back as a whole); no transaction is ever left open for the next call.
The connection is opened on the first call, so building the owner never blocks an event loop.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Any, TypeVar

from aether.errors import SessionStoreError
from aether_memory_sqlite._file import Translate

__all__ = ["Worker", "WorkerOwner"]

T = TypeVar("T")
_Owner = TypeVar("_Owner", bound="WorkerOwner")


class Worker:
    """Runs ``fn(conn, *args)`` calls on one connection to ``path``, on one thread.

    Args:
        path: The file, for messages.
        label: What the file holds, starting each message (``"SQLite cache"``).
        connect: Opens the connection; called on the worker's thread by the first call.
        translate: Turns SQLite's errors into the owner's :class:`SessionStoreError`.
        closed: Why a call after closing fails and what to do, completing "failed because"
            (``"the cache was closed; create a new SQLiteCache"``).
        thread_name: The worker thread's name prefix, to tell it apart in a thread dump.
    """

    def __init__(
        self,
        path: str,
        *,
        label: str,
        connect: Callable[[], sqlite3.Connection],
        translate: Translate,
        closed: str,
        thread_name: str,
    ) -> None:
        self._path = path
        self._label = label
        self._connect = connect
        self._translate = translate
        self._closed_reason = closed
        self._thread_name = thread_name
        self._conn: sqlite3.Connection | None = None  # touched only on the worker thread
        self._executor: ThreadPoolExecutor | None = None
        self._guard = threading.Lock()
        self._pid = os.getpid()
        self._closed = False
        self._inherited: list[sqlite3.Connection] = []

    async def run(self, doing: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(conn, *args, **kwargs)`` on the worker; ``doing`` names it in errors."""
        # Cancelling the awaiting task cancels the job only if it has not started; a started
        # job runs to its commit or rollback in the worker.
        return await asyncio.wrap_future(self._submit(doing, fn, *args, **kwargs))

    async def aclose(self) -> None:
        """Finish pending calls, then close the connection; later calls raise."""
        executor = self._shutdown()
        if executor is not None:
            done = executor.submit(self._close_connection)
            executor.shutdown(wait=False)
            await asyncio.wrap_future(done)

    def close(self) -> None:
        """Blocking :meth:`aclose`."""
        executor = self._shutdown()
        if executor is not None:
            executor.submit(self._close_connection)
            executor.shutdown(wait=True)

    def _shutdown(self) -> ThreadPoolExecutor | None:
        with self._guard:
            if self._closed:
                return None
            self._closed = True
            executor, self._executor = self._executor, None
            return executor

    def _submit(self, doing: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
        with self._guard:
            if self._closed:
                raise SessionStoreError(
                    f"{self._label} {self._path!r}: {doing} failed because {self._closed_reason}."
                )
            if os.getpid() != self._pid:
                # Forked: the parent's thread does not exist here and its connection must not
                # be used (nor closed, which could disturb the parent's locks); start afresh.
                if self._conn is not None:
                    self._inherited.append(self._conn)
                self._conn, self._executor, self._pid = None, None, os.getpid()
            if self._executor is None:
                self._executor = ThreadPoolExecutor(1, thread_name_prefix=self._thread_name)
            return self._executor.submit(self._call, doing, fn, *args, **kwargs)

    def _call(self, doing: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            if self._conn is None:
                self._conn = self._connect()
            return fn(self._conn, *args, **kwargs)
        except sqlite3.Error as exc:
            self._reset_if_dirty()
            raise self._translate(exc, self._path, doing) from exc
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


class WorkerOwner:
    """The lifecycle of an object whose SQLite calls run on its :class:`Worker`.

    Subclasses set ``self._worker`` in ``__init__``.
    """

    _worker: Worker

    async def aclose(self) -> None:
        """Finish pending operations and close the file; later calls raise."""
        await self._worker.aclose()

    def close(self) -> None:
        """Blocking :meth:`aclose`, for synchronous code and ``atexit`` hooks."""
        self._worker.close()

    async def __aenter__(self: _Owner) -> _Owner:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _run(self, doing: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await self._worker.run(doing, fn, *args, **kwargs)
