"""A durable SQLite session store for Aether.

    from aether import Aether
    from aether_memory_sqlite import SQLiteSessionStore

    client = Aether(memory_store=SQLiteSessionStore("sessions.db"))

or, without code: ``AETHER_SESSION_STORE=sqlite:///var/lib/app/sessions.db``.
"""

from __future__ import annotations

from aether_memory_sqlite._factory import create_sqlite_store
from aether_memory_sqlite._schema import APPLICATION_ID, SCHEMA_VERSION
from aether_memory_sqlite._store import SQLiteSessionStore, Synchronous

__all__ = [
    "APPLICATION_ID",
    "SCHEMA_VERSION",
    "SQLiteSessionStore",
    "Synchronous",
    "create_sqlite_store",
]
