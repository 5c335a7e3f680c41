"""``SQLiteCache``: a response-cache backend in one SQLite file, shared by several processes.

Like the session store, every blocking SQLite call runs on the cache's own worker thread,
one operation at a time, each write a complete transaction; cancelling the awaiting task
either stops an operation that has not started or lets a started one finish whole.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from functools import partial

from aether.memory.factory import option_int, option_seconds
from aether_memory_sqlite import _cache_db
from aether_memory_sqlite._options import (
    Synchronous,
    check_seconds,
    check_synchronous,
    file_option,
    synchronous_option,
    timeout_option,
)
from aether_memory_sqlite._worker import Worker, WorkerOwner

__all__ = ["CACHE_PATH_ENV", "SQLiteCache", "create_sqlite_cache"]

CACHE_PATH_ENV = "AETHER_SQLITE_CACHE_PATH"
"""The cache file when the cache spec is just ``sqlite``."""

_OWNER = "sqlite cache"  # in the factory's messages: "The sqlite cache's ttl must be ..."
_TIDY_EVERY_MAX = 100  # writes between two purges, at most (fewer for a small max_entries)


class SQLiteCache(WorkerOwner):
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
            ttl = check_seconds("ttl", ttl, positive=True)
        if max_entries is not None and (
            isinstance(max_entries, bool) or not isinstance(max_entries, int) or max_entries < 1
        ):
            raise ValueError(f"max_entries must be an integer >= 1 or None, got {max_entries!r}.")
        timeout = check_seconds("timeout", timeout)
        check_synchronous(synchronous)
        self._path = os.fspath(path)
        self._ttl = ttl
        self._max_entries = max_entries
        self._timeout = timeout
        self._clock = clock
        self._tidy_every = (
            _TIDY_EVERY_MAX
            if max_entries is None
            else max(1, min(_TIDY_EVERY_MAX, max_entries // 10))
        )
        self._writes = 0
        self._worker = Worker(
            self._path,
            label="SQLite cache",
            connect=partial(
                _cache_db.connect, self._path, timeout=timeout, synchronous=synchronous
            ),
            translate=_cache_db.translate,
            closed="the cache was closed; create a new SQLiteCache",
            thread_name="aether-sqlite-cache",
        )

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
        lifetime = self._ttl if ttl is None else check_seconds("ttl", ttl, positive=True)
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
    path = file_option(
        location,
        CACHE_PATH_ENV,
        f"The sqlite cache needs a file of its own: set {CACHE_PATH_ENV}=/path/to/cache.db "
        f"or name it in the cache spec, sqlite:///path/to/cache.db.",
    )
    chosen_ttl = (
        0.0 if ttl is None else option_seconds(ttl, option="ttl", owner=_OWNER, zero="none")
    )
    bound = (
        0
        if max_entries is None
        else option_int(max_entries, option="max_entries", owner=_OWNER, zero="no bound")
    )
    return SQLiteCache(
        path,
        ttl=chosen_ttl or None,
        max_entries=bound or None,
        timeout=timeout_option(timeout, _OWNER),
        synchronous=synchronous_option(synchronous, "NORMAL", _OWNER),
    )
