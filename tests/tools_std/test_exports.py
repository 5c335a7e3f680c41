"""aether_tools_std's public surface and packaging metadata."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import aether_tools_std
from aether_tools_std import StdTools
from tests.support.exports import public_names


def test_all_is_sorted_and_complete() -> None:
    assert aether_tools_std.__all__ == sorted(aether_tools_std.__all__)
    assert aether_tools_std.__all__ == ["StdTools", "blocked_reason", "parse_host_address"]
    public = public_names(aether_tools_std)
    assert public == set(aether_tools_std.__all__)
    assert StdTools.__module__ == "aether_tools_std._pack"


def test_one_entry_point_per_tool_all_naming_the_plugin_module() -> None:
    eps = [
        ep
        for ep in importlib.metadata.entry_points(group="aether.tools")
        if ep.dist is not None and ep.dist.name == "aether-tools-std"
    ]
    assert sorted(ep.name for ep in eps) == ["get_current_time", "http_get", "read_file"]
    assert {ep.value for ep in eps} == {"aether_tools_std._plugin"}


def test_py_typed_marker_present() -> None:
    assert (Path(aether_tools_std.__file__).parent / "py.typed").is_file()


def test_the_model_chooses_only_each_tools_own_argument() -> None:
    """Limits, the root and the allow-list are the operator's; none is in a schema."""
    tools = {tool.name: tool for tool in StdTools().tools()}
    assert sorted(tools) == ["get_current_time", "http_get", "read_file"]
    assert set(tools["http_get"].parameters["properties"]) == {"url"}
    assert set(tools["read_file"].parameters["properties"]) == {"path"}
    assert set(tools["get_current_time"].parameters["properties"]) == {"timezone"}
    assert tools["http_get"].parameters["required"] == ["url"]
    assert "public" in tools["http_get"].description
    assert "relative" in tools["read_file"].parameters["properties"]["path"]["description"]
