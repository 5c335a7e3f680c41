"""A store with only the four spec methods passes the store suite and the session guarantees."""

from __future__ import annotations

import pytest

from aether.memory import AppendableSessionStore, SessionStore
from aether.testing.stores import SessionGuaranteesConformance, SessionStoreConformance
from tests.memory._four_method_store import FourMethodStore


class TestFourMethodStore(SessionStoreConformance):
    @pytest.fixture
    def store(self) -> FourMethodStore:
        return FourMethodStore()


class TestFourMethodStoreSessionGuarantees(SessionGuaranteesConformance):
    @pytest.fixture
    def store(self) -> FourMethodStore:
        return FourMethodStore()


def test_it_is_only_a_four_method_store() -> None:
    # So the session really takes its load + save path with this store.
    assert isinstance(FourMethodStore(), SessionStore)
    assert not isinstance(FourMethodStore(), AppendableSessionStore)
