"""The public surfaces list exactly their public names, sorted."""

from __future__ import annotations

import importlib

import pytest

from tests.support.exports import public_names

PACKAGES = [
    "aether.memory",
    "aether.extensions.memory",
    "aether.testing",
    "aether_memory_sqlite",
    "aether_memory_redis.testing",
]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_exactly_the_public_names_sorted(name: str) -> None:
    module = importlib.import_module(name)
    public = public_names(module)
    assert list(module.__all__) == sorted(module.__all__)
    assert set(module.__all__) == public


def test_spec_import_paths() -> None:
    from aether import Session, SessionStore
    from aether.extensions.memory import InMemorySessionStore
    from aether.memory.session import Session as SessionClass

    assert Session is SessionClass
    assert isinstance(InMemorySessionStore(), SessionStore)
