from __future__ import annotations

import pytest

from aether import register
from aether.errors import PluginConflictError, PluginNotFoundError
from aether.registry import Registry, default_registry


def test_register_decorator_with_metadata() -> None:
    with default_registry.isolated():

        @register("vector_store", "pinecone", dimension=1536)
        class PineconeStore:
            pass

        entry = default_registry.entry("vector_store", "pinecone")
        assert entry.obj is PineconeStore
        assert entry.metadata["dimension"] == 1536
        assert entry.source == "<code>"
    assert "pinecone" not in default_registry.list_kind("vector_store")


def test_lazy_registration_builds_once() -> None:
    registry = Registry()
    calls: list[int] = []

    def build() -> str:
        calls.append(1)
        return "made"

    registry.register_lazy("db", "x", build)
    assert calls == []
    assert registry.get("db", "x") == "made"
    assert registry.get("db", "x") == "made"
    assert calls == [1]


def test_code_may_replace_but_distributions_conflict() -> None:
    registry = Registry()
    registry.add("tool", "t", 1)
    registry.add("tool", "t", 2)
    assert registry.get("tool", "t") == 2
    registry.add("kind", "n", 1, source="dist-a")
    with pytest.raises(PluginConflictError, match="dist-a, dist-b"):
        registry.add("kind", "n", 2, source="dist-b")
    # A plugin never overwrites what application code registered.
    assert registry.add("tool", "t", 3, source="dist-c").obj == 2


def test_missing_lists_available() -> None:
    registry = Registry()
    registry.add("tool", "a", 1)
    with pytest.raises(PluginNotFoundError) as caught:
        registry.get("tool", "b")
    assert "Available: a" in str(caught.value)


@pytest.mark.parametrize("bad", ["", " x", "x "])
def test_bad_names(bad: str) -> None:
    with pytest.raises(ValueError):
        Registry().add("tool", bad, 1)


def test_builtins_come_through_entry_points() -> None:
    entry = default_registry.entry("provider", "fake")
    assert entry.source == "aether-core"
    assert entry.obj.__name__ == "FakeProvider"
    assert default_registry.entry("session_store", "memory").source == "aether-core"
