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
caller (:class:`DeferredToolCallsError`). Code can run a tool itself,
``await dispatch_tool("add", {"a": 2, "b": 3})`` (the value, 5; failures raise), and look
tools up with :func:`get_tool` and :func:`list_tools`. Provider-neutral JSON Schema helpers
for provider plugins live in :mod:`aether.tools.json_schema`.
"""

from aether.tools.dispatch import ToolResult, dispatch_tool
from aether.tools.loop import DeferredToolCallsError, run_tool_loop, stream_tool_loop
from aether.tools.registry import get_tool, list_tools, register_tool, resolve_tools
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
