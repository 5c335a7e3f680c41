"""``aether.extensions.tools``: the spec's import path for the reference tools (a shim)."""

from __future__ import annotations

import importlib
import sys

import pytest

import aether_tools_std
from aether.registry import default_registry
from aether.tools import get_tool

SHIM = "aether.extensions.tools"


def _import_shim_afresh(monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.delitem(sys.modules, SHIM, raising=False)
    return importlib.import_module(SHIM)


def test_reexports_the_installed_pack(monkeypatch: pytest.MonkeyPatch) -> None:
    shim = _import_shim_afresh(monkeypatch)
    assert shim.__all__ == aether_tools_std.__all__  # type: ignore[attr-defined]
    for name in aether_tools_std.__all__:
        assert getattr(shim, name) is getattr(aether_tools_std, name)


def test_its_tools_resolve_by_name_from_the_pack() -> None:
    import aether.extensions.tools  # noqa: F401  # the spec's line

    with default_registry.isolated():
        for name in ("get_current_time", "http_get", "read_file"):
            assert get_tool(name).name == name
            assert default_registry.entry("tool", name).source == "aether-tools-std"


def test_missing_pack_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "aether_tools_std", None)  # as if not installed
    with pytest.raises(ImportError, match="pip install aether-tools-std") as caught:
        _import_shim_afresh(monkeypatch)
    assert caught.value.name == "aether_tools_std"
    assert SHIM not in sys.modules  # a later import (after installing) tries again


def test_a_broken_dependency_of_the_pack_is_not_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    # The pack is there but something it imports is not: that error, not the install hint.
    for name in [m for m in sys.modules if m.split(".")[0] == "aether_tools_std"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "aether_tools_std._pack", None)
    with pytest.raises(ModuleNotFoundError) as caught:
        _import_shim_afresh(monkeypatch)
    assert caught.value.name == "aether_tools_std._pack"
    assert "pip install" not in str(caught.value)
