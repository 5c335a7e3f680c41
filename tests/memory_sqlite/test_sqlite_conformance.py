"""The SQLite store passes the store conformance suite and the session guarantees."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from aether.testing.stores import ListableSessionStoreConformance, SessionGuaranteesConformance
from aether_memory_sqlite import SQLiteSessionStore


class TestSQLiteSessionStoreOnFile(ListableSessionStoreConformance):
    @pytest.fixture
    async def store(self, tmp_path: Path) -> AsyncIterator[SQLiteSessionStore]:
        store = SQLiteSessionStore(tmp_path / "sessions.db")
        yield store
        await store.aclose()


class TestSQLiteSessionStoreInMemory(ListableSessionStoreConformance):
    @pytest.fixture
    async def store(self) -> AsyncIterator[SQLiteSessionStore]:
        store = SQLiteSessionStore(":memory:")
        yield store
        await store.aclose()


class TestSQLiteSessionGuarantees(SessionGuaranteesConformance):
    """On a real file with the default ``synchronous=FULL``: every turn is one fsynced commit."""

    @pytest.fixture
    async def store(self, tmp_path: Path) -> AsyncIterator[SQLiteSessionStore]:
        store = SQLiteSessionStore(tmp_path / "sessions.db")
        yield store
        await store.aclose()
