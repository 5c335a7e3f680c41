from __future__ import annotations

from collections.abc import Iterator

import pytest

from aether.registry import Registry, default_registry


@pytest.fixture(autouse=True)
def isolated_registry() -> Iterator[Registry]:
    """Tools registered by a test disappear after it."""
    with default_registry.isolated() as registry:
        yield registry
