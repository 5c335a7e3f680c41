"""The tool-pack suite's checks fail on tools broken in their way."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Mapping
from typing import Any, cast

import pytest

from aether.errors import ToolError
from aether.testing import ToolPackConformance
from aether.testing.tools import schema_problems
from aether.tools import Tool, make_tool


def crashes(path: str) -> str:
    """Read a file.

    Args:
        path: Which file.
    """
    if path.startswith("/"):
        raise PermissionError(f"cannot read {path}")
    return "ok"


def refuses(path: str) -> str:
    """Read a file.

    Args:
        path: Which file.
    """
    if path.startswith("/"):
        raise ToolError(f"Refused: {path} is outside the sandbox.")
    return "ok"


class AcceptsAnything:
    """A tool object that never validates what the model sent.

    Core's :class:`Tool` always validates (it is final); these stand for what a plugin or a
    registry could hand out instead, which the suite must refuse.
    """

    name = "read"

    async def run(self, arguments: Mapping[str, Any], *, timeout: float | None = None) -> Any:
        return "ok"


class CrashesOnWrongArguments(AcceptsAnything):
    async def run(self, arguments: Mapping[str, Any], *, timeout: float | None = None) -> Any:
        return arguments["path"]  # KeyError: not content the model can read


def suite(
    refusal: tuple[str, dict[str, Any]], distribution: str = "aether-unused"
) -> ToolPackConformance:
    class Suite(ToolPackConformance):
        refusals = (refusal,)

    Suite.distribution = distribution
    return Suite()


def std_tools() -> dict[str, Tool]:
    """One tool for each name aether-tools-std declares, registered under that name."""
    declared = importlib.metadata.distribution("aether-tools-std").entry_points
    names = [ep.name for ep in declared if ep.group == "aether.tools"]
    assert len(names) >= 2
    return {name: make_tool(refuses, name=name) for name in names}


def test_a_refusal_raised_as_tool_error_passes() -> None:
    tools = {"read": make_tool(refuses, name="read")}
    suite(("read", {"path": "/etc/shadow"})).test_refusals_come_back_as_content(tools)
    suite(("read", {"path": "/x"})).test_wrong_arguments_come_back_as_content(tools)


def test_a_refusal_that_crashes_fails() -> None:
    tools = {"read": make_tool(crashes, name="read")}
    with pytest.raises(AssertionError, match="crashed with PermissionError"):
        suite(("read", {"path": "/etc/shadow"})).test_refusals_come_back_as_content(tools)


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "string"}, "must be an object schema"),
        ({"type": "object", "properties": {"a": {"type": "str"}}}, "'str' is not a JSON Schema"),
        ({"type": "object", "properties": {}, "required": ["a"]}, "which is not in properties"),
        ({"type": "object", "properties": {"a": {"$ref": "#/$defs/B"}}}, "does not point"),
        ({"type": "object", "properties": {"a": {"typo": 1}}}, "unknown keyword 'typo'"),
        ({"type": "object", "properties": {"a": {"default": float("nan")}}}, "is not JSON"),
    ],
)
def test_schema_problems_are_found(schema: dict[str, Any], expected: str) -> None:
    problems = schema_problems(schema)
    assert problems and expected in problems[0], problems


def test_generated_schemas_have_no_problems() -> None:
    assert schema_problems(make_tool(refuses).parameters) == []
    nested = {
        "type": "object",
        "properties": {"a": {"anyOf": [{"$ref": "#/$defs/B"}, {"type": "null"}]}},
        "$defs": {"B": {"type": "object", "properties": {"x": {"type": "integer"}}}},
        "required": ["a"],
    }
    assert schema_problems(nested) == []


def test_a_tool_that_accepts_wrong_arguments_fails() -> None:
    tools = cast(dict[str, Tool], {"read": AcceptsAnything()})
    with pytest.raises(AssertionError, match="'read', 'ok'"):
        suite(("read", {"path": "/x"})).test_wrong_arguments_come_back_as_content(tools)


def test_a_tool_that_crashes_on_wrong_arguments_fails() -> None:
    tools = cast(dict[str, Tool], {"read": CrashesOnWrongArguments()})
    with pytest.raises(KeyError):
        suite(("read", {"path": "/x"})).test_wrong_arguments_come_back_as_content(tools)


def test_a_distribution_without_tools_fails() -> None:
    with pytest.raises(AssertionError, match=r"declares no 'aether\.tools' entry points"):
        suite(("", {}), "aether-memory-sqlite").test_declares_at_least_one_tool()


def test_the_real_tools_register_under_their_names() -> None:
    suite(("", {}), "aether-tools-std").test_each_declared_tool_registers_under_its_name(
        std_tools()
    )


def test_a_declared_tool_that_does_not_register_fails() -> None:
    tools = std_tools()
    del tools["read_file"]
    with pytest.raises(AssertionError):
        suite(("", {}), "aether-tools-std").test_each_declared_tool_registers_under_its_name(tools)


def test_a_tool_registered_under_another_name_fails() -> None:
    tools = std_tools()
    tools["read_file"] = make_tool(refuses, name="read")
    with pytest.raises(AssertionError):
        suite(("", {}), "aether-tools-std").test_each_declared_tool_registers_under_its_name(tools)
