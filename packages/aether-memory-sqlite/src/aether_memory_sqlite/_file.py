"""What the session store's file and the cache's file share: opening one, and knowing whose it is.

Both are files several processes open at once: WAL mode, a busy timeout, and writes that the
callers bracket with ``BEGIN IMMEDIATE`` / ``COMMIT`` themselves. Each says whose it is in
``PRAGMA application_id`` and which layout it has in ``PRAGMA user_version``. Opening one
checks both before anything is written, then creates or upgrades the layout in one
transaction; the values, the messages and the tables stay with their owner (a :class:`Layout`
from ``_schema`` for the store, from ``_cache_db`` for the cache).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from aether.errors import SessionStoreError

__all__ = ["Layout", "Translate", "open_file"]

Translate = Callable[[sqlite3.Error, str, str], SessionStoreError]
"""``translate(exc, path, doing)``: the error to raise for ``exc`` on the file ``path``."""

Check = Callable[[str, int, int, bool], None]
"""``check(path, application_id, version, foreign)``: raise if the file is not one to open.

``foreign``: the file is neither new and empty nor marked with the layout's application id.
"""


@dataclass(frozen=True)
class Layout:
    """Whose a file is and what it holds: what :func:`open_file` checks, creates or upgrades.

    Attributes:
        application_id: ``PRAGMA application_id`` of a file of this owner.
        version: The layout this code writes, ``PRAGMA user_version``.
        migrations: The step from each older version to the next (0: create the tables).
        check: Refuses a file of another owner or of a newer layout, before any write.
    """

    application_id: int
    version: int
    migrations: Mapping[int, Callable[[sqlite3.Connection], None]]
    check: Check


def open_file(
    path: str,
    layout: Layout,
    *,
    timeout: float,
    synchronous: str,
    translate: Translate,
    doing: str,
) -> sqlite3.Connection:
    """A connection to ``path`` in WAL mode with the busy timeout set, its layout current.

    The file is checked, then created or upgraded to ``layout``, retrying while another
    process holds a lock it needs (see ``_while_locked``). The connection is closed on
    any failure, and SQLite's errors come out through ``translate``.
    """
    try:
        # isolation_level=None: the callers issue BEGIN IMMEDIATE / COMMIT themselves.
        conn = sqlite3.connect(path, timeout=timeout, isolation_level=None)
    except sqlite3.Error as exc:
        raise translate(exc, path, doing) from exc
    try:
        conn.execute(f"PRAGMA busy_timeout = {max(0, int(timeout * 1000))}")
        _while_locked(lambda: _prepare(conn, path, layout, synchronous), timeout)
    except sqlite3.Error as exc:
        conn.close()
        raise translate(exc, path, doing) from exc
    except BaseException:
        conn.close()
        raise
    return conn


def _prepare(conn: sqlite3.Connection, path: str, layout: Layout, synchronous: str) -> None:
    app_id, version, foreign = _identify(conn, layout)
    layout.check(path, app_id, version, foreign)
    if path != ":memory:" and _journal_mode(conn) != "wal":
        conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    if version < layout.version:
        _upgrade(conn, path, layout)


def _upgrade(conn: sqlite3.Connection, path: str, layout: Layout) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        # Another process may have created or upgraded the file since we looked.
        app_id, version, foreign = _identify(conn, layout)
        layout.check(path, app_id, version, foreign)
        while version < layout.version:
            layout.migrations[version](conn)
            version += 1
        conn.execute(f"PRAGMA application_id = {layout.application_id}")
        conn.execute(f"PRAGMA user_version = {layout.version}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


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


def _identify(conn: sqlite3.Connection, layout: Layout) -> tuple[int, int, bool]:
    # One statement, so the three values come from one snapshot: read separately, another
    # process creating the layout in between would make a new file look foreign.
    app_id, version, tables = conn.execute(
        "SELECT (SELECT application_id FROM pragma_application_id),"
        " (SELECT user_version FROM pragma_user_version),"
        " (SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%')"
    ).fetchone()
    app_id, version = int(app_id), int(version)
    foreign = app_id != layout.application_id and (app_id != 0 or version != 0 or tables > 0)
    return app_id, version, foreign


def _journal_mode(conn: sqlite3.Connection) -> str:
    return str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower()
