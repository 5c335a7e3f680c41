"""The in-memory store passes the store conformance suite."""

from __future__ import annotations

import pytest

from aether.extensions.memory import InMemorySessionStore
from aether.testing.stores import AppendableSessionStoreConformance


class TestInMemorySessionStore(AppendableSessionStoreConformance):
    @pytest.fixture
    def store(self) -> InMemorySessionStore:
        return InMemorySessionStore()
