"""The plugin module: registers the ``sqlite`` session store through Aether's hook."""

from __future__ import annotations

from aether.plugins.hookspecs import Register, hookimpl

__all__ = ["register_session_stores"]


@hookimpl
def register_session_stores(register: Register) -> None:
    from aether_memory_sqlite._factory import create_sqlite_store

    register("sqlite", create_sqlite_store)
