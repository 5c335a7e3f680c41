"""aether-memory-sqlite runs the plugin author's kit: store suite, session guarantees, packaging."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from aether.testing import (
    ListableSessionStoreConformance,
    PackagingConformance,
    SessionGuaranteesConformance,
)
from aether_memory_sqlite import SQLiteSessionStore


class TestSQLiteStoreKit(ListableSessionStoreConformance):
    @pytest.fixture
    async def store(self, tmp_path: Path) -> AsyncIterator[SQLiteSessionStore]:
        made = SQLiteSessionStore(tmp_path / "kit.db")
        yield made
        await made.aclose()


class TestSQLiteSessionGuaranteesKit(SessionGuaranteesConformance):
    @pytest.fixture
    async def store(self, tmp_path: Path) -> AsyncIterator[SQLiteSessionStore]:
        made = SQLiteSessionStore(tmp_path / "kit.db")
        yield made
        await made.aclose()


class TestSQLitePackagingKit(PackagingConformance):
    distribution = "aether-memory-sqlite"
