"""Core's built-ins (the fake provider, the memory cache), registered as any plugin's are."""

from __future__ import annotations

from aether.plugins.hookspecs import Register, hookimpl

__all__ = ["register_caches", "register_providers"]


@hookimpl
def register_providers(register: Register) -> None:
    from aether.extensions.llm.fake import FakeProvider

    register("fake", FakeProvider)


@hookimpl
def register_caches(register: Register) -> None:
    from aether.extensions.llm.cache_config import create_memory_cache

    register("memory", create_memory_cache)
