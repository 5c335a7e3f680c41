"""Every module of the kit keeps a sorted ``__all__`` of names it really defines."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import aether.testing

MODULES = sorted(
    f"aether.testing.{info.name}"
    for info in pkgutil.iter_modules(aether.testing.__path__)
    if info.name != "_probe"  # a script run in a clean interpreter, not imported
)


@pytest.mark.parametrize("name", ["aether.testing", *MODULES])
def test_all_is_sorted_and_defined(name: str) -> None:
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert exported == sorted(exported), f"{name}.__all__ is not sorted: use sorted()"
    assert len(set(exported)) == len(exported), f"{name}.__all__ repeats a name"
    missing = [n for n in exported if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ names what it does not define: {missing}"
