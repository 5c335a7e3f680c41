"""Anthropic Messages answers in Aether's terms: text, thinking, tool calls, usage (no I/O here).

``usage.input_tokens`` leaves out the prompt tokens read from or written to the cache, whereas
Aether's ``input_tokens`` counts every prompt token (see :func:`usage_from_wire`).

Thinking blocks that preceded a tool call ride on that call (``ToolCall.provider_data``, under
:data:`THINKING_KEY`) and are sent back before it, because the API rejects a tool-use turn
sent back without the signed thinking that produced it. On the call, they survive a session
store and another process.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aether.http import parse_tool_arguments
from aether.llm.contracts import FinishReason, LLMResponse, ToolCall
from aether.llm.mapping import Usage, token_count

__all__ = [
    "THINKING_KEY",
    "Content",
    "finish_reason_from_wire",
    "read_content",
    "response_from_wire",
    "thinking_to_replay",
    "tool_call_from_wire",
    "usage_from_wire",
    "with_thinking",
]

THINKING_KEY = "thinking"
"""Where a call keeps, in :attr:`ToolCall.provider_data`, the signed thinking blocks (in the
form they are sent back) that the model wrote just before it."""

_FINISH_REASONS: dict[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}


def with_thinking(call: ToolCall, blocks: list[dict[str, Any]]) -> ToolCall:
    """``call`` carrying the thinking blocks that preceded it (unchanged when there are none)."""
    if not blocks:
        return call
    return call.model_copy(update={"provider_data": {**call.provider_data, THINKING_KEY: blocks}})


def usage_from_wire(usage: Any) -> Usage:
    """Token counts in Aether's convention (zeros when the server sent none).

    Anthropic's ``input_tokens`` counts only the uncached prompt tokens; Aether's counts them
    all, so the cache reads and writes are added back (and also reported on their own).
    ``output_tokens`` already includes thinking, reported apart when the API breaks it out.
    """
    if not isinstance(usage, dict):
        usage = {}
    read = token_count(usage.get("cache_read_input_tokens"))
    written = token_count(usage.get("cache_creation_input_tokens"))
    details = usage.get("output_tokens_details")
    return {
        "input_tokens": token_count(usage.get("input_tokens")) + read + written,
        "output_tokens": token_count(usage.get("output_tokens")),
        "cached_input_tokens": read,
        "cache_write_tokens": written,
        "reasoning_tokens": (
            token_count(details.get("thinking_tokens")) if isinstance(details, dict) else 0
        ),
    }


def finish_reason_from_wire(
    raw: str | None, *, has_tool_calls: bool = False
) -> FinishReason | None:
    """``stop_reason`` in Aether's terms; ``pause_turn`` and unknown values are ``other``.

    An answer with tool calls that still says it stopped is reported as ``tool_calls``, so a
    tool loop keyed on the reason runs them.
    """
    if raw is None:
        return "tool_calls" if has_tool_calls else None
    reason = _FINISH_REASONS.get(raw, "other")
    if has_tool_calls and reason == "stop":
        return "tool_calls"
    return reason


def tool_call_from_wire(call_id: Any, name: Any, arguments: Any, *, position: int = 0) -> ToolCall:
    """A ``tool_use`` block as a :class:`ToolCall`.

    ``arguments`` is the ``input`` object, or (streamed) the concatenated ``partial_json``
    text; anything that is not an object, or nests too deep, is kept under
    ``RAW_ARGUMENTS_KEY`` (see :func:`aether.http.parse_tool_arguments`).
    """
    parsed = parse_tool_arguments(arguments)
    return ToolCall(
        id=call_id if isinstance(call_id, str) and call_id else f"toolu_{position}",
        name=name if isinstance(name, str) else "",
        arguments=parsed,
    )


def thinking_to_replay(block: Mapping[str, Any]) -> dict[str, Any] | None:
    """The form of a thinking block to send back, or None when the API would refuse it."""
    if block.get("type") == "redacted_thinking":
        data = block.get("data")
        return {"type": "redacted_thinking", "data": data} if isinstance(data, str) else None
    signature = block.get("signature")
    if not isinstance(signature, str) or not signature:
        return None  # an unsigned thinking block is rejected when sent back
    thought = block.get("thinking")
    return {
        "type": "thinking",
        "thinking": thought if isinstance(thought, str) else "",
        "signature": signature,
    }


@dataclass
class Content:
    """What a message's ``content`` blocks carried, in Aether's terms."""

    text: str = ""
    reasoning_text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)


def read_content(blocks: Any) -> Content:
    """Text, thinking and tool calls of a message's ``content`` list.

    Blocks Aether has no use for (server tool use and results, citations-only blocks, future
    block types) are skipped.
    """
    text: list[str] = []
    reasoning: list[str] = []
    out = Content()
    pending: list[dict[str, Any]] = []
    for block in blocks if isinstance(blocks, list) else ():
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text":
            if isinstance(block.get("text"), str):
                text.append(block["text"])
        elif kind in ("thinking", "redacted_thinking"):
            if kind == "thinking" and isinstance(block.get("thinking"), str):
                reasoning.append(block["thinking"])
            replay = thinking_to_replay(block)
            if replay is not None:
                pending.append(replay)
        elif kind == "tool_use":
            call = tool_call_from_wire(
                block.get("id"), block.get("name"), block.get("input"), position=len(out.tool_calls)
            )
            out.tool_calls.append(with_thinking(call, pending))
            pending = []
    out.text = "".join(text)
    out.reasoning_text = "".join(reasoning)
    return out


def response_from_wire(body: dict[str, Any], *, model: str) -> LLMResponse:
    """A whole ``message`` object as an :class:`LLMResponse`."""
    content = read_content(body.get("content"))
    reason = body.get("stop_reason")
    return LLMResponse(
        text=content.text,
        reasoning_text=content.reasoning_text,
        tool_calls=content.tool_calls,
        finish_reason=finish_reason_from_wire(
            reason if isinstance(reason, str) else None, has_tool_calls=bool(content.tool_calls)
        ),
        model=body["model"] if isinstance(body.get("model"), str) else model,
        response_id=body["id"] if isinstance(body.get("id"), str) else None,
        **usage_from_wire(body.get("usage")),
    )
