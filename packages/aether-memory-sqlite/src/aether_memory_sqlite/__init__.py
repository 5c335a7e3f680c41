"""A durable SQLite session store for Aether.

    from aether import Aether
    from aether_memory_sqlite import SQLiteSessionStore

    client = Aether(memory_store=SQLiteSessionStore("sessions.db"))

or, without code: ``AETHER_SESSION_STORE=sqlite:///var/lib/app/sessions.db``.

It also gives the response cache a backend shared by processes on one host:
:class:`SQLiteCache` (cache kind ``sqlite``), in a file of its own.
"""

from __future__ import annotations

from aether_memory_sqlite._cache import SQLiteCache, create_sqlite_cache
from aether_memory_sqlite._factory import create_sqlite_store
from aether_memory_sqlite._schema import APPLICATION_ID, SCHEMA_VERSION
from aether_memory_sqlite._store import SQLiteSessionStore, Synchronous

__all__ = [
    "APPLICATION_ID",
    "SCHEMA_VERSION",
    "SQLiteCache",
    "SQLiteSessionStore",
    "Synchronous",
    "create_sqlite_cache",
    "create_sqlite_store",
]
