"""The tool-pack conformance suite: subclass it to prove a distribution's tools keep the contract.

    from aether.testing import ToolPackConformance

    class TestAcmeTools(ToolPackConformance):
        distribution = "aether-acme-tools"
        refusals = [("read_file", {"path": "/etc/shadow"})]

Each name the distribution declares under ``aether.tools`` is loaded through core's plugin
manager into a private registry (the process-wide one is untouched) and checked: it registers,
its schema is a JSON Schema every provider accepts, wrong arguments and the author's refusal
cases come back as content the model reads, never as an exception.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import json
from collections.abc import Coroutine, Mapping, Sequence
from typing import Any, ClassVar

import pytest

from aether.errors import ToolError, ToolExecutionError
from aether.llm.contracts import ToolCall
from aether.plugins.manager import PluginManager, group_for
from aether.registry import Registry
from aether.tools import Tool, dispatch_tool, make_tool
from aether.tools.registry import TOOL_KIND

__all__ = ["ToolPackConformance", "schema_problems"]

_GROUP = group_for(TOOL_KIND)
_SCHEMA_KEYS = frozenset(
    {
        "type", "properties", "required", "items", "enum", "const", "anyOf", "oneOf", "allOf",
        "$ref", "$defs", "description", "title", "default", "format", "minimum", "maximum",
        "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "pattern", "minItems",
        "maxItems", "uniqueItems", "additionalProperties", "nullable", "examples", "not",
        "prefixItems", "minProperties", "maxProperties", "multipleOf", "propertyNames",
    }
)  # fmt: skip
_TYPES = frozenset({"object", "array", "string", "number", "integer", "boolean", "null"})


def schema_problems(schema: Any, path: str = "parameters") -> list[str]:
    """Why ``schema`` is not a JSON Schema of an arguments object (empty when it is fine).

    Structural checks only (no validator library needed): the root is an object schema,
    ``required`` names declared properties, types are JSON Schema types, ``$ref`` points into
    ``$defs``, and the whole is JSON.
    """
    try:
        json.dumps(schema, allow_nan=False)
    except (TypeError, ValueError) as exc:
        return [f"{path} is not JSON ({exc})"]
    if not isinstance(schema, dict) or schema.get("type") != "object":
        return [f"{path} must be an object schema ({{'type': 'object', ...}}), got {schema!r}"]
    defs = schema.get("$defs", {})
    return _walk(schema, path, defs if isinstance(defs, dict) else {})


def _walk(node: Any, path: str, defs: Mapping[str, Any]) -> list[str]:
    if isinstance(node, bool):
        return []
    if not isinstance(node, dict):
        return [f"{path} must be a schema object, got {node!r}"]
    problems = [f"{path}: unknown keyword {k!r}" for k in node if k not in _SCHEMA_KEYS]
    kind = node.get("type")
    kinds = kind if isinstance(kind, list) else [kind] if kind is not None else []
    problems += [f"{path}: {k!r} is not a JSON Schema type" for k in kinds if k not in _TYPES]
    ref = node.get("$ref")
    if ref is not None and not (
        isinstance(ref, str) and ref.startswith("#/$defs/") and ref[8:] in defs
    ):
        problems.append(f"{path}: $ref {ref!r} does not point at an entry of $defs")
    properties = node.get("properties", {})
    if not isinstance(properties, dict):
        return [*problems, f"{path}.properties must be an object"]
    required = node.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        problems.append(f"{path}.required must be a list of property names")
    else:
        problems += [
            f"{path}.required names {r!r}, which is not in properties"
            for r in required
            if r not in properties
        ]
    children: list[tuple[str, Any]] = [(f"{path}.properties.{k}", v) for k, v in properties.items()]
    children += [(f"{path}.$defs.{k}", v) for k, v in node.get("$defs", {}).items()]
    for key in ("items", "additionalProperties", "not"):
        if isinstance(node.get(key), dict):
            children.append((f"{path}.{key}", node[key]))
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        for i, sub in enumerate(node.get(key) or ()):
            children.append((f"{path}.{key}[{i}]", sub))
    for child_path, child in children:
        problems += _walk(child, child_path, defs)
    return problems


class ToolPackConformance:
    """Behaviour every tool a distribution declares under ``aether.tools`` must have.

    Set :attr:`distribution`; list :attr:`refusals`, calls your tools must decline (a path
    outside the sandbox, a private address), so the suite can check they decline with content.
    """

    distribution: ClassVar[str]
    """The installed distribution whose ``aether.tools`` entry points are checked."""

    refusals: ClassVar[Sequence[tuple[str, Mapping[str, Any]]]] = ()
    """``(tool name, arguments)`` calls the tool must refuse with content, not an exception."""

    @pytest.fixture(scope="class")
    @classmethod
    def tools(cls) -> dict[str, Tool]:
        """Every declared tool, loaded from the distribution through core's plugin manager."""
        dist = importlib.metadata.distribution(cls.distribution)
        registry = Registry()
        manager = PluginManager(registry, distributions=lambda: [dist])
        loaded: dict[str, Tool] = {}
        for name in cls._declared():
            assert manager.load_name(TOOL_KIND, name), f"{name!r} was not found"
            obj = registry.get(TOOL_KIND, name)
            loaded[name] = obj if isinstance(obj, Tool) else make_tool(obj, name=name)
        return loaded

    @classmethod
    def _declared(cls) -> list[str]:
        dist = importlib.metadata.distribution(cls.distribution)
        return sorted(ep.name for ep in dist.entry_points if ep.group == _GROUP)

    def _run(self, check: Coroutine[Any, Any, None]) -> None:
        asyncio.run(check)

    def test_declares_at_least_one_tool(self) -> None:
        assert self._declared(), f"{self.distribution} declares no {_GROUP!r} entry points"

    def test_each_declared_tool_registers_under_its_name(self, tools: dict[str, Tool]) -> None:
        assert sorted(tools) == self._declared()
        assert all(tool.name == name for name, tool in tools.items())

    def test_schemas_are_valid_json_schema(self, tools: dict[str, Tool]) -> None:
        problems = [p for name, t in tools.items() for p in schema_problems(t.parameters, name)]
        assert not problems, "\n".join(problems)
        assert all(t.description.strip() for t in tools.values()), "every tool needs a description"

    def test_wrong_arguments_come_back_as_content(self, tools: dict[str, Tool]) -> None:
        async def check() -> None:
            for name, tool in tools.items():
                call = ToolCall(id="kit-1", name=name, arguments={"aether_kit_unknown": [1, 2]})
                result = await dispatch_tool(call, [tool], timeout=5)
                assert result.content.startswith("Error:"), (name, result.content)
                assert result.error is not None

        self._run(check())

    def test_refusals_come_back_as_content(self, tools: dict[str, Tool]) -> None:
        async def check() -> None:
            for name, arguments in self.refusals:
                tool = tools[name]
                try:
                    value = await tool.run(arguments, timeout=5)
                except ToolExecutionError as exc:
                    cause = exc.__cause__
                    if cause is not None and not isinstance(cause, ToolError):
                        raise AssertionError(
                            f"{name}({dict(arguments)}) crashed with {type(cause).__name__}: "
                            f"{cause}; refuse by returning a message or raising ToolError"
                        ) from exc
                except ToolError:
                    pass
                else:
                    assert value not in (None, ""), f"{name} refused with empty content"
                call = ToolCall(id="kit-refusal", name=name, arguments=dict(arguments))
                result = await dispatch_tool(call, [tool], timeout=5)
                assert result.content.strip(), f"{name}: the model would read nothing"

        self._run(check())
