"""The in-process ``memory`` backend passes the cache-backend conformance suite.

The last tests run single checks of the suite on broken backends, so a check that could never
fail would show here.
"""

from __future__ import annotations

import pytest

import aether.testing.caches as caches
from aether.extensions.llm.caching import MemoryCache
from aether.testing import CacheBackendConformance


class TestMemoryCache(CacheBackendConformance):
    @pytest.fixture
    def backend(self) -> MemoryCache:
        return MemoryCache()


class TestMemoryCacheNearItsBound(CacheBackendConformance):
    """Room for every entry one test writes, and little more: eviction must not get in the way."""

    @pytest.fixture
    def backend(self) -> MemoryCache:
        return MemoryCache(max_entries=300)


class _NeverExpires(MemoryCache):
    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        await super().set(key, value)


class _KeepsOldLifetime(MemoryCache):
    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        entry = self._entries.get(key)
        await super().set(key, value, ttl)
        if entry is not None and ttl is None:
            self._entries[key] = (entry[0], value)


class _TruncatesKeys(MemoryCache):
    async def get(self, key: str) -> bytes | None:
        return await super().get(key[:20])

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        await super().set(key[:20], value, ttl)


async def test_the_suite_catches_a_backend_that_never_expires(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(caches, "EXPIRY_BOUND", 0.2)
    suite = CacheBackendConformance()
    with pytest.raises(pytest.fail.Exception, match="does not expire"):
        await suite.test_an_entry_with_a_ttl_expires_and_one_without_stays(_NeverExpires())


async def test_the_suite_catches_a_write_that_keeps_the_old_expiry() -> None:
    suite = CacheBackendConformance()
    with pytest.raises(AssertionError):
        await suite.test_a_write_replaces_the_lifetime_too(_KeepsOldLifetime())


async def test_the_suite_catches_a_backend_that_mixes_up_keys() -> None:
    suite = CacheBackendConformance()
    with pytest.raises(AssertionError, match="mixed up"):
        await suite.test_keys_are_opaque_and_never_collide(_TruncatesKeys())
