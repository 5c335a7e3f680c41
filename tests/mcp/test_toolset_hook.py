"""The core hook MCP servers use: any object with ``aether_tools()`` in ``tools=[...]``."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from aether.errors import ConfigurationError, ToolNotFoundError
from aether.registry import Registry
from aether.tools import Tool, ToolSet, resolve_tools


def tool(name: str) -> Tool:
    return Tool.from_schema(name, {"type": "object"}, function=lambda arguments: name)


class Pack:
    def __init__(self, *names: str) -> None:
        self.tools = {name: tool(name) for name in names}

    def __repr__(self) -> str:
        return f"Pack({', '.join(self.tools)})"

    def aether_tools(self, *names: str) -> Sequence[Tool]:
        missing = [name for name in names if name not in self.tools]
        if missing:
            raise ToolNotFoundError(f"no {missing[0]!r}")
        return [self.tools[name] for name in names] if names else list(self.tools.values())


def test_a_toolset_is_expanded_in_place() -> None:
    pack = Pack("a", "b")
    single = tool("c")
    assert isinstance(pack, ToolSet)
    assert [t.name for t in resolve_tools([single, pack])] == ["c", "a", "b"]


def test_a_registered_toolset_by_name_and_by_member(isolated_registry: Registry) -> None:
    isolated_registry.add("tool", "pack", Pack("a", "b"))
    assert [t.name for t in resolve_tools(["pack"])] == ["a", "b"]
    assert [t.name for t in resolve_tools(["pack.b"])] == ["b"]
    with pytest.raises(ToolNotFoundError, match="no 'zzz'"):
        resolve_tools(["pack.zzz"])
    with pytest.raises(ToolNotFoundError, match=r"No tool named 'other\.b'"):
        resolve_tools(["other.b"])


def test_a_clash_names_where_each_tool_came_from() -> None:
    with pytest.raises(ConfigurationError, match=r"from Pack\(a\) and Pack\(a, b\)"):
        resolve_tools([Pack("a"), Pack("a", "b")])


def test_a_toolset_must_yield_tools() -> None:
    class Broken:
        def aether_tools(self, *names: str) -> Sequence[object]:
            return ["not a tool"]

    with pytest.raises(TypeError, match="must return Tool objects"):
        resolve_tools([Broken()])  # type: ignore[list-item]
