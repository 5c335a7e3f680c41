"""Run one tool call the model asked for and turn the outcome into a tool-result message.

Nothing a tool call can get wrong aborts the conversation: an unknown tool, arguments that
are not JSON or do not match the signature, a tool that raises or times out all become
content the model reads (``"Error: ..."``), so it can correct itself. ``tool.start`` fires
for every call, then exactly one of ``tool.complete`` or ``tool.error``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from time import perf_counter
from typing import Any

import pydantic_core

from aether.errors import ToolError, ToolExecutionError, ToolNotFoundError
from aether.events import TOOL_COMPLETE, TOOL_ERROR, TOOL_START, EventBus, ToolComplete, ToolStart
from aether.events import ToolError as ToolErrorEvent
from aether.llm.contracts import Message, ToolCall
from aether.tools.tool import Tool

__all__ = ["ToolResult", "dispatch_tool", "serialize_result"]


@dataclass(frozen=True, slots=True)
class ToolResult:
    """The outcome of one tool call.

    Attributes:
        call: The call the model made.
        content: What the model reads: the result as text, or ``"Error: ..."``.
        error: Why it failed (:class:`~aether.errors.ToolNotFoundError`,
            :class:`~aether.errors.ToolArgumentsError` or
            :class:`~aether.errors.ToolExecutionError`, the tool's own exception as its
            ``__cause__``), or None.
        duration_seconds: Wall time of the dispatch, validation included.
    """

    call: ToolCall
    content: str
    error: ToolError | None
    duration_seconds: float

    def to_message(self) -> Message:
        """The ``tool`` message that answers the call."""
        return tool_message(self.call, self.content)


def serialize_result(value: Any) -> str:
    """A tool's return value as text for the model: strings as they are, the rest as JSON.

    Pydantic models, dataclasses, enums, dates, UUIDs, sets and bytes (UTF-8) serialise as
    pydantic would; an object JSON has no form for falls back to ``str()`` for that value only.

    Raises:
        ToolExecutionError: The value cannot be serialised at all (e.g. a circular reference).
    """
    if isinstance(value, str):
        return value
    try:
        return pydantic_core.to_json(value, fallback=str).decode()
    except (pydantic_core.PydanticSerializationError, ValueError) as exc:
        raise ToolExecutionError(
            f"The tool's result ({type(value).__name__}) could not be serialised to JSON: {exc}. "
            f"Return a str, a dict/list of JSON values, a pydantic model or a dataclass."
        ) from exc


async def dispatch_tool(
    call: ToolCall,
    tools: Mapping[str, Tool] | Sequence[Tool] | None = None,
    *,
    events: EventBus | None = None,
    timeout: float | None = None,
) -> ToolResult:
    """Run ``call`` with the tool it names; never raises for anything the tool call did wrong.

    Args:
        call: The tool call from the model.
        tools: The tools the model was offered (by name, or a list). A call naming another
            tool is answered as unknown, even if it is registered elsewhere. None: any tool of
            the default registry (see :func:`~aether.tools.get_tool`).
        events: Where ``tool.start`` and ``tool.complete``/``tool.error`` go.
        timeout: Seconds the call may take; default: the tool's own ``timeout``.
    """
    content, error, duration = await run_call(call, tools, events, timeout)
    return ToolResult(call, content, error, duration)


async def run_call(
    call: ToolCall,
    tools: Mapping[str, Tool] | Sequence[Tool] | None,
    events: EventBus | None,
    timeout: float | None,
) -> tuple[str, ToolError | None, float]:
    """:func:`dispatch_tool` without the :class:`ToolResult`: content, error and duration.

    The tool loop calls this directly: it only needs the content for the tool message, and
    building a frozen dataclass per call, only to discard it, is a measurable part of a loop
    iteration.
    """
    if events is not None and events.wants(TOOL_START):
        await events.emit(ToolStart(call))
    started = perf_counter()
    error: ToolError | None = None
    try:
        tool = _find(call.name, tools)
        content = serialize_result(await tool.run(call.arguments, timeout=timeout))
    except ToolError as exc:
        error = exc
        content = f"Error: {exc}"
    duration = perf_counter() - started
    if events is not None:
        if error is None:
            if events.wants(TOOL_COMPLETE):
                await events.emit(ToolComplete(call, content, duration))
        elif events.wants(TOOL_ERROR):
            await events.emit(ToolErrorEvent(call, error, duration))
    return content, error, duration


def tool_message(call: ToolCall, content: str) -> Message:
    """The ``tool`` message that answers ``call`` with ``content``."""
    return Message(role="tool", content=content, tool_call_id=call.id, name=call.name)


def _find(name: str, tools: Mapping[str, Tool] | Sequence[Tool] | None) -> Tool:
    if tools is None:
        from aether.tools.registry import get_tool

        return get_tool(name)
    by_name = tools if isinstance(tools, Mapping) else {tool.name: tool for tool in tools}
    found = by_name.get(name)
    if found is None:
        offered = ", ".join(sorted(by_name)) or "none"
        raise ToolNotFoundError(
            f"There is no tool named {name!r}. The available tools are: {offered}. "
            f"Call one of those, or answer without a tool."
        )
    return found
