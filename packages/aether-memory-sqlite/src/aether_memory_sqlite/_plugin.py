"""The plugin module: registers the ``sqlite`` session store and cache through Aether's hooks."""

from __future__ import annotations

from aether.plugins.hookspecs import Register, hookimpl

__all__ = ["register_caches", "register_session_stores"]


@hookimpl
def register_session_stores(register: Register) -> None:
    from aether_memory_sqlite._factory import create_sqlite_store

    register("sqlite", create_sqlite_store)


@hookimpl
def register_caches(register: Register) -> None:
    from aether_memory_sqlite._cache import create_sqlite_cache

    register("sqlite", create_sqlite_cache)
