"""``import aether.extensions.tools``: the spec's import, served by whichever pack is installed."""

from __future__ import annotations

import importlib
import sys

import pytest

import aether.tools
from aether.errors import PluginLoadError
from aether.registry import default_registry
from aether.tools import get_tool

SHIM = "aether.extensions.tools"


def _import_afresh(monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.delitem(sys.modules, SHIM, raising=False)
    return importlib.import_module(SHIM)


def test_the_spec_import_makes_the_reference_tools_available(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with default_registry.isolated():
        shim = _import_afresh(monkeypatch)
        for name in shim.REFERENCE_TOOLS:  # type: ignore[attr-defined]
            assert get_tool(name).name == name
            # Provided by the installed pack, through its entry points: core names none.
            assert default_registry.entry("tool", name).source == "aether-tools-std"


def test_without_a_pack_the_import_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aether.tools, "list_tools", lambda **_: ["something_else"])
    with pytest.raises(ImportError, match=r"get_current_time, http_get, read_file.*pip install"):
        _import_afresh(monkeypatch)
    assert SHIM not in sys.modules  # a later import (after installing) tries again


def test_a_broken_pack_is_reported_at_the_import(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(name: str, **_: object) -> object:
        raise PluginLoadError("aether-tools-std", name, "ImportError: a dependency is missing")

    monkeypatch.setattr(aether.tools, "get_tool", broken)
    with pytest.raises(PluginLoadError, match=r"'get_current_time'.*a dependency is missing"):
        _import_afresh(monkeypatch)
