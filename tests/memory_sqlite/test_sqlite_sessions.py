"""Sessions on the SQLite store: sharing a file, surviving a reopen, selection by spec.

The session guarantees (concurrency included) run from the kit in test_sqlite_conformance.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from aether import Aether
from aether.extensions.llm.fake import FakeProvider
from aether.memory import create_session_store
from aether_memory_sqlite import SQLiteSessionStore


async def test_two_stores_on_one_file_share_sessions(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    async with SQLiteSessionStore(path) as first, SQLiteSessionStore(path) as second:
        a = Aether(FakeProvider(canned_response="a"), memory_store=first).session("alice")
        b = Aether(FakeProvider(canned_response="b"), memory_store=second).session("alice")
        await a.ask("one")
        await b.ask("two")
        await a.ask("three")
        assert [m.content for m in await b.history()] == ["one", "a", "two", "b", "three", "a"]


async def test_history_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "durable.db"
    async with SQLiteSessionStore(path) as store:
        await Aether(FakeProvider(), memory_store=store).session("s").ask("remember me")
    async with SQLiteSessionStore(path) as store:
        history = await Aether(FakeProvider(), memory_store=store).session("s").history()
    assert [m.content for m in history] == ["remember me", "You said: remember me"]


async def test_selected_by_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "env.db"
    monkeypatch.setenv("AETHER_SESSION_STORE", f"sqlite://{path}?timeout=3&synchronous=normal")
    client = Aether(FakeProvider())
    store = client.memory_store
    assert isinstance(store, SQLiteSessionStore)
    assert store.path == str(path)
    await client.session("s").ask("hi")
    await store.aclose()
    assert path.exists()


async def test_selected_by_name_and_path_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AETHER_SQLITE_PATH", str(tmp_path / "var.db"))
    store = create_session_store("sqlite")
    assert isinstance(store, SQLiteSessionStore)
    assert store.path == str(tmp_path / "var.db")
    store.close()
