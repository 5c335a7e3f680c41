"""The store's operations as plain blocking functions on one connection.

Each write is one complete ``BEGIN IMMEDIATE … COMMIT`` transaction, rolled back on any
failure before the function returns, so a connection never carries half a write into the
next call. Messages arrive and leave as JSON text; (de)serialising is the caller's business
except on load, where it happens here, off the event loop.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from pydantic import ValidationError

from aether.errors import SessionStoreError
from aether.llm.contracts import Message
from aether.memory.turns import new_turn_id

__all__ = ["append_turn", "delete", "exists", "list_sessions", "load", "save"]


@contextmanager
def _write(conn: sqlite3.Connection) -> Iterator[None]:
    # IMMEDIATE takes the write lock up front, so the busy timeout applies here and a write
    # never fails half-way with "database is locked" after reading.
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _insert_turn(
    conn: sqlite3.Connection, session_id: str, turn_no: int, turn_id: str, rows: Sequence[str]
) -> None:
    conn.execute(
        "INSERT INTO aether_turns (session_id, turn_no, turn_id, message_count) "
        "VALUES (?, ?, ?, ?)",
        (session_id, turn_no, turn_id, len(rows)),
    )
    conn.executemany(
        "INSERT INTO aether_messages (session_id, turn_no, seq, message) VALUES (?, ?, ?, ?)",
        [(session_id, turn_no, seq, row) for seq, row in enumerate(rows)],
    )


def append_turn(
    conn: sqlite3.Connection, session_id: str, turn_id: str, rows: Sequence[str]
) -> bool:
    """Append one turn's message rows; False if the session already has ``turn_id``."""
    with _write(conn):
        seen = conn.execute(
            "SELECT 1 FROM aether_turns WHERE session_id = ? AND turn_id = ?",
            (session_id, turn_id),
        ).fetchone()
        if seen is not None:
            return False
        (turn_no,) = conn.execute(
            "SELECT COALESCE(MAX(turn_no), 0) + 1 FROM aether_turns WHERE session_id = ?",
            (session_id,),
        ).fetchone()
        _insert_turn(conn, session_id, turn_no, turn_id, rows)
        return True


def save(conn: sqlite3.Connection, session_id: str, turns: Sequence[Sequence[str]]) -> None:
    """Replace the session's rows with ``turns`` (turn ids are forgotten)."""
    with _write(conn):
        _delete_rows(conn, session_id)
        for turn_no, rows in enumerate(turns, start=1):
            _insert_turn(conn, session_id, turn_no, new_turn_id(), rows)


def delete(conn: sqlite3.Connection, session_id: str) -> None:
    """Remove every row of the session."""
    with _write(conn):
        _delete_rows(conn, session_id)


def _delete_rows(conn: sqlite3.Connection, session_id: str) -> None:
    conn.execute("DELETE FROM aether_messages WHERE session_id = ?", (session_id,))
    conn.execute("DELETE FROM aether_turns WHERE session_id = ?", (session_id,))


def exists(conn: sqlite3.Connection, session_id: str) -> bool:
    """Whether the session has at least one turn."""
    row = conn.execute(
        "SELECT 1 FROM aether_turns WHERE session_id = ? LIMIT 1", (session_id,)
    ).fetchone()
    return row is not None


def list_sessions(conn: sqlite3.Connection, limit: int | None) -> list[str]:
    """Ids of the sessions holding messages, most recently written first."""
    # Message rows are only ever inserted (a save deletes and re-inserts), and a new row's
    # rowid is above every existing one, so a session's highest rowid dates its last write
    # without a timestamp column (and so without a schema change).
    rows = conn.execute(
        "SELECT session_id FROM aether_messages GROUP BY session_id ORDER BY MAX(rowid) DESC "
        "LIMIT ?",
        (-1 if limit is None else limit,),
    ).fetchall()
    return [session_id for (session_id,) in rows]


def load(conn: sqlite3.Connection, session_id: str, limit: int | None, path: str) -> list[Message]:
    """The session's messages, oldest first; with ``limit``, the newest whole turns only."""
    if limit is None:
        rows = conn.execute(
            "SELECT message FROM aether_messages WHERE session_id = ? ORDER BY turn_no, seq",
            (session_id,),
        ).fetchall()
    else:
        # One read transaction: the turn counts and the rows come from the same snapshot.
        conn.execute("BEGIN")
        try:
            first = _first_turn_within(conn, session_id, limit)
            rows = (
                []
                if first is None
                else conn.execute(
                    "SELECT message FROM aether_messages WHERE session_id = ? AND turn_no >= ? "
                    "ORDER BY turn_no, seq",
                    (session_id, first),
                ).fetchall()
            )
        finally:
            conn.execute("COMMIT")
    try:
        return [Message.model_validate_json(row) for (row,) in rows]
    except ValidationError as exc:
        raise SessionStoreError(
            f"SQLite session store {path!r}: a stored message of session {session_id!r} is not a "
            f"valid Message ({exc.error_count()} errors); it was probably written by a newer "
            f"aether-core. Upgrade aether-core, or delete the session."
        ) from exc


def _first_turn_within(conn: sqlite3.Connection, session_id: str, limit: int) -> int | None:
    first: int | None = None
    total = 0
    cursor = conn.execute(
        "SELECT turn_no, message_count FROM aether_turns WHERE session_id = ? "
        "ORDER BY turn_no DESC",
        (session_id,),
    )
    for turn_no, count in cursor:
        if total + count > limit:
            break
        total += count
        first = turn_no
    cursor.close()
    return first
