"""Tool construction: from a schema, strict mode, and the functions a tool refuses to be."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from aether.errors import ConfigurationError, ToolArgumentsError, ToolExecutionError
from aether.registry import Registry
from aether.tools import Tool, dispatch_tool, get_tool, make_tool, register_tool, resolve_tools

WEATHER = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "minLength": 2},
        "unit": {"enum": ["c", "f"]},
    },
    "required": ["city"],
    "additionalProperties": False,
}


# --- Tool.from_schema ------------------------------------------------------------------


async def test_a_schema_tool_gets_its_arguments_validated_as_one_private_dict() -> None:
    received: list[dict[str, Any]] = []

    def weather(arguments: dict[str, Any]) -> dict[str, Any]:
        received.append(arguments)
        arguments["city"] = "changed by the tool"
        return {"temp": 21}

    tool = Tool.from_schema("get_weather", WEATHER, description="Weather now", function=weather)
    sent = {"city": "Oslo", "unit": "c"}
    assert await tool.run(sent) == {"temp": 21}
    assert received == [{"city": "changed by the tool", "unit": "c"}]
    assert sent == {"city": "Oslo", "unit": "c"}  # the model's arguments are untouched
    assert (tool.spec.name, tool.spec.description, tool.spec.parameters) == (
        "get_weather",
        "Weather now",
        WEATHER,
    )


async def test_a_schema_tool_passes_property_names_python_could_not_take_as_keywords() -> None:
    async def forward(arguments: dict[str, Any]) -> list[str]:
        return sorted(arguments)

    schema = {"properties": {"from": {"type": "string"}, "content-type": {"type": "string"}}}
    tool = Tool.from_schema("forward", schema, function=forward)
    assert tool.is_async
    assert await tool.run({"from": "a", "content-type": "b"}) == ["content-type", "from"]


async def test_invalid_arguments_never_reach_the_function_and_say_what_is_wrong() -> None:
    called: list[Any] = []
    tool = Tool.from_schema("get_weather", WEATHER, function=called.append)
    with pytest.raises(ToolArgumentsError) as info:
        await tool.run({"city": "P", "unit": "k", "extra": 1})
    message = str(info.value)
    assert message.startswith("Invalid arguments for tool 'get_weather': ")
    assert "city: must be at least 2 characters long" in message
    assert "unit: must be one of ['c', 'f'] (got 'k')" in message
    assert "extra: unexpected property" in message
    with pytest.raises(ToolArgumentsError, match="city: required but missing"):
        await tool.run({})
    assert called == []


async def test_a_schema_tool_error_reaches_the_model_through_dispatch() -> None:
    from aether.llm.contracts import ToolCall

    tool = Tool.from_schema("get_weather", WEATHER, function=lambda arguments: "sunny")
    result = await dispatch_tool(ToolCall(id="c1", name="get_weather", arguments={}), [tool])
    assert isinstance(result.error, ToolArgumentsError)
    assert result.content.startswith("Error: Invalid arguments for tool 'get_weather'")
    ok = await dispatch_tool(
        ToolCall(id="c2", name="get_weather", arguments={"city": "Rome"}), [tool]
    )
    assert (ok.content, ok.error) == ("sunny", None)


def test_the_schema_is_copied_and_completed_to_an_object_schema() -> None:
    parameters: dict[str, Any] = {"properties": {"q": {"type": "string"}}}
    tool = Tool.from_schema("search", parameters)
    parameters["properties"]["q"]["type"] = "integer"
    assert tool.parameters == {"type": "object", "properties": {"q": {"type": "string"}}}
    assert Tool.from_schema("ping", {}).parameters == {"type": "object", "properties": {}}


@pytest.mark.parametrize(
    ("parameters", "fragment"),
    [
        ({"type": "string"}, "must describe an object"),
        ({"type": "object", "default": {1, 2}}, "not a JSON document"),
        ({"type": "object", "minimum": float("nan")}, "not a JSON document"),
        ([("type", "object")], "got list"),
    ],
)
def test_a_schema_that_is_not_a_json_object_schema_is_refused(
    parameters: Any, fragment: str
) -> None:
    with pytest.raises(ConfigurationError, match=fragment):
        Tool.from_schema("search", parameters)


def test_a_deeply_nested_schema_is_a_configuration_error_not_a_recursion_error() -> None:
    deep: dict[str, Any] = {"type": "object"}
    node = deep
    for _ in range(5000):
        node["properties"] = {"x": {"type": "object"}}
        node = node["properties"]["x"]
    with pytest.raises(ConfigurationError, match="not a JSON document"):
        Tool.from_schema("deep", deep)


def test_a_schema_tool_name_follows_the_same_rules_as_a_function_tools() -> None:
    with pytest.raises(ConfigurationError, match="not accepted by every provider"):
        Tool.from_schema("server.search", {"type": "object"})
    with pytest.raises(TypeError, match="must be callable"):
        Tool.from_schema("search", {}, function="not a function")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="timeout must be > 0"):
        Tool.from_schema("search", {}, function=print, timeout=0)


def test_a_broken_reference_is_refused_when_the_tool_is_built() -> None:
    schema = {"type": "object", "properties": {"a": {"$ref": "#/$defs/Missing"}}}
    with pytest.raises(ConfigurationError, match=r"'search'.*points at nothing"):
        Tool.from_schema("search", schema, function=print)
    # A deferred tool is never validated here, so its schema is only the provider's business.
    assert Tool.from_schema("search", schema).deferred


async def test_a_deferred_tool_cannot_be_run_here() -> None:
    tool = Tool.from_schema("ask_user", {"properties": {"q": {"type": "string"}}})
    assert tool.deferred and tool.function is None
    assert repr(tool) == "Tool(name='ask_user', deferred)"
    with pytest.raises(ToolExecutionError, match="without a function"):
        await tool.run({"q": "?"})


def test_schema_tools_register_and_resolve_like_any_tool() -> None:
    registry = Registry()
    tool = Tool.from_schema("ask_user", {}, strict=True)
    register_tool(tool, registry=registry)
    assert get_tool("ask_user", registry=registry) is tool
    registry.add("tool", "alias", tool)
    alias = get_tool("alias", registry=registry)
    assert (alias.name, alias.spec.name, alias.strict, alias.deferred) == (
        "alias",
        "alias",
        True,
        True,
    )
    assert tool.name == "ask_user"  # the original is not renamed
    assert resolve_tools([tool]) == [tool]


# --- strict ----------------------------------------------------------------------------


def test_strict_reaches_the_spec_from_every_way_of_declaring_a_tool() -> None:
    registry = Registry()

    @register_tool(strict=True, registry=registry)
    def add(a: int, b: int) -> int:
        return a + b

    assert get_tool("add", registry=registry).spec.strict is True
    assert make_tool(add, name="plus", strict=True).spec.strict is True
    assert Tool.from_schema("s", {}, strict=True).spec.strict is True
    assert make_tool(add, name="plain").spec.strict is False
    registry.add("tool", "sum", get_tool("add", registry=registry))
    assert get_tool("sum", registry=registry).spec.strict is True  # kept by an alias


# --- refused functions -----------------------------------------------------------------


def numbers() -> Iterator[int]:
    yield 1


async def stream_numbers() -> AsyncIterator[int]:
    yield 1


class Streamer:
    async def __call__(self) -> AsyncIterator[int]:
        yield 1


@pytest.mark.parametrize(
    ("function", "kind"),
    [
        (numbers, "a generator function"),
        (stream_numbers, "an async generator function"),
        (functools.partial(stream_numbers), "an async generator function"),
        (Streamer(), "an async generator function"),
    ],
    ids=["generator", "async-generator", "partial", "callable-object"],
)
def test_generator_functions_are_refused_wherever_a_tool_is_made(function: Any, kind: str) -> None:
    expected = f"is {kind}.*return a list instead"
    registry = Registry()
    with pytest.raises(TypeError, match=expected):
        make_tool(function, name="items")
    with pytest.raises(TypeError, match=expected):
        register_tool(name="items", registry=registry)(function)
    with pytest.raises(TypeError, match=expected):
        resolve_tools([function])
    with pytest.raises(TypeError, match=expected):
        Tool.from_schema("items", {}, function=function)
    assert registry.available("tool") == []


def test_a_generator_method_is_refused_too() -> None:
    class Pack:
        def items(self) -> Iterator[int]:
            yield 1

    with pytest.raises(TypeError, match="is a generator function"):
        make_tool(Pack().items)


async def test_a_plain_function_returning_a_list_is_still_fine() -> None:
    def items() -> list[int]:
        return [1, 2]

    assert await asyncio.wait_for(make_tool(items).run({}), 5) == [1, 2]
