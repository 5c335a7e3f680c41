"""``list_sessions()`` is optional: a store with the four methods alone is not listable.

What a listable store must do is the kit's :class:`~aether.testing.ListableSessionStoreConformance`,
run against the memory, SQLite and Redis stores in their conformance tests.
"""

from __future__ import annotations

from aether.memory import ListableSessionStore, SessionStore
from tests.memory._four_method_store import FourMethodStore


def test_a_store_with_the_four_methods_alone_is_not_listable() -> None:
    assert isinstance(FourMethodStore(), SessionStore)
    assert not isinstance(FourMethodStore(), ListableSessionStore)
