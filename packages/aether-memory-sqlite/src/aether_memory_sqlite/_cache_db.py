"""The response cache's file: open and recognise it, and its operations as blocking functions.

The cache lives in a file of its own, never in a session store's file. The two differ in
everything that matters to SQLite: sessions are durable history (``synchronous=FULL``,
migrations that must never lose a row), cache entries are disposable and hot (every call
reads one, every miss writes one). Sharing a file would make each cache write wait for the
same single write lock as session appends, tie a disposable table to the store's schema
version, and make "delete the cache" mean editing the session database.

A file is a cache when ``PRAGMA application_id`` holds :data:`CACHE_APPLICATION_ID`; its
layout version is ``PRAGMA user_version``. Layout 1 is one table, ``aether_cache``: the key,
the value as a BLOB, and ``expires_at``, the absolute expiry in Unix seconds (NULL: never),
absolute so that every process sharing the file agrees on it. An expired row is never
returned; rows are purged by the writes (see :func:`put`), so reads stay read-only.
"""

from __future__ import annotations

import sqlite3

from aether.errors import SessionStoreError
from aether_memory_sqlite._errors import _ADVICE
from aether_memory_sqlite._file import Layout, open_file
from aether_memory_sqlite._schema import APPLICATION_ID

__all__ = [
    "CACHE_APPLICATION_ID",
    "CACHE_SCHEMA_VERSION",
    "connect",
    "delete",
    "get",
    "purge",
    "put",
    "translate",
]

CACHE_APPLICATION_ID = 0x41455443  # "AETC"; a session store's file holds "AETH"
CACHE_SCHEMA_VERSION = 1

# The cache's own advice where the store's would point at the wrong object; the first match
# wins, then the store's table (read-only paths, full disks, I/O errors read the same).
_CACHE_ADVICE: tuple[tuple[str, str], ...] = (
    (
        "locked",
        "another process held the cache file's write lock longer than the busy timeout; "
        "retry, or raise timeout= (SQLiteCache) / ?timeout= in the cache spec",
    ),
    (
        "not a database",
        "the file is not an SQLite database; Aether will not overwrite it. Point the cache at "
        "another path",
    ),
    (
        "malformed",
        "the cache file is corrupted; Aether will not reset it. It holds only answers that can "
        "be asked again: stop the processes using it and delete the file (and its -wal and "
        "-shm files)",
    ),
)


def translate(exc: sqlite3.Error | OSError, path: str, doing: str) -> SessionStoreError:
    """The error for ``exc`` raised while ``doing`` on the cache file ``path``."""
    text = str(exc)
    lowered = text.lower()
    advice = next((tip for needle, tip in _CACHE_ADVICE + _ADVICE if needle in lowered), None)
    if advice is None:
        advice = "see the cause for SQLite's own report"
    return SessionStoreError(f"SQLite cache {path!r}: {doing} failed ({text}): {advice}.")


def connect(path: str, *, timeout: float, synchronous: str) -> sqlite3.Connection:
    """A connection to the cache file ``path``, created or recognised, in WAL mode.

    Raises:
        SessionStoreError: The file is not a cache (a session store's, another program's),
            has a newer layout, or cannot be opened or written.
    """
    return open_file(
        path,
        _LAYOUT,
        timeout=timeout,
        synchronous=synchronous,
        translate=translate,
        doing="opening the cache",
    )


def _create_v1(conn: sqlite3.Connection) -> None:
    # A rowid table: values can be megabytes, which WITHOUT ROWID tables handle badly. The
    # rowid also orders rows by last write (a REPLACE takes a new, highest rowid), which is
    # what the size bound evicts by.
    conn.execute(
        "CREATE TABLE aether_cache ("
        " key TEXT PRIMARY KEY NOT NULL,"
        " value BLOB NOT NULL,"
        " expires_at REAL"
        ")"
    )
    conn.execute(
        "CREATE INDEX aether_cache_by_expiry ON aether_cache (expires_at) "
        "WHERE expires_at IS NOT NULL"
    )


def _check(path: str, app_id: int, version: int, foreign: bool) -> None:
    if app_id == APPLICATION_ID:
        raise SessionStoreError(
            f"SQLite cache {path!r}: the file is an Aether session store, not a cache; the "
            f"cache keeps its entries in a file of its own. Point the cache at another path "
            f"(e.g. AETHER_SQLITE_CACHE_PATH=cache.db); the file was not changed."
        )
    if foreign:
        raise SessionStoreError(
            f"SQLite cache {path!r}: the file is an SQLite database of another application "
            f"(application_id={app_id}); Aether will not modify it. Point the cache at a new "
            f"or Aether-created cache file."
        )
    if version > CACHE_SCHEMA_VERSION:
        raise SessionStoreError(
            f"SQLite cache {path!r}: the file has layout version {version}, written by a newer "
            f"aether-memory-sqlite (this one reads up to {CACHE_SCHEMA_VERSION}). Upgrade "
            f"aether-memory-sqlite, or point this process at another cache file; the file was "
            f"not changed."
        )


_LAYOUT = Layout(CACHE_APPLICATION_ID, CACHE_SCHEMA_VERSION, {0: _create_v1}, _check)


# --- operations (each on the cache's worker thread) -------------------------------------------


def get(conn: sqlite3.Connection, key: str, now: float) -> bytes | None:
    """The value under ``key`` unless absent or expired at ``now``; never writes."""
    row = conn.execute(
        "SELECT value FROM aether_cache WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)",
        (key, now),
    ).fetchone()
    if row is None:
        return None
    value = row[0]
    if isinstance(value, bytes):
        return value
    # Not written by this module (a hand edit, another tool): hand over its bytes all the same
    # and let the cache layer, which decodes every value, call it a miss.
    return (value if isinstance(value, str) else str(value)).encode("utf-8", "surrogatepass")


def put(
    conn: sqlite3.Connection,
    key: str,
    value: bytes,
    expires_at: float | None,
    *,
    tidy: tuple[float, int | None] | None,
) -> None:
    """Store ``value`` under ``key`` (replacing it and its expiry) in one transaction.

    Args:
        tidy: ``(now, max_entries)`` to also drop expired rows and the oldest written past
            ``max_entries`` in the same transaction; the caller asks for it every so often.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            "INSERT OR REPLACE INTO aether_cache (key, value, expires_at) VALUES (?, ?, ?)",
            (key, value, expires_at),
        )
        if tidy is not None:
            _purge(conn, *tidy)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def delete(conn: sqlite3.Connection, key: str) -> None:
    """Forget ``key``; an absent key is fine."""
    conn.execute("DELETE FROM aether_cache WHERE key = ?", (key,))


def purge(conn: sqlite3.Connection, now: float, max_entries: int | None) -> int:
    """Drop expired rows, then the oldest written past ``max_entries``; how many went."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        removed = _purge(conn, now, max_entries)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return removed


def _purge(conn: sqlite3.Connection, now: float, max_entries: int | None) -> int:
    removed = conn.execute("DELETE FROM aether_cache WHERE expires_at <= ?", (now,)).rowcount
    if max_entries is not None:
        (count,) = conn.execute("SELECT count(*) FROM aether_cache").fetchone()
        if count > max_entries:
            removed += conn.execute(
                "DELETE FROM aether_cache WHERE rowid IN "
                "(SELECT rowid FROM aether_cache ORDER BY rowid LIMIT ?)",
                (count - max_entries,),
            ).rowcount
    return int(removed)
