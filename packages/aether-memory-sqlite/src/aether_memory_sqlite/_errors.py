"""SQLite failures → :class:`~aether.errors.SessionStoreError`, in one place.

Each message names the database file and says what to do. Nothing here ever deletes or
recreates a file: a database Aether cannot use is reported, never reset.
"""

from __future__ import annotations

import sqlite3

from aether.errors import SessionStoreError

__all__ = ["translate"]

# (substring of SQLite's message, advice); the first match wins.
_ADVICE: tuple[tuple[str, str], ...] = (
    (
        "locked",
        "another connection held the write lock longer than the busy timeout; retry, or "
        "raise timeout= (SQLiteSessionStore) / ?timeout= (AETHER_SESSION_STORE)",
    ),
    (
        "readonly",
        "the file or its directory is read-only; the store needs write access to the file and "
        "to its directory (SQLite creates the -wal and -shm files next to it)",
    ),
    (
        "unable to open",
        "check that the directory exists and is writable, and that the path is a file",
    ),
    ("disk is full", "free disk space; the failed write left the stored history unchanged"),
    (
        "not a database",
        "the file is not an SQLite database; Aether will not overwrite it. Point the store at "
        "another path, or move the file aside if it is yours to discard",
    ),
    (
        "malformed",
        "the database is corrupted; Aether will not reset it. Restore it from a backup, or try "
        "`sqlite3 FILE .recover` into a new file",
    ),
    ("disk i/o", "the operating system reported an I/O error; check the disk and the mount"),
)


def translate(exc: sqlite3.Error | OSError, path: str, doing: str) -> SessionStoreError:
    """The :class:`SessionStoreError` for ``exc`` raised while ``doing`` on ``path``."""
    text = str(exc)
    lowered = text.lower()
    advice = next((tip for needle, tip in _ADVICE if needle in lowered), None)
    if advice is None:
        advice = "see the cause for SQLite's own report"
    return SessionStoreError(f"SQLite session store {path!r}: {doing} failed ({text}): {advice}.")
