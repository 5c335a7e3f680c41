"""create_session_store: the spec format, resolution through the registry, clear errors."""

from __future__ import annotations

from typing import Any

import pytest

from aether.errors import ConfigurationError, PluginNotFoundError
from aether.extensions.memory import InMemorySessionStore
from aether.memory import create_session_store, parse_store_spec
from aether.registry import Registry


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("memory", ("memory", {})),
        (" memory ", ("memory", {})),
        ("sqlite:///var/lib/s.db", ("sqlite", {"location": "/var/lib/s.db"})),
        ("sqlite://s.db?timeout=3", ("sqlite", {"location": "s.db", "timeout": "3"})),
        ("sqlite://", ("sqlite", {})),
        (
            "sqlite?timeout=3&synchronous=NORMAL",
            ("sqlite", {"timeout": "3", "synchronous": "NORMAL"}),
        ),
        ("redis://:p%40ss@host:6379/0", ("redis", {"location": ":p%40ss@host:6379/0"})),
    ],
)
def test_parse_store_spec(spec: str, expected: tuple[str, dict[str, str]]) -> None:
    assert parse_store_spec(spec) == expected


@pytest.mark.parametrize(
    "spec", ["", "://x", "-bad", "a b", "x?=1", "x?a=1&a=2", "x://l?location=y"]
)
def test_malformed_specs_are_configuration_errors(spec: str) -> None:
    with pytest.raises(ConfigurationError):
        parse_store_spec(spec)


def test_default_is_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AETHER_SESSION_STORE", raising=False)
    assert isinstance(create_session_store(), InMemorySessionStore)
    monkeypatch.setenv("AETHER_SESSION_STORE", "memory")
    assert isinstance(create_session_store(), InMemorySessionStore)


def test_unknown_names_list_what_is_available() -> None:
    with pytest.raises(PluginNotFoundError, match="memory"):
        create_session_store("nosuchstore")


def _stores() -> Registry:
    registry = Registry()
    registry.add("session_store", "memory", InMemorySessionStore)
    registry.add("session_store", "sqlite", InMemorySessionStore)
    return registry


def test_a_mistyped_store_name_suggests_the_closest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AETHER_SESSION_STORE", "sqlit:///var/lib/app/sessions.db")
    with pytest.raises(PluginNotFoundError) as caught:
        create_session_store(registry=_stores())
    assert caught.value.suggestions == ("sqlite",)
    assert caught.value.setting == "AETHER_SESSION_STORE"
    message = str(caught.value)
    assert message.startswith(
        "No session store named 'sqlit' (from AETHER_SESSION_STORE). Did you mean 'sqlite'? "
        "Available: memory, sqlite."
    )
    assert "/var/lib" not in message  # a location may hold a password: never echoed


def test_an_explicit_spec_does_not_blame_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AETHER_SESSION_STORE", "memory")
    with pytest.raises(PluginNotFoundError) as caught:
        create_session_store("memroy", registry=_stores())
    assert caught.value.setting is None
    assert str(caught.value).startswith("No session store named 'memroy'. Did you mean 'memory'?")


def test_location_and_options_reach_the_factory() -> None:
    registry = Registry()
    seen: dict[str, Any] = {}

    def factory(location: str | None = None, *, ttl: str = "0") -> InMemorySessionStore:
        seen.update(location=location, ttl=ttl)
        return InMemorySessionStore()

    registry.add("session_store", "custom", factory)
    store = create_session_store("custom://host/db?ttl=60", registry=registry)
    assert isinstance(store, InMemorySessionStore)
    assert seen == {"location": "host/db", "ttl": "60"}


def test_options_the_factory_does_not_take_are_refused_without_values() -> None:
    with pytest.raises(ConfigurationError, match="location") as caught:
        create_session_store("memory://:secret@host")
    assert "secret" not in str(caught.value)
    with pytest.raises(ConfigurationError, match="size"):
        create_session_store("memory?size=3")


def test_a_factory_must_build_a_store() -> None:
    registry = Registry()
    registry.add("session_store", "bogus", lambda: object())
    with pytest.raises(ConfigurationError, match="SessionStore methods"):
        create_session_store("bogus", registry=registry)
