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
from collections.abc import Callable

from aether.errors import SessionStoreError
from aether_memory_sqlite._errors import translate
from aether_memory_sqlite._file import Layout, open_file

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
    # Built at each open, so it holds the module's SCHEMA_VERSION and _MIGRATIONS as they are now.
    layout = Layout(APPLICATION_ID, SCHEMA_VERSION, _MIGRATIONS, _check)
    return open_file(
        path,
        layout,
        timeout=timeout,
        synchronous=synchronous,
        translate=translate,
        doing="opening the database",
    )


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
