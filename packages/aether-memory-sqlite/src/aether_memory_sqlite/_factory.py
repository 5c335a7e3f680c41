"""Build an ``SQLiteSessionStore`` from a store spec (``AETHER_SESSION_STORE=sqlite://...``)."""

from __future__ import annotations

from aether_memory_sqlite._options import (
    TIMEOUT_ENV,
    file_option,
    synchronous_option,
    timeout_option,
)
from aether_memory_sqlite._store import SQLiteSessionStore

__all__ = ["PATH_ENV", "TIMEOUT_ENV", "create_sqlite_store"]

PATH_ENV = "AETHER_SQLITE_PATH"
"""The database file when the spec is just ``sqlite``."""

_OWNER = "sqlite session store"  # in messages: "The sqlite session store's timeout must be ..."


def create_sqlite_store(
    location: str | None = None,
    *,
    timeout: str | float | None = None,
    synchronous: str | None = None,
) -> SQLiteSessionStore:
    """The store for ``sqlite:///abs/path.db``, ``sqlite://relative.db`` or ``sqlite``.

    Args:
        location: The file path (the part after ``sqlite://``); None: ``AETHER_SQLITE_PATH``.
        timeout: Busy timeout in seconds; None: ``AETHER_SQLITE_TIMEOUT``, else 10.
        synchronous: ``FULL`` (default), ``NORMAL`` or ``EXTRA``.
    """
    path = file_option(
        location,
        PATH_ENV,
        f"The sqlite session store needs a database file: set {PATH_ENV}=/path/to/sessions.db "
        f"or AETHER_SESSION_STORE=sqlite:///path/to/sessions.db.",
    )
    return SQLiteSessionStore(
        path,
        timeout=timeout_option(timeout, _OWNER),
        synchronous=synchronous_option(synchronous, "FULL", _OWNER),
    )
