from __future__ import annotations

import pytest

from aether import register
from aether.errors import (
    ConfigurationError,
    PluginConflictError,
    PluginNotFoundError,
    UnknownProviderError,
)
from aether.extensions.llm.factory import create_provider
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
    assert caught.value.suggestions == ()
    assert "Did you mean" not in str(caught.value)


def test_missing_name_of_any_kind_suggests_the_closest() -> None:
    registry = Registry()
    for name in ("pinecone", "qdrant", "chroma"):
        registry.add("vector_store", name, object())
    with pytest.raises(PluginNotFoundError) as caught:
        registry.get("vector_store", "pincone")
    error = caught.value
    assert isinstance(error, LookupError)
    assert (error.kind, error.name) == ("vector_store", "pincone")
    assert error.available == ("chroma", "pinecone", "qdrant")
    assert error.suggestions == ("pinecone",)
    assert str(error) == (
        "No vector store named 'pincone'. Did you mean 'pinecone'? Available: chroma, "
        "pinecone, qdrant. Register it in code, or if a plugin provides it, install that "
        "plugin (`aether plugins` lists what is installed)."
    )


def test_unknown_provider_suggests_installed_names_and_invents_no_package(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    registry = Registry()
    for name in ("openai", "gemini", "fake"):
        registry.add("provider", name, object)
    monkeypatch.setenv("LLM_PROVIDER", "opnai")
    with pytest.raises(UnknownProviderError) as caught:
        create_provider(registry=registry)
    error = caught.value
    assert isinstance(error, ConfigurationError) and isinstance(error, LookupError)
    assert (error.name, error.available, error.suggestions) == (
        "opnai",
        ("fake", "gemini", "openai"),
        ("openai",),
    )
    message = str(error)
    assert message.startswith("Unknown LLM provider 'opnai'. Did you mean 'openai'? ")
    assert "Installed providers: fake, gemini, openai." in message
    assert "if a plugin provides 'opnai', install that plugin" in message
    # Core cannot know which distribution provides a name; a guessed one could belong to an
    # unrelated project on the package index.
    assert "pip install" not in message and "aether-opnai" not in message


@pytest.mark.parametrize("bad", ["", " x", "x "])
def test_bad_names(bad: str) -> None:
    with pytest.raises(ValueError):
        Registry().add("tool", bad, 1)


def test_builtins_come_through_entry_points() -> None:
    entry = default_registry.entry("provider", "fake")
    assert entry.source == "aether-core"
    assert entry.obj.__name__ == "FakeProvider"
    assert default_registry.entry("session_store", "memory").source == "aether-core"
