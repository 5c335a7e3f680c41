"""Tools: Python functions an LLM can call, with schemas generated from their signatures.

    from aether.tools import register_tool

    @register_tool(description="Add two numbers")
    def add(a: int, b: int) -> int:
        return a + b

    answer = await client.ask("What is 17 + 25?", tools=["add"])

Sync and async functions both work (sync ones run in a daemon worker thread). Arguments are
validated against the signature before the function runs; whatever goes wrong in a tool call
the model made becomes a tool result the model reads, so it can correct itself. A tool whose
schema comes from elsewhere (an MCP server, an OpenAPI document) is
:meth:`Tool.from_schema`; declared without a function, its calls are handed back to the
caller (:class:`~aether.errors.DeferredToolCallsError`). Code can run a tool itself,
``await dispatch_tool("add", {"a": 2, "b": 3})`` (the value, 5; failures raise), and look
tools up with :func:`get_tool` and :func:`list_tools`. Provider-neutral JSON Schema helpers
for provider plugins live in :mod:`aether.tools.json_schema`.

Every name is imported on first use: a provider plugin importing
:mod:`aether.tools.json_schema` does not load the tool loop or docstring parsing.
"""

from __future__ import annotations

import typing

from aether._lazy import lazy_exports as _lazy_exports

# Errors are cheap to import and every room raises them: bound eagerly.
from aether.errors import DeferredToolCallsError

if typing.TYPE_CHECKING:
    from aether.tools.dispatch import ToolResult, dispatch_tool
    from aether.tools.loop import run_tool_loop, stream_tool_loop
    from aether.tools.registry import ToolSet, get_tool, list_tools, register_tool, resolve_tools
    from aether.tools.results import serialize_result
    from aether.tools.tool import RAW_ARGUMENTS_KEY, Tool, make_tool
    from aether.tools.transform import ToolSchemaCache, ToolSchemaTransform

__all__ = [
    "DeferredToolCallsError",
    "RAW_ARGUMENTS_KEY",
    "Tool",
    "ToolResult",
    "ToolSchemaCache",
    "ToolSchemaTransform",
    "ToolSet",
    "dispatch_tool",
    "get_tool",
    "list_tools",
    "make_tool",
    "register_tool",
    "resolve_tools",
    "run_tool_loop",
    "serialize_result",
    "stream_tool_loop",
]

_HOMES = {
    "RAW_ARGUMENTS_KEY": "aether.tools.tool",
    "Tool": "aether.tools.tool",
    "ToolResult": "aether.tools.dispatch",
    "ToolSchemaCache": "aether.tools.transform",
    "ToolSchemaTransform": "aether.tools.transform",
    "ToolSet": "aether.tools.registry",
    "dispatch_tool": "aether.tools.dispatch",
    "get_tool": "aether.tools.registry",
    "list_tools": "aether.tools.registry",
    "make_tool": "aether.tools.tool",
    "register_tool": "aether.tools.registry",
    "resolve_tools": "aether.tools.registry",
    "run_tool_loop": "aether.tools.loop",
    "serialize_result": "aether.tools.results",
    "stream_tool_loop": "aether.tools.loop",
}

__getattr__, __dir__ = _lazy_exports(__name__, _HOMES, globals())
