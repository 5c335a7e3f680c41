"""The plugin module: registers the ``redis`` and ``rediss`` session stores and caches."""

from __future__ import annotations

from aether.plugins.hookspecs import Register, hookimpl

__all__ = ["register_caches", "register_session_stores"]


@hookimpl
def register_session_stores(register: Register) -> None:
    from aether_memory_redis._factory import create_redis_store, create_rediss_store

    register("redis", create_redis_store)
    register("rediss", create_rediss_store)


@hookimpl
def register_caches(register: Register) -> None:
    from aether_memory_redis._cache import create_redis_cache, create_rediss_cache

    register("redis", create_redis_cache)
    register("rediss", create_rediss_cache)
