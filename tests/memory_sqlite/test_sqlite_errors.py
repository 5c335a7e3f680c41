"""Files the store cannot use are refused with a clear error and never reset."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from aether.errors import ConfigurationError, SessionStoreError
from aether.llm.contracts import Message
from aether_memory_sqlite import (
    APPLICATION_ID,
    SCHEMA_VERSION,
    SQLiteSessionStore,
    create_sqlite_store,
)

TURN = [Message(role="user", content="q"), Message(role="assistant", content="a")]


async def test_a_new_file_gets_the_schema_wal_and_its_marks(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    async with SQLiteSessionStore(path) as store:
        await store.append_turn("s", "t", TURN)
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA application_id").fetchone() == (APPLICATION_ID,)
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        conn.close()


async def test_a_file_that_is_not_a_database_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    content = b"these are my notes, not a database\n" * 200
    path.write_bytes(content)
    async with SQLiteSessionStore(path) as store:
        with pytest.raises(SessionStoreError, match="not an SQLite database") as caught:
            await store.load("s")
    assert str(path) in str(caught.value)
    assert path.read_bytes() == content


async def test_another_applications_database_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO users (name) VALUES ('alice')")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    async with SQLiteSessionStore(path) as store:
        with pytest.raises(SessionStoreError, match="another application") as caught:
            await store.append_turn("s", "t", TURN)
    assert str(path) in str(caught.value)
    assert path.read_bytes() == before  # not even switched to WAL


async def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "newer.db"
    async with SQLiteSessionStore(path) as store:
        await store.append_turn("s", "t", TURN)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    async with SQLiteSessionStore(path) as store:
        with pytest.raises(SessionStoreError, match="newer aether-memory-sqlite") as caught:
            await store.load("s")
    assert "pip install -U aether-memory-sqlite" in str(caught.value)
    assert str(path) in str(caught.value)


async def test_a_corrupted_file_is_reported_not_reset(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.db"
    async with SQLiteSessionStore(path) as store:
        for n in range(50):
            await store.append_turn("s", f"t{n}", TURN * 20)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = bytearray(path.read_bytes())
    page = 4096
    data[page:] = b"\xa5" * (len(data) - page)  # every page but the header page
    path.write_bytes(bytes(data))
    async with SQLiteSessionStore(path) as store:
        with pytest.raises(SessionStoreError, match="corrupted") as caught:
            await store.load("s")
    assert str(path) in str(caught.value)
    assert path.read_bytes() == bytes(data)


async def test_a_missing_directory_says_what_to_check(tmp_path: Path) -> None:
    path = tmp_path / "missing" / "s.db"
    async with SQLiteSessionStore(path) as store:
        with pytest.raises(SessionStoreError, match="directory exists") as caught:
            await store.exists("s")
    assert str(path) in str(caught.value)


async def test_a_read_only_database_says_so(tmp_path: Path) -> None:
    # SQLite's own read-only path (root ignores file permissions, so chmod cannot show it).
    path = tmp_path / "ro.db"
    async with SQLiteSessionStore(path) as store:
        await store.append_turn("s", "t0", TURN)
        await store._run("making it read-only", _pragma, "query_only", 1)
        with pytest.raises(SessionStoreError, match="read-only") as caught:
            await store.append_turn("s", "t1", TURN)
        assert str(path) in str(caught.value)
        assert await store.load("s") == TURN


async def test_a_full_disk_fails_cleanly_and_keeps_the_history(tmp_path: Path) -> None:
    path = tmp_path / "full.db"
    async with SQLiteSessionStore(path) as store:
        await store.append_turn("s", "t0", TURN)
        # SQLite's own "disk full" path, without filling a real disk.
        await store._run("limiting the file", _pragma, "max_page_count", 8)
        big = [Message(role="user", content="x" * 200_000)]
        with pytest.raises(SessionStoreError, match="free disk space") as caught:
            await store.append_turn("s", "t1", big)
        assert str(path) in str(caught.value)
        assert await store.load("s") == TURN
        await store._run("lifting the limit", _pragma, "max_page_count", 1_000_000)
        assert await store.append_turn("s", "t1", big) is True


def _pragma(conn: sqlite3.Connection, name: str, value: int) -> None:
    conn.execute(f"PRAGMA {name} = {value}")


async def test_a_closed_store_refuses_calls(tmp_path: Path) -> None:
    store = SQLiteSessionStore(tmp_path / "closed.db")
    await store.append_turn("s", "t", TURN)
    await store.aclose()
    await store.aclose()  # closing twice is fine
    store.close()
    with pytest.raises(SessionStoreError, match="closed"):
        await store.load("s")


async def test_the_store_recovers_once_the_file_is_fixed(tmp_path: Path) -> None:
    path = tmp_path / "later.db"
    path.write_bytes(b"garbage" * 1000)
    async with SQLiteSessionStore(path) as store:
        with pytest.raises(SessionStoreError):
            await store.load("s")
        path.unlink()
        assert await store.append_turn("s", "t", TURN) is True


def test_bad_arguments_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        SQLiteSessionStore(tmp_path / "x.db", timeout=-1)
    with pytest.raises(TypeError):
        SQLiteSessionStore(tmp_path / "x.db", timeout="10")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        SQLiteSessionStore(tmp_path / "x.db", synchronous="OFF")  # type: ignore[arg-type]


async def test_bad_turns_are_rejected_before_any_write(tmp_path: Path) -> None:
    async with SQLiteSessionStore(tmp_path / "x.db") as store:
        with pytest.raises(ValueError):
            await store.append_turn("s", "", TURN)
        with pytest.raises(ValueError):
            await store.save("s", ["not a message"])  # type: ignore[list-item]
        assert await store.exists("s") is False


def test_factory_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AETHER_SQLITE_PATH", raising=False)
    with pytest.raises(ConfigurationError, match="AETHER_SQLITE_PATH"):
        create_sqlite_store()
    with pytest.raises(ConfigurationError, match="timeout"):
        create_sqlite_store(str(tmp_path / "x.db"), timeout="soon")
    with pytest.raises(ConfigurationError, match="timeout"):
        create_sqlite_store(str(tmp_path / "x.db"), timeout="inf")
    with pytest.raises(ConfigurationError, match="synchronous"):
        create_sqlite_store(str(tmp_path / "x.db"), synchronous="off")
    monkeypatch.setenv("AETHER_SQLITE_TIMEOUT", "2.5")
    store = create_sqlite_store(str(tmp_path / "x.db"), synchronous="extra")
    assert store.path == str(tmp_path / "x.db")
    store.close()


async def test_a_writer_holding_the_lock_too_long_gives_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "busy.db"
    async with SQLiteSessionStore(path, timeout=0.05) as store:
        await store.append_turn("s", "t0", TURN)
        other = sqlite3.connect(path, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            with pytest.raises(SessionStoreError, match="busy timeout") as caught:
                await store.append_turn("s", "t1", TURN)
            assert str(path) in str(caught.value)
            other.execute("ROLLBACK")
        finally:
            other.close()
        assert await store.append_turn("s", "t1", TURN) is True
        assert await store.load("s") == TURN + TURN
