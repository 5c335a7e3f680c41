"""The tool-pack suite's checks fail on tools broken in their way."""

from __future__ import annotations

from typing import Any

import pytest

from aether.errors import ToolError
from aether.testing import ToolPackConformance
from aether.testing.tools import schema_problems
from aether.tools import make_tool


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


def suite(refusal: tuple[str, dict[str, Any]]) -> ToolPackConformance:
    class Suite(ToolPackConformance):
        distribution = "aether-unused"
        refusals = (refusal,)

    return Suite()


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
