"""Arguments too deep or too large are invalid arguments the model reads, never a RecursionError."""

from __future__ import annotations

from typing import Any

import pytest

from aether.errors import ToolArgumentsError
from aether.extensions.llm.fake import FakeProvider
from aether.llm.contracts import RAW_ARGUMENTS_KEY, ToolCall
from aether.tools import Tool, dispatch_tool, make_tool
from aether.tools.arguments import MAX_ARGUMENT_DEPTH, MAX_ARGUMENT_SIZE, check_shape, short_repr
from tests.tools.test_loop import BOTH_LOOPS, answer, calls, final_text, tool_messages


def nested(levels: int) -> list[Any]:
    """A list nested ``levels`` deep: ``[[[...]]]``."""
    root: list[Any] = []
    node = root
    for _ in range(levels - 1):
        child: list[Any] = []
        node.append(child)
        node = child
    return root


def takes_int(x: int) -> int:
    return x


def takes_anything(x: list[Any]) -> int:
    return 1


SCHEMA_TOOL = Tool.from_schema(
    "schema_tool", {"properties": {"x": {"type": "array"}}}, function=lambda arguments: 1
)


@pytest.mark.parametrize(
    "tool",
    [make_tool(takes_int), make_tool(takes_anything), SCHEMA_TOOL],
    ids=["type-mismatch", "any-list", "schema"],
)
async def test_arguments_thousands_of_levels_deep_are_invalid_arguments(tool: Tool) -> None:
    call = ToolCall(id="c1", name=tool.name, arguments={"x": nested(50_000)})
    result = await dispatch_tool(call, [tool])
    assert isinstance(result.error, ToolArgumentsError)
    assert result.content == (
        f"Error: The arguments for tool {tool.name!r} are nested more than 64 levels deep. "
        f"Call {tool.name!r} again with flatter arguments."
    )


def test_the_depth_limit_is_exact() -> None:
    check_shape("t", {"x": nested(MAX_ARGUMENT_DEPTH - 1)})  # the arguments object is level 1
    with pytest.raises(ToolArgumentsError, match="nested more than 64"):
        check_shape("t", {"x": nested(MAX_ARGUMENT_DEPTH)})


def test_objects_count_toward_the_depth_as_arrays_do() -> None:
    node: dict[str, Any] = {}
    root = node
    for _ in range(MAX_ARGUMENT_DEPTH):
        node["k"] = {}
        node = node["k"]
    with pytest.raises(ToolArgumentsError, match="nested more than"):
        check_shape("t", root)


@pytest.mark.parametrize(
    "arguments",
    [
        {"text": "x" * (MAX_ARGUMENT_SIZE + 1)},
        {"items": [0] * (MAX_ARGUMENT_SIZE + 1)},
        {"rows": [{"k": "v" * 1000}] * (MAX_ARGUMENT_SIZE // 1000)},
        {f"k{i}": 1 for i in range(MAX_ARGUMENT_SIZE // 4)},
    ],
    ids=["one-string", "long-list", "many-strings", "many-keys"],
)
def test_arguments_larger_than_the_limit_are_refused(arguments: dict[str, Any]) -> None:
    with pytest.raises(ToolArgumentsError, match="too large"):
        check_shape("t", arguments)


def test_ordinary_arguments_pass() -> None:
    check_shape("t", {"text": "x" * 100_000, "rows": [{"id": i} for i in range(1000)]})


def test_a_circular_structure_built_in_code_is_refused_by_depth() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(ToolArgumentsError, match="nested more than"):
        check_shape("t", {"x": loop})


@BOTH_LOOPS
async def test_the_loop_answers_a_deep_call_with_an_error_and_goes_on(streamed: bool) -> None:
    ran: list[int] = []

    def count(x: list[Any]) -> int:
        ran.append(1)
        return len(x)

    fake = FakeProvider(
        responses=[
            calls(("c1", "count", {"x": nested(10_000)})),
            calls(("c2", "count", {"x": [1, 2]})),
            answer("two"),
        ]
    )
    assert await final_text(fake, [make_tool(count)], streamed=streamed) == "two"
    assert ran == [1]
    [(_, content)] = tool_messages(fake.calls[1])
    assert "nested more than 64 levels deep" in content


async def test_error_messages_quote_the_models_values_briefly() -> None:
    result = await dispatch_tool(
        ToolCall(id="c1", name="takes_int", arguments={"x": {"a": nested(40), "b": "z" * 500}}),
        [make_tool(takes_int)],
    )
    assert result.error is not None
    assert len(result.content) < 300
    raw = await dispatch_tool(
        ToolCall(id="c2", name="takes_int", arguments={RAW_ARGUMENTS_KEY: "{" * 100_000}),
        [make_tool(takes_int)],
    )
    assert "were not a JSON object" in raw.content and len(raw.content) < 300


def test_short_repr_bounds_depth_and_length() -> None:
    assert short_repr("abc") == "'abc'"
    assert len(short_repr(nested(5000))) <= 80
    assert len(short_repr({"k": "v" * 10_000})) <= 80
