"""Session stores shipped with core: the in-memory default.

from aether.extensions.memory import InMemorySessionStore
store = InMemorySessionStore()
client_a = Aether(memory_store=store)
client_b = Aether(memory_store=store)   # both see the same sessions
"""

from __future__ import annotations

from aether.extensions.memory.in_memory import InMemorySessionStore

__all__ = ["InMemorySessionStore"]
