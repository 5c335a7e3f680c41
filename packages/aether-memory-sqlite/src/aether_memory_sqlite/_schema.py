"""Open a database file, recognise it as ours, and create or migrate its schema.

A file is ours when ``PRAGMA application_id`` holds :data:`APPLICATION_ID`; its schema version
is ``PRAGMA user_version``. An empty file gets the current schema. A file of another
application, a newer schema, or an unreadable file is refused with a
:class:`~aether.errors.SessionStoreError` *before* anything is written to it.

Schema 1: one row per turn (``aether_turns``, keyed by session and turn number, with a unique
turn id per session) and one append-only row per message (``aether_messages``, keyed by
session, turn number and position), the message stored as its JSON.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

from aether.errors import SessionStoreError
from aether_memory_sqlite._errors import translate

__all__ = ["APPLICATION_ID", "SCHEMA_VERSION", "connect"]

APPLICATION_ID = 0x41455448  # "AETH"
SCHEMA_VERSION = 1


def _create_v1(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE TABLE aether_turns ("
        " session_id TEXT NOT NULL,"
        " turn_no INTEGER NOT NULL,"
        " turn_id TEXT NOT NULL,"
        " message_count INTEGER NOT NULL CHECK (message_count > 0),"
        " PRIMARY KEY (session_id, turn_no)"
        ") WITHOUT ROWID"
    )
    conn.execute("CREATE UNIQUE INDEX aether_turns_by_id ON aether_turns (session_id, turn_id)")
    # A rowid table: message rows can be large, which WITHOUT ROWID tables handle badly.
    conn.execute(
        "CREATE TABLE aether_messages ("
        " session_id TEXT NOT NULL,"
        " turn_no INTEGER NOT NULL,"
        " seq INTEGER NOT NULL,"
        " message TEXT NOT NULL,"
        " PRIMARY KEY (session_id, turn_no, seq)"
        ")"
    )


# version → the step that upgrades a database from it to version + 1.
_MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {0: _create_v1}


def connect(path: str, *, timeout: float, synchronous: str) -> sqlite3.Connection:
    """A connection to ``path`` with the current schema, WAL and the busy timeout set.

    Raises:
        SessionStoreError: The file is not ours, is newer, unreadable, or not writable.
    """
    try:
        # isolation_level=None: we issue BEGIN IMMEDIATE / COMMIT ourselves.
        conn = sqlite3.connect(path, timeout=timeout, isolation_level=None)
    except sqlite3.Error as exc:
        raise translate(exc, path, "opening the database") from exc
    try:
        conn.execute(f"PRAGMA busy_timeout = {max(0, int(timeout * 1000))}")
        _while_locked(lambda: _prepare(conn, path, synchronous), timeout)
    except sqlite3.Error as exc:
        conn.close()
        raise translate(exc, path, "opening the database") from exc
    except BaseException:
        conn.close()
        raise
    return conn


def _prepare(conn: sqlite3.Connection, path: str, synchronous: str) -> None:
    app_id, version, foreign = _identify(conn)
    _check(path, app_id, version, foreign)
    if path != ":memory:" and _journal_mode(conn) != "wal":
        conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    if version < SCHEMA_VERSION:
        _migrate(conn, path)


def _while_locked(step: Callable[[], None], timeout: float) -> None:
    """Run ``step``, retrying while another process holds a lock it needs.

    Switching a fresh file to WAL needs an exclusive lock, and SQLite reports a conflict there
    at once instead of calling the busy handler; several processes opening one new file at the
    same moment would otherwise fail. Other errors, and a lock held past ``timeout``, propagate.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            step()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.005)


def _journal_mode(conn: sqlite3.Connection) -> str:
    return str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower()


def _identify(conn: sqlite3.Connection) -> tuple[int, int, bool]:
    # One statement, so the three values come from one snapshot: read separately, another
    # process creating the schema in between would make a new file look foreign.
    app_id, version, tables = conn.execute(
        "SELECT (SELECT application_id FROM pragma_application_id),"
        " (SELECT user_version FROM pragma_user_version),"
        " (SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%')"
    ).fetchone()
    app_id, version = int(app_id), int(version)
    foreign = app_id != APPLICATION_ID and (app_id != 0 or version != 0 or tables > 0)
    return app_id, version, foreign


def _check(path: str, app_id: int, version: int, foreign: bool) -> None:
    if foreign:
        raise SessionStoreError(
            f"SQLite session store {path!r}: the file is an SQLite database of another "
            f"application (application_id={app_id}), not an Aether session store; Aether will "
            f"not modify it. Point the store at a new or Aether-created file."
        )
    if version > SCHEMA_VERSION:
        raise SessionStoreError(
            f"SQLite session store {path!r}: the file has schema version {version}, written by "
            f"a newer aether-memory-sqlite (this one reads up to {SCHEMA_VERSION}). Upgrade "
            f"aether-memory-sqlite (pip install -U aether-memory-sqlite); the file was not "
            f"changed."
        )


def _migrate(conn: sqlite3.Connection, path: str) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        # Another process may have created or migrated the file since we looked.
        app_id, version, foreign = _identify(conn)
        _check(path, app_id, version, foreign)
        while version < SCHEMA_VERSION:
            _MIGRATIONS[version](conn)
            version += 1
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version = {version}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
