"""Core's built-in session store, registered through the same hook as any plugin's."""

from __future__ import annotations

from aether.plugins.hookspecs import Register, hookimpl

__all__ = ["register_session_stores"]


@hookimpl
def register_session_stores(register: Register) -> None:
    from aether.extensions.memory.in_memory import InMemorySessionStore

    register("memory", InMemorySessionStore)
