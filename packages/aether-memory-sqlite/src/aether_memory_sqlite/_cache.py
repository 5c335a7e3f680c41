"""``SQLiteCache``: a response-cache backend in one SQLite file, shared by several processes.

Like the session store, every blocking SQLite call runs on the cache's own worker thread,
one operation at a time, each write a complete transaction; cancelling the awaiting task
either stops an operation that has not started or lets a started one finish whole.
"""

from __future__ import annotations

import asyncio
import math
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Any, TypeVar

from aether import config
from aether.errors import ConfigurationError, SessionStoreError
from aether_memory_sqlite import _cache_db
from aether_memory_sqlite._factory import TIMEOUT_ENV
from aether_memory_sqlite._store import Synchronous

__all__ = ["CACHE_PATH_ENV", "SQLiteCache", "create_sqlite_cache"]

T = TypeVar("T")

CACHE_PATH_ENV = "AETHER_SQLITE_CACHE_PATH"
"""The cache file when the cache spec is just ``sqlite``."""

_TIDY_EVERY_MAX = 100  # writes between two purges, at most (fewer for a small max_entries)


class SQLiteCache:
    """A :class:`~aether.extensions.llm.caching.CacheBackend` in one SQLite file.

    Several processes may share the file (WAL mode, ``BEGIN IMMEDIATE`` writes, a busy
    timeout). Expiry is stored as an absolute time, so every process agrees on it; an expired
    entry is never returned. Expired entries, and with ``max_entries`` the oldest written past
    the bound, are purged by every so many writes (about a tenth of ``max_entries``, at most
    100), so the file may briefly hold that many extra rows; :meth:`purge` does it at once.
    The file is opened on first use; close with ``await cache.aclose()`` (or ``async with``).

    Args:
        path: The cache file (created if missing; never a session store's file), or
            ``":memory:"`` for one private to this object.
        ttl: Default seconds an entry lives when ``set`` gives none; None: until evicted.
        max_entries: Entries kept, the least recently written dropped first; None: no bound.
        timeout: Seconds to wait for another process's write lock before failing.
        synchronous: ``NORMAL`` (default: survives process crashes, may lose the newest
            entries on power loss, which a cache can afford), ``FULL`` or ``EXTRA``.
        clock: Unix seconds; injectable so expiry is testable without sleeping. Every process
            sharing the file must agree on it.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        ttl: float | None = None,
        max_entries: int | None = None,
        timeout: float = 10.0,
        synchronous: Synchronous = "NORMAL",
        clock: Callable[[], float] = time.time,
    ) -> None:
        if ttl is not None:
            ttl = _seconds("ttl", ttl, minimum_excluded=0.0)
        if max_entries is not None and (
            isinstance(max_entries, bool) or not isinstance(max_entries, int) or max_entries < 1
        ):
            raise ValueError(f"max_entries must be an integer >= 1 or None, got {max_entries!r}.")
        timeout = _seconds("timeout", timeout)
        if synchronous not in ("NORMAL", "FULL", "EXTRA"):
            raise ValueError(f"synchronous must be NORMAL, FULL or EXTRA, got {synchronous!r}.")
        self._path = os.fspath(path)
        self._ttl = ttl
        self._max_entries = max_entries
        self._timeout = timeout
        self._synchronous = synchronous
        self._clock = clock
        self._tidy_every = (
            _TIDY_EVERY_MAX
            if max_entries is None
            else max(1, min(_TIDY_EVERY_MAX, max_entries // 10))
        )
        self._writes = 0
        self._conn: sqlite3.Connection | None = None  # touched only on the worker thread
        self._executor: ThreadPoolExecutor | None = None
        self._guard = threading.Lock()
        self._pid = os.getpid()
        self._closed = False
        self._inherited: list[sqlite3.Connection] = []

    def __repr__(self) -> str:
        bound = "" if self._max_entries is None else f", max_entries={self._max_entries}"
        return f"SQLiteCache({self._path!r}, ttl={self._ttl}{bound})"

    @property
    def path(self) -> str:
        """The cache file."""
        return self._path

    @property
    def ttl(self) -> float | None:
        """Default seconds an entry lives, or None."""
        return self._ttl

    @property
    def max_entries(self) -> int | None:
        """Entries kept (give or take one purge interval), or None."""
        return self._max_entries

    # --- CacheBackend ------------------------------------------------------------------

    async def get(self, key: str) -> bytes | None:
        """The stored value, or None when absent or expired."""
        return await self._run("reading an entry", _cache_db.get, key, self._clock())

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        """Store ``value`` under ``key``; ``ttl`` seconds overrides the default lifetime."""
        lifetime = self._ttl if ttl is None else _seconds("ttl", ttl, minimum_excluded=0.0)
        now = self._clock()
        expires_at = None if lifetime is None else now + lifetime
        # The first write tidies (a file left by an earlier run may be over its bound), then
        # every so many: the cost of counting rows is spread over those writes.
        tidy = (now, self._max_entries) if self._writes % self._tidy_every == 0 else None
        self._writes += 1
        await self._run("writing an entry", _cache_db.put, key, bytes(value), expires_at, tidy=tidy)

    async def delete(self, key: str) -> None:
        """Forget ``key``; an absent key is fine."""
        await self._run("deleting an entry", _cache_db.delete, key)

    async def purge(self) -> int:
        """Drop expired entries and those past ``max_entries`` now; returns how many went."""
        return await self._run("purging", _cache_db.purge, self._clock(), self._max_entries)

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

    async def __aenter__(self) -> SQLiteCache:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # --- the worker (as in SQLiteSessionStore) -------------------------------------------

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
                    f"SQLite cache {self._path!r}: {doing} failed because the cache was closed; "
                    f"create a new SQLiteCache."
                )
            if os.getpid() != self._pid:
                # Forked: the parent's thread does not exist here and its connection must not
                # be used (nor closed, which could disturb the parent's locks); start afresh.
                if self._conn is not None:
                    self._inherited.append(self._conn)
                self._conn, self._executor, self._pid = None, None, os.getpid()
            if self._executor is None:
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="aether-sqlite-cache")
            return self._executor.submit(self._call, doing, fn, *args, **kwargs)

    async def _run(self, doing: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await asyncio.wrap_future(self._submit(doing, fn, *args, **kwargs))

    def _call(self, doing: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            if self._conn is None:
                self._conn = _cache_db.connect(
                    self._path, timeout=self._timeout, synchronous=self._synchronous
                )
            return fn(self._conn, *args, **kwargs)
        except sqlite3.Error as exc:
            self._reset_if_dirty()
            raise _cache_db.translate(exc, self._path, doing) from exc
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
            self._conn = None  # a connection that cannot roll back is not trusted again
            conn.close()

    def _close_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()


def _seconds(name: str, value: float, *, minimum_excluded: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number of seconds, got {value!r}.")
    if (
        not math.isfinite(value)
        or value < 0
        or (minimum_excluded is not None and value <= minimum_excluded)
    ):
        bound = "> 0" if minimum_excluded is not None else ">= 0"
        raise ValueError(f"{name} must be a finite number of seconds {bound}, got {value!r}.")
    return float(value)


# --- the plugin's factory --------------------------------------------------------------------


def create_sqlite_cache(
    location: str | None = None,
    *,
    ttl: str | float | None = None,
    max_entries: str | int | None = None,
    timeout: str | float | None = None,
    synchronous: str | None = None,
) -> SQLiteCache:
    """The cache for ``sqlite:///abs/cache.db``, ``sqlite://relative.db`` or ``sqlite``.

    Options arrive as text from a spec's query (``sqlite?max_entries=10000`` with the path in
    ``AETHER_SQLITE_CACHE_PATH``, or ``sqlite:///path.db?ttl=3600``) or as values from code.

    Args:
        location: The file path (after ``sqlite://``); None: ``AETHER_SQLITE_CACHE_PATH``.
        ttl: Default seconds an entry lives; None or 0: no expiry.
        max_entries: Bound on entries; None or 0: no bound.
        timeout: Busy timeout in seconds; None: ``AETHER_SQLITE_TIMEOUT``, else 10.
        synchronous: ``NORMAL`` (default), ``FULL`` or ``EXTRA``.
    """
    path = location if location else config.env_str(CACHE_PATH_ENV)
    if not path:
        raise ConfigurationError(
            f"The sqlite cache needs a file of its own: set {CACHE_PATH_ENV}=/path/to/cache.db "
            f"or name it in the cache spec, sqlite:///path/to/cache.db."
        )
    chosen_ttl = 0.0 if ttl is None else _option_float("ttl", ttl)
    bound = 0 if max_entries is None else _option_int("max_entries", max_entries)
    seconds = (
        _option_float("timeout", timeout)
        if timeout is not None
        else config.env_float(TIMEOUT_ENV, 10.0, minimum=0.0)
    )
    mode = (synchronous or "NORMAL").upper()
    for choice in ("NORMAL", "FULL", "EXTRA"):
        if mode == choice:
            return SQLiteCache(
                path,
                ttl=chosen_ttl or None,
                max_entries=bound or None,
                timeout=seconds,
                synchronous=choice,
            )
    raise ConfigurationError(
        f"The sqlite cache's synchronous option must be one of NORMAL, FULL, EXTRA, got "
        f"{synchronous!r}."
    )


def _option_float(name: str, value: str | float) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ConfigurationError(
            f"The sqlite cache's {name} must be a number of seconds, got {value!r}."
        ) from None
    if not math.isfinite(number) or number < 0:
        raise ConfigurationError(
            f"The sqlite cache's {name} must be finite and >= 0 (0: none), got {value!r}."
        )
    return number


def _option_int(name: str, value: str | int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ConfigurationError(
            f"The sqlite cache's {name} must be an integer, got {value!r}."
        ) from None
    if number < 0:
        raise ConfigurationError(
            f"The sqlite cache's {name} must be >= 0 (0: no bound), got {value!r}."
        )
    return number
