"""The SQLite response-cache backend: the conformance suite, expiry, its bound, its file.

Several processes share one cache file: a second process is served from the first one's
answers without calling its provider, through the client and the backend's entry point.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from aether.errors import ConfigurationError, SessionStoreError
from aether.extensions.llm.cache_config import create_cache
from aether.extensions.llm.caching import CachingProvider, cache_key
from aether.extensions.llm.fake import FakeProvider
from aether.llm.contracts import LLMRequest, Message
from aether.testing import CacheBackendConformance
from aether.testing.caches import cache_keys
from aether_memory_sqlite import SQLiteCache, SQLiteSessionStore, create_sqlite_cache

CHILD = Path(__file__).parents[1] / "support" / "cache_child.py"
REQUEST = LLMRequest(messages=[Message(role="user", content="hi")], model="m", temperature=0.0)


class TestSQLiteCacheOnFile(CacheBackendConformance):
    @pytest.fixture
    async def backend(self, tmp_path: Path) -> AsyncIterator[SQLiteCache]:
        cache = SQLiteCache(tmp_path / "cache.db")
        yield cache
        await cache.aclose()


class TestSQLiteCacheBounded(CacheBackendConformance):
    """With a bound the suite's entries fit in, so purges run during the suite too."""

    @pytest.fixture
    async def backend(self, tmp_path: Path) -> AsyncIterator[SQLiteCache]:
        cache = SQLiteCache(tmp_path / "cache.db", max_entries=1000)
        yield cache
        await cache.aclose()


class TestSQLiteCacheInMemory(CacheBackendConformance):
    @pytest.fixture
    async def backend(self) -> AsyncIterator[SQLiteCache]:
        cache = SQLiteCache(":memory:")
        yield cache
        await cache.aclose()


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def _rows(path: Path) -> list[tuple[str, float | None]]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT key, expires_at FROM aether_cache ORDER BY rowid").fetchall()


async def test_expiry_is_an_absolute_time_every_process_agrees_on(tmp_path: Path) -> None:
    path, clock = tmp_path / "cache.db", Clock()
    async with SQLiteCache(path, clock=clock) as writer, SQLiteCache(path, clock=clock) as reader:
        await writer.set("k", b"v", ttl=10)
        assert _rows(path) == [("k", clock.now + 10)]
        clock.now += 9.9
        assert await reader.get("k") == b"v"
        clock.now += 0.1
        assert await reader.get("k") is None
        assert len(_rows(path)) == 1  # a read never writes: the row waits for a purge


async def test_default_ttl_applies_and_a_call_ttl_overrides_it(tmp_path: Path) -> None:
    clock = Clock()
    async with SQLiteCache(tmp_path / "cache.db", ttl=60, clock=clock) as cache:
        await cache.set("default", b"d")
        await cache.set("own", b"o", ttl=600)
        clock.now += 61
        assert await cache.get("default") is None
        assert await cache.get("own") == b"o"


async def test_expired_rows_are_purged_by_writes_and_by_purge(tmp_path: Path) -> None:
    path, clock = tmp_path / "cache.db", Clock()
    async with SQLiteCache(path, clock=clock) as cache:
        for key in cache_keys(5):
            await cache.set(key, b"x", ttl=1)
        await cache.set("kept", b"k")
        clock.now += 2
        assert await cache.purge() == 5
        assert [key for key, _ in _rows(path)] == ["kept"]
        await cache.set("short", b"s", ttl=1)  # not a write that tidies
    clock.now += 2
    assert [key for key, _ in _rows(path)] == ["kept", "short"]
    async with SQLiteCache(path, clock=clock) as again:
        await again.set("next", b"n")  # a new process's first write tidies
        assert [key for key, _ in _rows(path)] == ["kept", "next"]


async def test_the_bound_drops_the_least_recently_written(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    keys = cache_keys(30)
    async with SQLiteCache(path, max_entries=10) as cache:
        for key in keys[:10]:
            await cache.set(key, key.encode())
        await cache.set(keys[0], b"rewritten")  # now the most recently written
        for key in keys[10:]:
            await cache.set(key, key.encode())
        assert [key for key, _ in _rows(path)] == keys[20:]
        assert await cache.get(keys[0]) is None
        assert await cache.get(keys[29]) == keys[29].encode()


async def test_a_large_bound_is_enforced_within_its_purge_interval(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    async with SQLiteCache(path, max_entries=1000) as cache:
        for key in cache_keys(1500):
            await cache.set(key, b"v")
        assert 1000 <= len(_rows(path)) <= 1000 + 100
        await cache.purge()
        assert len(_rows(path)) == 1000


async def test_a_cache_refuses_a_session_store_file_and_the_store_a_cache_file(
    tmp_path: Path,
) -> None:
    sessions, cache_file = tmp_path / "sessions.db", tmp_path / "cache.db"
    async with SQLiteSessionStore(sessions) as store:
        await store.save("s", [Message(role="user", content="keep me")])
    async with SQLiteCache(sessions) as cache:
        with pytest.raises(SessionStoreError, match="is an Aether session store, not a cache"):
            await cache.get("k")
    async with SQLiteSessionStore(sessions) as store:
        assert [m.content for m in await store.load("s")] == ["keep me"]

    async with SQLiteCache(cache_file) as cache:
        await cache.set("k", b"v")
    async with SQLiteSessionStore(cache_file) as store:
        with pytest.raises(SessionStoreError, match="another application"):
            await store.load("s")


async def test_foreign_and_broken_files_are_refused_and_left_alone(tmp_path: Path) -> None:
    foreign, text = tmp_path / "foreign.db", tmp_path / "notes.txt"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE mine (x)")
    text.write_bytes(b"not a database, but somebody's notes" * 100)
    before = foreign.read_bytes()
    async with SQLiteCache(foreign) as cache:
        with pytest.raises(SessionStoreError, match="another application"):
            await cache.set("k", b"v")
    async with SQLiteCache(text) as cache:
        with pytest.raises(SessionStoreError, match="not an SQLite database"):
            await cache.get("k")
    assert foreign.read_bytes() == before
    assert text.read_bytes() == b"not a database, but somebody's notes" * 100


async def test_a_newer_layout_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    async with SQLiteCache(path) as cache:
        await cache.set("k", b"v")
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 99")
    async with SQLiteCache(path) as cache:
        with pytest.raises(SessionStoreError, match="newer aether-memory-sqlite"):
            await cache.get("k")


async def test_a_closed_cache_says_so(tmp_path: Path) -> None:
    cache = SQLiteCache(tmp_path / "cache.db")
    await cache.set("k", b"v")
    await cache.aclose()
    await cache.aclose()  # twice is fine
    with pytest.raises(SessionStoreError, match="closed"):
        await cache.get("k")


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"ttl": 0}, ValueError),
        ({"ttl": float("inf")}, ValueError),
        ({"ttl": "60"}, TypeError),
        ({"max_entries": 0}, ValueError),
        ({"max_entries": True}, ValueError),
        ({"timeout": -1}, ValueError),
        ({"synchronous": "OFF"}, ValueError),
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        SQLiteCache(":memory:", **kwargs)  # type: ignore[arg-type]


def test_repr_names_the_file_and_bounds() -> None:
    assert repr(SQLiteCache("c.db", ttl=5, max_entries=9)) == (
        "SQLiteCache('c.db', ttl=5.0, max_entries=9)"
    )


# --- the factory and the plugin ------------------------------------------------------------


def test_factory_reads_options_as_text(tmp_path: Path) -> None:
    cache = create_sqlite_cache(
        str(tmp_path / "c.db"), ttl="60", max_entries="500", timeout="3", synchronous="full"
    )
    assert (cache.path, cache.ttl, cache.max_entries) == (str(tmp_path / "c.db"), 60.0, 500)
    unbounded = create_sqlite_cache(str(tmp_path / "c.db"), ttl="0", max_entries="0")
    assert (unbounded.ttl, unbounded.max_entries) == (None, None)


def test_factory_defaults_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AETHER_SQLITE_CACHE_PATH", str(tmp_path / "env.db"))
    monkeypatch.setenv("AETHER_SQLITE_TIMEOUT", "4")
    cache = create_sqlite_cache(max_entries="7")
    assert (cache.path, cache.ttl, cache.max_entries) == (str(tmp_path / "env.db"), None, 7)
    assert cache._timeout == 4.0
    from_spec = create_cache("sqlite?max_entries=9")
    assert isinstance(from_spec, SQLiteCache)
    assert (from_spec.path, from_spec.max_entries) == (str(tmp_path / "env.db"), 9)


@pytest.mark.parametrize(
    "options",
    [{"ttl": "soon"}, {"ttl": "-1"}, {"max_entries": "many"}, {"timeout": "nan"}],
)
def test_factory_refuses_bad_options(tmp_path: Path, options: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError, match="sqlite cache"):
        create_sqlite_cache(str(tmp_path / "c.db"), **options)
    with pytest.raises(ConfigurationError, match="synchronous"):
        create_sqlite_cache(str(tmp_path / "c.db"), synchronous="off")


def test_factory_needs_a_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AETHER_SQLITE_CACHE_PATH", raising=False)
    with pytest.raises(ConfigurationError, match="AETHER_SQLITE_CACHE_PATH"):
        create_sqlite_cache()


async def test_the_spec_finds_the_backend_through_its_entry_point(tmp_path: Path) -> None:
    cache = create_cache(f"sqlite://{tmp_path}/spec.db?ttl=60&max_entries=100")
    assert isinstance(cache, SQLiteCache)
    assert (cache.path, cache.ttl, cache.max_entries) == (str(tmp_path / "spec.db"), 60.0, 100)
    await cache.aclose()


# --- through the response cache --------------------------------------------------------------


async def test_a_corrupt_or_truncated_row_is_a_miss(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    async with SQLiteCache(path) as cache:
        layer = CachingProvider(FakeProvider(responses=["first", "second", "third"]), cache, "f")
        assert (await layer.complete(REQUEST)).text == "first"
        key = "complete:" + cache_key("f", REQUEST)
        with sqlite3.connect(path) as conn:
            conn.execute(
                "UPDATE aether_cache SET value = substr(value, 1, length(value) / 2) WHERE key = ?",
                (key,),
            )
        assert (await layer.complete(REQUEST)).text == "second"
        with sqlite3.connect(path) as conn:
            conn.execute("UPDATE aether_cache SET value = 'plain text' WHERE key = ?", (key,))
        assert (await layer.complete(REQUEST)).text == "third"
        assert (await layer.complete(REQUEST)).text == "third"  # the fresh answer was kept


async def _child(spec: str, answer: str) -> dict[str, object]:
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        str(CHILD),
        spec,
        answer,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(child.communicate(), 120)
    assert child.returncode == 0, err.decode()
    result: dict[str, object] = json.loads(out.decode().strip().splitlines()[-1])
    return result


async def test_a_second_process_is_served_from_the_first_ones_answers(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    spec = f"sqlite://{path}"
    first = await _child(spec, "Paris, from the first process")
    assert first["text"] == "Paris, from the first process" and first["calls"] == 2
    assert "".join(first["stream"]) == "Paris, from the first process"  # type: ignore[arg-type]
    second = await _child(spec, "an answer the second process must not need")
    assert second == {**first, "calls": 0}

    with sqlite3.connect(path) as conn:  # damage every entry, as a crashed writer might
        conn.execute("UPDATE aether_cache SET value = substr(value, 1, length(value) - 3)")
    third = await _child(spec, "asked again")
    assert third["calls"] == 2 and third["text"] == "asked again"
    fourth = await _child(spec, "not needed either")
    assert fourth == {**third, "calls": 0}


async def test_processes_writing_at_once_all_land(tmp_path: Path) -> None:
    spec = f"sqlite://{tmp_path / 'busy.db'}"
    results = await asyncio.gather(*(_child(spec, f"answer {n}") for n in range(4)))
    # Whichever finished its question first was served to the later ones, or each asked:
    # either way every process got a whole answer one of them gave.
    answers = {f"answer {n}" for n in range(4)}
    assert all(result["text"] in answers for result in results)
    final = await _child(spec, "late")
    assert final["calls"] == 0 and final["text"] in answers
