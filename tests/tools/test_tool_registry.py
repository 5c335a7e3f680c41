"""@register_tool, get_tool, list_tools and resolve_tools (names, objects, plugins)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import aether.tools as tools_module
from aether.errors import ConfigurationError, ToolNotFoundError
from aether.registry import Registry, default_registry
from aether.tools import Tool, get_tool, list_tools, make_tool, register_tool, resolve_tools
from tests.support.exports import public_names


def test_register_tool_with_options_returns_the_function_unchanged() -> None:
    @register_tool(description="Add two numbers")
    def add(a: int, b: int) -> int:
        return a + b

    assert add(2, 3) == 5  # still an ordinary function
    tool = get_tool("add")
    assert isinstance(tool, Tool)
    assert tool.function is add
    assert tool.spec.description == "Add two numbers"
    assert "add" in list_tools()


def test_register_tool_bare_and_async() -> None:
    @register_tool
    async def shout(text: str) -> str:
        """Upper-case some text."""
        return text.upper()

    tool = get_tool("shout")
    assert tool.is_async
    assert tool.description == "Upper-case some text."


def test_register_tool_with_a_name_and_a_prebuilt_tool() -> None:
    @register_tool(name="plus", timeout=2.0)
    def add(a: int, b: int) -> int:
        return a + b

    assert get_tool("plus").timeout == 2.0
    built = make_tool(add, name="sum_two")
    assert register_tool(built) is built
    assert get_tool("sum_two") is built


def test_registering_a_name_again_replaces_the_tool() -> None:
    @register_tool(name="pick")
    def first() -> str:
        return "first"

    @register_tool(name="pick")
    def second() -> str:
        return "second"

    assert get_tool("pick").function is second


def test_registry_isolation_between_tests() -> None:
    assert "add" not in default_registry.list_kind("tool")


def test_register_tool_rejects_non_callables() -> None:
    with pytest.raises(TypeError, match="decorates a function"):
        register_tool(42)  # type: ignore[call-overload]


def test_unknown_name_is_a_tool_not_found_error_listing_what_exists() -> None:
    register_tool(make_tool(lambda: 1, name="one"))
    with pytest.raises(ToolNotFoundError, match=r"No tool named 'nope'.*one") as info:
        get_tool("nope")
    assert isinstance(info.value, LookupError)
    with pytest.raises(ToolNotFoundError):
        resolve_tools(["nope"])


def test_a_mistyped_tool_name_suggests_the_closest() -> None:
    @register_tool
    def add(a: int, b: int) -> int:
        return a + b

    register_tool(make_tool(lambda: 1, name="mul"))
    with pytest.raises(ToolNotFoundError) as info:
        resolve_tools(["ad"])
    message = str(info.value)
    assert message.startswith("No tool named 'ad'. Did you mean 'add'? Available tools: ")
    assert "add" in message and "mul" in message
    assert "if a tool pack provides it, install that tool pack" in message


def test_resolve_tools_accepts_names_tools_and_functions_in_order() -> None:
    @register_tool
    def add(a: int, b: int) -> int:
        return a + b

    def mul(a: int, b: int) -> int:
        return a * b

    built = make_tool(lambda: "x", name="x")
    resolved = resolve_tools(["add", built, mul, add])
    assert [t.name for t in resolved] == ["add", "x", "mul"]
    assert resolved[0] is get_tool("add")  # a decorated function reuses its tool
    assert resolve_tools([add])[0] is resolved[0]


def test_resolve_tools_rejects_two_different_tools_with_one_name_and_bad_items() -> None:
    def add(a: int) -> int:
        return a

    with pytest.raises(ConfigurationError, match="Two different tools are named 'add'"):
        resolve_tools([make_tool(add), make_tool(add)])
    with pytest.raises(TypeError, match="got 42"):
        resolve_tools([42])  # type: ignore[list-item]
    with pytest.raises(TypeError, match=r"use \['add'\]"):
        resolve_tools("add")


class _ToolPackLoader:
    """A registry loader standing in for an installed tool pack that registers a function."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.loaded: list[str] = []

    def load_name(self, kind: str, name: str) -> bool:
        if kind != "tool" or name != "echo":
            return False
        self.loaded.append(name)

        def echo(text: str) -> str:
            """Repeat the text."""
            return text

        self.registry.add("tool", "echo", echo, source="aether-echo-pack")
        return True

    def declared_names(self, kind: str) -> list[str]:
        return ["echo"] if kind == "tool" else []


def test_tools_from_a_pack_resolve_by_name_and_are_built_once() -> None:
    registry = Registry()
    loader = _ToolPackLoader(registry)
    registry._loader = loader
    assert list_tools(registry=registry) == ["echo"]  # listed without loading
    assert loader.loaded == []
    first = get_tool("echo", registry=registry)
    assert first.description == "Repeat the text."
    assert get_tool("echo", registry=registry) is first
    assert registry.entry("tool", "echo").source == "aether-echo-pack"
    assert loader.loaded == ["echo"]


def test_a_registered_tool_under_another_name_is_renamed() -> None:
    registry = Registry()
    registry.add("tool", "alias", make_tool(lambda: 1, name="original"))
    assert get_tool("alias", registry=registry).name == "alias"


def test_a_registered_non_callable_is_a_configuration_error() -> None:
    registry = Registry()
    registry.add("tool", "broken", 42)
    with pytest.raises(ConfigurationError, match="not a function or Tool"):
        get_tool("broken", registry=registry)


def test_installed_tool_pack_through_entry_points(tmp_path: Path) -> None:
    import importlib.metadata
    import sys
    import uuid

    from aether.plugins.manager import PluginManager
    from tests.support.plugins import write_installed

    dist = f"toolpack-{uuid.uuid4().hex[:8]}"
    package = dist.replace("-", "_")
    write_installed(
        tmp_path,
        dist,
        "1.0.0",
        {"aether.tools": {"reverse": f"{package}.plugin"}},
        {
            f"{package}.plugin": '''
from aether.plugins import hookimpl
from aether.tools import make_tool

def reverse(text: str) -> str:
    """Reverse a string.

    Args:
        text: What to reverse.
    """
    return text[::-1]

@hookimpl
def register_tools(register):
    register("reverse", make_tool(reverse))
'''
        },
    )
    registry = Registry()
    registry._loader = PluginManager(
        registry, distributions=lambda: importlib.metadata.distributions(path=[str(tmp_path)])
    )
    sys.path.insert(0, str(tmp_path))
    try:
        [tool] = resolve_tools(["reverse"], registry=registry)
        assert tool.parameters["properties"]["text"]["description"] == "What to reverse."
        assert registry.entry("tool", "reverse").source == dist
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.split(".")[0] == package]:
            del sys.modules[name]


def test_public_surface_is_sorted_and_complete() -> None:
    public = public_names(tools_module)
    modules = {"dispatch", "json_schema", "loop", "registry", "schema", "tool", "transform"}
    assert tools_module.__all__ == sorted(tools_module.__all__)
    assert set(tools_module.__all__) == public - modules


def test_raw_arguments_key_matches_the_http_helpers() -> None:
    from aether.http import RAW_ARGUMENTS_KEY, parse_tool_arguments

    assert RAW_ARGUMENTS_KEY == tools_module.RAW_ARGUMENTS_KEY
    assert parse_tool_arguments('{"a": 1') == {tools_module.RAW_ARGUMENTS_KEY: '{"a": 1'}


def test_an_undecorated_function_gets_its_schema_built_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import aether.tools.tool as tool_module

    built: list[str] = []
    real = tool_module.build_arguments_schema

    def counting(function: Any, *, name: str, descriptions: dict[str, str]) -> Any:
        built.append(name)
        return real(function, name=name, descriptions=descriptions)

    monkeypatch.setattr(tool_module, "build_arguments_schema", counting)

    def mul(a: int, b: int) -> int:
        return a * b

    first = resolve_tools([mul])[0]
    assert resolve_tools([mul])[0] is first
    assert built == ["mul"]


def test_a_wrapper_copying_the_attributes_of_a_tool_function_gets_its_own_tool() -> None:
    import functools

    def mul(a: int, b: int) -> int:
        return a * b

    original = resolve_tools([mul])[0]

    @functools.wraps(mul)  # copies mul.__dict__, the cached tool included
    def doubled(a: int, b: int) -> int:
        return 2 * mul(a, b)

    [wrapped] = resolve_tools([doubled])
    assert wrapped is not original
    assert wrapped.function is doubled
