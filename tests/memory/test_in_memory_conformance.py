"""The in-memory store passes the store conformance suite and the session guarantees."""

from __future__ import annotations

import pytest

from aether.extensions.memory import InMemorySessionStore
from aether.testing.stores import ListableSessionStoreConformance, SessionGuaranteesConformance


class TestInMemorySessionStore(ListableSessionStoreConformance):
    @pytest.fixture
    def store(self) -> InMemorySessionStore:
        return InMemorySessionStore()


class TestInMemorySessionGuarantees(SessionGuaranteesConformance):
    @pytest.fixture
    def store(self) -> InMemorySessionStore:
        return InMemorySessionStore()
