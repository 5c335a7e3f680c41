"""The cache-backend conformance suite: subclass it to prove a backend keeps the contract.

    import pytest
    from aether.testing.caches import CacheBackendConformance

    class TestRedisCache(CacheBackendConformance):
        @pytest.fixture
        async def backend(self):
            cache = RedisCache(url, prefix=unique_prefix)
            yield cache
            await cache.aclose()

It checks what :class:`~aether.extensions.llm.caching.CacheBackend` promises and what the
response cache relies on: a missing key reads None; any bytes come back exactly (empty, NUL,
invalid UTF-8, a megabyte); a write replaces the value *and* its lifetime; ``delete`` of an
absent key is fine; an entry with a ``ttl`` disappears while one without stays; keys shaped
as the cache layer shapes them (``complete:`` plus a SHA-256 hex digest) never collide; many
tasks reading and writing at once see only whole values.

The ``backend`` fixture must give an empty backend with **no default ttl** for each test
(``ttl=None`` on ``set`` then means "keep until deleted"). Expiry is checked by polling with
a generous bound, never by asserting how fast something happened, so a loaded machine slows
the suite down instead of failing it. The tests are async: pytest-asyncio runs them when it is
installed, else the kit's pytest plugin runs them on a loop of its own (in pytest-asyncio's
strict mode an async ``backend`` fixture needs ``@pytest_asyncio.fixture``).
"""

from __future__ import annotations

import asyncio
import hashlib
import os

import pytest

from aether.extensions.llm.caching import CacheBackend

__all__ = ["CacheBackendConformance", "cache_keys", "tricky_values"]

SHORT_TTL = 0.05
"""Seconds an entry meant to expire lives: short, so the suite stays quick."""

EXPIRY_BOUND = 30.0
"""Seconds an expired entry may still be seen before the suite calls it a failure."""


def cache_keys(count: int, kind: str = "complete") -> list[str]:
    """Keys as the response cache makes them: ``KIND:`` and a SHA-256 hex digest."""
    return [f"{kind}:{hashlib.sha256(str(n).encode()).hexdigest()}" for n in range(count)]


def tricky_values() -> dict[str, bytes]:
    """Values that break naive backends: empty, NUL bytes, invalid UTF-8, every byte, 1 MB."""
    return {
        "empty": b"",
        "nul": b"\x00",
        "nuls": b"a\x00b\x00\x00c",
        "invalid utf-8": b"\xff\xfe\xc3(",
        "every byte": bytes(range(256)) * 4,
        "json": b'{"text": "na\xc3\xafve \xe2\x98\x95", "n": 1}',
        "one megabyte": os.urandom(1_000_000),
    }


async def _wait_until_gone(backend: CacheBackend, key: str) -> None:
    """Poll until ``key`` reads None; fail only past :data:`EXPIRY_BOUND` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + EXPIRY_BOUND
    while await backend.get(key) is not None:
        if loop.time() > deadline:
            pytest.fail(
                f"{key!r} was stored with ttl={SHORT_TTL} s and still reads back after "
                f"{EXPIRY_BOUND} s: the backend does not expire entries."
            )
        await asyncio.sleep(0.01)


class CacheBackendConformance:
    """Behaviour every :class:`~aether.extensions.llm.caching.CacheBackend` must have.

    Subclass it and override the ``backend`` fixture to give a new, empty backend without a
    default ttl.
    """

    pytestmark = pytest.mark.asyncio

    @pytest.fixture
    def backend(self) -> CacheBackend:
        """Override: an empty backend of the implementation under test, without default ttl."""
        raise NotImplementedError(
            "Subclasses provide a `backend` fixture returning an empty cache backend."
        )

    async def test_satisfies_the_protocol(self, backend: CacheBackend) -> None:
        assert isinstance(backend, CacheBackend)

    async def test_a_missing_key_reads_none(self, backend: CacheBackend) -> None:
        (key,) = cache_keys(1)
        assert await backend.get(key) is None

    async def test_any_bytes_round_trip_exactly(self, backend: CacheBackend) -> None:
        values = tricky_values()
        keys = dict(zip(values, cache_keys(len(values)), strict=True))
        for name, value in values.items():
            await backend.set(keys[name], value)
        for name, value in values.items():
            got = await backend.get(keys[name])
            assert got is not None, f"the {name!r} value was lost"
            assert type(got) is bytes, f"the {name!r} value came back as {type(got).__name__}"
            assert got == value, f"the {name!r} value came back changed"

    async def test_a_write_replaces_the_value(self, backend: CacheBackend) -> None:
        (key,) = cache_keys(1)
        await backend.set(key, b"first, and longer than the second")
        await backend.set(key, b"second")
        assert await backend.get(key) == b"second"
        await backend.set(key, b"")
        assert await backend.get(key) == b""

    async def test_delete_forgets_and_absent_keys_are_fine(self, backend: CacheBackend) -> None:
        kept, dropped, never = cache_keys(3)
        await backend.set(kept, b"kept")
        await backend.set(dropped, b"dropped")
        await backend.delete(dropped)
        assert await backend.get(dropped) is None
        assert await backend.get(kept) == b"kept"
        await backend.delete(dropped)  # twice is not an error
        await backend.delete(never)
        await backend.set(dropped, b"again")  # a deleted key can be written again
        assert await backend.get(dropped) == b"again"

    async def test_keys_are_opaque_and_never_collide(self, backend: CacheBackend) -> None:
        completes, streams = cache_keys(100), cache_keys(100, kind="stream")
        # Same digest under both kinds, prefixes of one another, bare digests: all distinct.
        keys = [*completes, *streams, completes[0][:20], completes[0][:-1], completes[0][9:]]
        for index, key in enumerate(keys):
            await backend.set(key, str(index).encode())
        for index, key in enumerate(keys):
            assert await backend.get(key) == str(index).encode(), f"key {key!r} was mixed up"
        assert await backend.get(completes[0].upper()) is None  # keys are case-sensitive

    async def test_an_entry_with_a_ttl_expires_and_one_without_stays(
        self, backend: CacheBackend
    ) -> None:
        short, forever, long_lived = cache_keys(3)
        await backend.set(forever, b"forever")
        await backend.set(long_lived, b"an hour", ttl=3600)
        await backend.set(short, b"briefly", ttl=SHORT_TTL)
        await _wait_until_gone(backend, short)
        assert await backend.get(forever) == b"forever"
        assert await backend.get(long_lived) == b"an hour"

    async def test_an_expired_key_can_be_written_again(self, backend: CacheBackend) -> None:
        (key,) = cache_keys(1)
        await backend.set(key, b"old", ttl=SHORT_TTL)
        await _wait_until_gone(backend, key)
        await backend.set(key, b"new")
        assert await backend.get(key) == b"new"
        await backend.delete(key)
        assert await backend.get(key) is None

    async def test_a_write_replaces_the_lifetime_too(self, backend: CacheBackend) -> None:
        renewed, probe = cache_keys(2)
        await backend.set(renewed, b"short-lived", ttl=SHORT_TTL)
        await backend.set(renewed, b"kept")  # no ttl now: the old expiry must not survive
        await backend.set(probe, b"probe", ttl=SHORT_TTL)
        await _wait_until_gone(backend, probe)  # the old expiry of `renewed` has passed too
        assert await backend.get(renewed) == b"kept"

    async def test_many_tasks_at_once_see_only_whole_values(self, backend: CacheBackend) -> None:
        own = cache_keys(50)
        (shared,) = cache_keys(1, kind="shared")
        written = {f"{task}-{n}".encode() * 100 for task in range(50) for n in range(10)}

        async def worker(task: int) -> None:
            for n in range(10):
                value = f"{task}-{n}".encode() * 100
                await backend.set(own[task], value)
                await backend.set(shared, value)
                assert await backend.get(own[task]) == value
                seen = await backend.get(shared)
                assert seen in written, "a concurrent reader saw a torn or foreign value"

        await asyncio.gather(*(worker(task) for task in range(50)))
        for task in range(50):
            assert await backend.get(own[task]) == f"{task}-9".encode() * 100
        assert await backend.get(shared) in written
