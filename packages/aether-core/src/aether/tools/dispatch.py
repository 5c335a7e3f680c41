"""Run a tool: by name with arguments (the spec's form), or answering a model's tool call.

    await dispatch_tool("add", {"a": 2, "b": 3})        # 5: the tool's value; errors raise
    result = await dispatch_tool(call, tools)           # ToolResult: errors become content

The name form is for code calling a registered tool itself: it returns what the function
returned and raises what went wrong. The :class:`~aether.llm.ToolCall` form is what the tool
loop does: nothing a tool call can get wrong aborts the conversation (an unknown tool,
arguments that are not JSON or do not match the signature, a tool that raises or times out all
become content the model reads, ``"Error: ..."``, so it can correct itself), and ``tool.start``
fires for every call, then exactly one of ``tool.complete`` or ``tool.error``. The result
becomes text through :func:`~aether.tools.serialize_result`, so it is cut at
``AETHER_TOOL_RESULT_MAX_CHARS`` and a lazy result (an iterator) is refused, not read; a result
that is or holds content parts (an image a tool made) becomes a list of parts instead
(:func:`~aether.tools.results.result_content`), and ``tool.complete`` shows its text with a
note per media part.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from time import perf_counter
from typing import TYPE_CHECKING, Any, cast, overload

from aether.errors import ToolError, ToolNotFoundError
from aether.events import TOOL_COMPLETE, TOOL_ERROR, TOOL_START, EventBus, ToolComplete, ToolStart
from aether.events import ToolError as ToolErrorEvent
from aether.llm.contracts import Message, ToolCall
from aether.llm.parts import ContentPart
from aether.tools.results import content_text, result_content
from aether.tools.tool import Tool

if TYPE_CHECKING:
    from aether.registry import Registry

__all__ = ["ToolResult", "dispatch_tool"]

_Tools = Mapping[str, Tool] | Sequence[Tool]
"""The tools a model was offered: by name, or a list."""


@dataclass(frozen=True, slots=True)
class ToolResult:
    """The outcome of one tool call.

    Attributes:
        call: The call the model made.
        content: What the model reads, as text: the result, or ``"Error: ..."``; for a result
            of content parts, their text and a note per media part.
        error: Why it failed (:class:`~aether.errors.ToolNotFoundError`,
            :class:`~aether.errors.ToolArgumentsError` or
            :class:`~aether.errors.ToolExecutionError`, the tool's own exception as its
            ``__cause__``), or None.
        duration_seconds: Wall time of the dispatch, validation included.
        parts: The content parts the tool returned (an image beside its caption), which the
            tool message carries; None for a text result.
    """

    call: ToolCall
    content: str
    error: ToolError | None
    duration_seconds: float
    parts: list[ContentPart] | None = None

    def to_message(self) -> Message:
        """The ``tool`` message that answers the call: its parts, else its text."""
        return tool_message(self.call, self.content if self.parts is None else self.parts)


@overload
async def dispatch_tool(
    call: ToolCall,
    tools: _Tools | None = None,
    *,
    events: EventBus | None = None,
    timeout: float | None = None,
) -> ToolResult: ...


@overload
async def dispatch_tool(
    name: str,
    arguments: Mapping[str, Any] | None = None,
    /,
    *,
    registry: Registry | None = None,
    timeout: float | None = None,
) -> Any: ...


async def dispatch_tool(
    call: ToolCall | str,
    tools: _Tools | Mapping[str, Any] | None = None,
    *,
    registry: Registry | None = None,
    events: EventBus | None = None,
    timeout: float | None = None,
) -> Any:
    """Run a tool, by name (returns its value) or answering a model's call (a ToolResult).

    ``dispatch_tool(name, arguments)`` looks ``name`` up like :func:`~aether.tools.get_tool`,
    validates ``arguments`` against the signature and returns what the function returned,
    raising on failure. A failure of the tool itself raises
    :class:`~aether.errors.ToolExecutionError` with the tool's exception as its ``__cause__``
    (not the bare exception): a timeout has no exception of the tool's to raise, the error is
    the one the ToolCall form reports in ``ToolResult.error``, and so one ``except ToolError``
    covers everything a dispatch can fail with. A tool that raises a ``ToolError`` itself has
    it raised as it is.

    ``dispatch_tool(call, tools)`` never raises for anything the call did wrong: the outcome,
    error included, is the returned :class:`ToolResult`, and ``tool.*`` events fire.

    Args:
        call: A tool's registered name, or the tool call from the model.
        tools: With a name: the arguments (a mapping of parameter names to values; None: no
            arguments). With a ToolCall: the tools the model was offered (by name, or a
            list); a call naming another tool is answered as unknown, even if it is
            registered elsewhere. None: any tool of the default registry.
        registry: With a name: where to look it up; default: the process-wide registry.
        events: With a ToolCall: where ``tool.start`` and ``tool.complete``/``tool.error`` go.
        timeout: Seconds the call may take; default: the tool's own ``timeout``.

    Raises:
        ToolNotFoundError: (name form) No tool of that name; the message lists the tools.
        ToolArgumentsError: (name form) The arguments do not match the tool's signature; the
            function was not called.
        ToolExecutionError: (name form) The tool raised (the ``__cause__``) or timed out.
        TypeError: ``call`` is neither a name nor a ToolCall, or the arguments are not a
            mapping, or a name comes with ``events`` (use the ToolCall form for events).
    """
    if isinstance(call, str):
        if events is not None:
            raise TypeError(
                "dispatch_tool(name, arguments) fires no events; to dispatch with tool.* "
                "events, pass a ToolCall: dispatch_tool(ToolCall(id=..., name=..., "
                "arguments=...), events=bus)."
            )
        return await _run_by_name(call, tools, registry, timeout)
    if not isinstance(call, ToolCall):
        raise TypeError(
            f"dispatch_tool takes a tool name and its arguments, or a ToolCall; got "
            f"{type(call).__name__}."
        )
    if registry is not None:
        raise TypeError(
            "registry= applies to dispatch_tool(name, arguments); with a ToolCall, pass the "
            "tools to choose from as the second argument."
        )
    # The overloads pair a ToolCall with tools to choose from, never with arguments.
    content, error, duration = await run_call(call, cast("_Tools | None", tools), events, timeout)
    if isinstance(content, str):
        return ToolResult(call, content, error, duration)
    return ToolResult(call, content_text(content), error, duration, content)


async def _run_by_name(
    name: str,
    arguments: object,
    registry: Registry | None,
    timeout: float | None,
) -> Any:
    if arguments is None:
        arguments = {}
    elif not isinstance(arguments, Mapping):
        raise TypeError(
            f"dispatch_tool({name!r}, arguments): arguments must be a mapping of parameter "
            f"names to values, e.g. {{'a': 2}}; got {type(arguments).__name__}."
        )
    from aether.tools.registry import get_tool

    tool = get_tool(name, registry=registry)
    return await tool.run(arguments, timeout=timeout)


async def run_call(
    call: ToolCall,
    tools: _Tools | None,
    events: EventBus | None,
    timeout: float | None,
) -> tuple[str | list[ContentPart], ToolError | None, float]:
    """:func:`dispatch_tool` without the :class:`ToolResult`: content, error and duration.

    The tool loop calls this directly: it only needs the content for the tool message, and
    building a frozen dataclass per call, only to discard it, is a measurable part of a loop
    iteration.
    """
    if events is not None and events.wants(TOOL_START):
        await events.emit(ToolStart(call))
    started = perf_counter()
    error: ToolError | None = None
    content: str | list[ContentPart]
    try:
        tool = _find(call.name, tools)
        content = result_content(await tool.run(call.arguments, timeout=timeout))
    except ToolError as exc:
        error = exc
        content = f"Error: {exc}"
    except BaseException as exc:
        # Cancelled (or worse): still the one end event tool.start promised, then on its way.
        if events is not None and events.wants(TOOL_ERROR):
            await events.emit(ToolErrorEvent(call, exc, perf_counter() - started))
        raise
    duration = perf_counter() - started
    if events is not None:
        if error is None:
            if events.wants(TOOL_COMPLETE):
                # The event carries text: media parts are described, not copied into it.
                shown = content if type(content) is str else content_text(content)
                await events.emit(ToolComplete(call, shown, duration))
        elif events.wants(TOOL_ERROR):
            await events.emit(ToolErrorEvent(call, error, duration))
    return content, error, duration


def tool_message(call: ToolCall, content: str | list[ContentPart]) -> Message:
    """The ``tool`` message that answers ``call`` with ``content`` (text, or parts)."""
    return Message(role="tool", content=content, tool_call_id=call.id, name=call.name)


def _find(name: str, tools: _Tools | None) -> Tool:
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
