"""Upgrading an older schema through ``_MIGRATIONS``: in order, once, all or nothing.

Only schema 1 exists today, so a hypothetical version 2 is patched in: it is the path every
future schema change will take, and it must keep a user's history.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from aether.errors import SessionStoreError
from aether.llm.contracts import Message
from aether_memory_sqlite import SQLiteSessionStore, _schema

TURN = [Message(role="user", content="q ☕"), Message(role="assistant", content="a")]


def _add_v2(ran: list[int]) -> Callable[[sqlite3.Connection], None]:
    def to_v2(conn: sqlite3.Connection) -> None:
        ran.append(1)
        conn.execute("CREATE TABLE aether_v2_marker (note TEXT)")
        conn.execute("INSERT INTO aether_v2_marker VALUES ('migrated')")

    return to_v2


def _user_version(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


async def _make_v1_store(path: Path) -> None:
    async with SQLiteSessionStore(path) as store:
        await store.append_turn("s", "t1", TURN)
    assert _user_version(path) == 1


async def test_an_older_file_is_upgraded_once_and_keeps_its_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.db"
    await _make_v1_store(path)
    ran: list[int] = []
    monkeypatch.setattr(_schema, "SCHEMA_VERSION", 2)
    monkeypatch.setitem(_schema._MIGRATIONS, 1, _add_v2(ran))

    async with SQLiteSessionStore(path) as store:
        assert await store.load("s") == TURN
        assert await store.append_turn("s", "t2", TURN) is True
    assert ran == [1]
    assert _user_version(path) == 2
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("SELECT note FROM aether_v2_marker").fetchall() == [("migrated",)]
    finally:
        conn.close()

    async with SQLiteSessionStore(path) as store:  # already current: not migrated again
        assert await store.load("s") == TURN + TURN
    assert ran == [1]


async def test_a_new_file_runs_every_step_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[int] = []
    monkeypatch.setattr(_schema, "SCHEMA_VERSION", 2)
    monkeypatch.setitem(_schema._MIGRATIONS, 1, _add_v2(ran))
    async with SQLiteSessionStore(tmp_path / "new.db") as store:
        await store.append_turn("s", "t1", TURN)
    assert ran == [1]
    assert _user_version(tmp_path / "new.db") == 2


async def test_a_failing_step_leaves_the_file_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.db"
    await _make_v1_store(path)

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE aether_half_done (x)")
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(_schema, "SCHEMA_VERSION", 2)
    monkeypatch.setitem(_schema._MIGRATIONS, 1, broken)
    async with SQLiteSessionStore(path) as store:
        with pytest.raises(SessionStoreError) as caught:
            await store.load("s")
    assert str(path) in str(caught.value)
    assert _user_version(path) == 1
    conn = sqlite3.connect(path)
    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    finally:
        conn.close()
    assert "aether_half_done" not in tables

    monkeypatch.setattr(_schema, "SCHEMA_VERSION", 1)  # this version still reads it whole
    async with SQLiteSessionStore(path) as store:
        assert await store.load("s") == TURN
