"""ToolSchemaCache: a provider's schema translation runs once per distinct tool."""

from __future__ import annotations

from typing import Any

import pytest

from aether.llm.contracts import ToolSpec
from aether.tools import ToolSchemaCache, make_tool
from aether.tools.json_schema import SchemaIssue, inline_refs, strip_keys


class CountingTransform:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, parameters: dict[str, Any]) -> tuple[dict[str, Any], list[SchemaIssue]]:
        self.calls += 1
        schema = strip_keys(inline_refs(parameters), {"additionalProperties", "title"})
        return schema, [SchemaIssue("", "additionalProperties", "dropped")]


def locate(street: str, city: str = "Paris") -> str:
    return f"{street}, {city}"


def test_translated_once_per_tool_and_issues_reported_once() -> None:
    transform = CountingTransform()
    issues: list[tuple[str, str]] = []
    cache = ToolSchemaCache(
        transform, on_issue=lambda spec, issue: issues.append((spec.name, str(issue)))
    )
    spec = make_tool(locate).spec
    first = cache.parameters(spec)
    assert cache.parameters(spec) is first
    assert first == {
        "type": "object",
        "properties": {
            "street": {"type": "string"},
            "city": {"type": "string", "default": "Paris"},
        },
        "required": ["street"],
    }
    assert spec.parameters["additionalProperties"] is False  # the input is untouched
    rebuilt = ToolSpec(name=spec.name, description="other text", parameters=dict(spec.parameters))
    assert cache.parameters(rebuilt) is first  # same content: a hit
    assert transform.calls == 1
    assert issues == [("locate", "'additionalProperties' at /: dropped")]


def test_bounded_least_recently_used_first_out() -> None:
    transform = CountingTransform()
    cache = ToolSchemaCache(transform, maxsize=2)
    specs = [make_tool(locate, name=f"t{i}").spec for i in range(3)]
    for spec in specs:
        cache.parameters(spec)
    assert "2/2" in repr(cache)
    cache.parameters(specs[2])
    assert transform.calls == 3
    cache.parameters(specs[0])  # evicted: translated again
    assert transform.calls == 4
    with pytest.raises(ValueError, match="maxsize"):
        ToolSchemaCache(transform, maxsize=0)
