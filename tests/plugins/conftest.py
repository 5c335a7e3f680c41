from __future__ import annotations

import importlib.metadata
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from aether.plugins.manager import PluginManager
from aether.registry import Registry
from tests.support.plugins import EntryPoints, write_installed


class Site:
    """A folder of installed test distributions plus a manager/registry reading only it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.registry = Registry()
        self.manager = PluginManager(
            self.registry,
            distributions=lambda: importlib.metadata.distributions(path=[str(path)]),
        )
        self.registry._loader = self.manager
        self.packages: list[str] = []

    def add(
        self,
        dist: str,
        entry_points: EntryPoints,
        modules: dict[str, str],
        version: str = "1.0.0",
    ) -> None:
        write_installed(self.path, dist, version, entry_points, modules)
        self.packages.append(dist.replace("-", "_"))
        self.manager.refresh()


@pytest.fixture
def unique() -> Callable[[str], str]:
    """Distribution names unique to this test, so imported modules never leak across tests."""
    token = uuid.uuid4().hex[:8]
    return lambda base: f"{base}-{token}"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    path = tmp_path / "site"
    path.mkdir()
    sys.path.insert(0, str(path))
    made = Site(path)
    try:
        yield made
    finally:
        sys.path.remove(str(path))
        for name in list(sys.modules):
            if name.split(".")[0] in made.packages:
                del sys.modules[name]
