"""The hook through which a provider turns a tool's JSON Schema into its API's dialect.

Tools describe their arguments once, in standard JSON Schema (``ToolSpec.parameters``). A
provider whose API accepts only a subset (Gemini: no ``$ref``, ``$defs``,
``additionalProperties``; OpenAI strict mode: ``additionalProperties: false`` everywhere)
writes a :class:`ToolSchemaTransform` from the helpers in :mod:`aether.tools.json_schema`
and wraps it in a :class:`ToolSchemaCache`, so each tool is translated (and warned about)
once per process, not on every request of every tool-loop iteration:

    def to_acme_schema(parameters):
        schema = inline_refs(parameters)
        return transform_schema(schema, acme_visitor)        # (schema, issues)

    _schemas = ToolSchemaCache(to_acme_schema, on_issue=warn_acme_schema)

    def tool_to_wire(spec: ToolSpec) -> dict[str, Any]:
        return {"name": spec.name, "description": spec.description,
                "parameters": _schemas.parameters(spec)}
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from aether.llm.contracts import ToolSpec

if TYPE_CHECKING:
    from aether.tools.json_schema import SchemaIssue

__all__ = ["ToolSchemaCache", "ToolSchemaTransform"]


class ToolSchemaTransform(Protocol):
    """``transform(parameters) -> (schema, issues)``: a tool's schema in a provider's dialect.

    Must not mutate ``parameters``. ``issues`` lists what the dialect could not express (see
    :class:`~aether.tools.json_schema.SchemaIssue`); empty when nothing was lost.
    """

    def __call__(
        self, parameters: dict[str, Any], /
    ) -> tuple[dict[str, Any], list[SchemaIssue]]: ...


class ToolSchemaCache:
    """Translated tool schemas, computed once per distinct tool and reused.

    Keyed by the tool's content (name and schema), so a ``ToolSpec`` rebuilt on every call
    still hits; bounded (least recently used first out), so a process generating tools
    dynamically does not grow without limit.

    Args:
        transform: The provider's translation.
        on_issue: Called once per issue when a tool is first translated, e.g. to warn.
        maxsize: How many translated tools to keep.
    """

    def __init__(
        self,
        transform: ToolSchemaTransform,
        *,
        on_issue: Callable[[ToolSpec, SchemaIssue], None] | None = None,
        maxsize: int = 256,
    ) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be >= 1, got {maxsize}.")
        self._transform = transform
        self._on_issue = on_issue
        self._maxsize = maxsize
        # key -> (the spec first seen with it, its schema); holding the spec keeps its id
        # from being reused, so the identity shortcut below is safe.
        self._entries: OrderedDict[str, tuple[ToolSpec, dict[str, Any]]] = OrderedDict()
        self._ids: dict[int, str] = {}

    def __repr__(self) -> str:
        return f"ToolSchemaCache({len(self._entries)}/{self._maxsize} tools)"

    def parameters(self, spec: ToolSpec) -> dict[str, Any]:
        """``spec.parameters`` in the provider's dialect (shared: do not mutate the result)."""
        key = self._ids.get(id(spec))
        if key is None:
            # Tool.spec is one object per tool, so this content key is rarely computed.
            key = json.dumps([spec.name, spec.parameters], sort_keys=True, default=str)
        cached = self._entries.get(key)
        if cached is not None:
            self._entries.move_to_end(key)
            return cached[1]
        schema, issues = self._transform(spec.parameters)
        if self._on_issue is not None:
            for issue in issues:
                self._on_issue(spec, issue)
        self._entries[key] = (spec, schema)
        self._ids[id(spec)] = key
        if len(self._entries) > self._maxsize:
            _, (evicted, _) = self._entries.popitem(last=False)
            self._ids.pop(id(evicted), None)
        return schema
