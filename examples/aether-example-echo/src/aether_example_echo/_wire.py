"""Aether's contracts to the Echo API's JSON and back.

Request: ``{"model", "messages": [{"role", "text", "calls"?, "call_id"?}], "tools"?,
"stream"}``. Answer: ``{"id", "model", "text", "calls": [{"id", "name", "args"}], "stop",
"usage": {"in", "out"}}``. A stream sends ``{"delta"}`` and ``{"call"}`` events, then one
``{"stop", "usage"}`` event that marks a complete answer.
"""

from __future__ import annotations

from typing import Any

from aether.errors import ProviderError
from aether.http import quote_wire, tool_arguments
from aether.llm.contracts import FinishReason, LLMRequest, Message, ToolCall

__all__ = ["PROVIDER", "call_from_wire", "finish_reason", "payload", "usage"]

PROVIDER = "echo"
_STOPS: dict[str, FinishReason] = {"end": "stop", "calls": "tool_calls", "limit": "length"}


def _message(message: Message) -> dict[str, Any]:
    wire: dict[str, Any] = {"role": message.role, "text": message.content}
    if message.tool_calls:
        wire["calls"] = [
            {"id": c.id, "name": c.name, "args": c.arguments} for c in message.tool_calls
        ]
    if message.tool_call_id:
        wire["call_id"] = message.tool_call_id
    return wire


def payload(request: LLMRequest, model: str, *, stream: bool) -> dict[str, Any]:
    """The JSON body for ``request``."""
    body: dict[str, Any] = {
        "model": model,
        "messages": [_message(m) for m in request.messages],
        "stream": stream,
    }
    if request.tools:
        body["tools"] = [t.model_dump() for t in request.tools]
    if request.max_tokens is not None:
        body["max_tokens"] = request.max_tokens
    return body


def call_from_wire(call: Any) -> ToolCall:
    """One ``{"id", "name", "args"}`` object as a :class:`ToolCall`."""
    if not isinstance(call, dict) or not isinstance(call.get("name"), str):
        shown = quote_wire(call, limit=200)  # the key masked, should the server echo it
        raise ProviderError(f"The Echo API sent a malformed call: {shown}.", provider=PROVIDER)
    args = tool_arguments(call.get("args"))  # not an object, or nested too deep: kept as text
    return ToolCall(id=str(call.get("id") or ""), name=call["name"], arguments=args)


def finish_reason(stop: Any) -> FinishReason:
    """The contract's finish reason for the API's ``stop`` value."""
    return _STOPS.get(stop, "other") if isinstance(stop, str) else "other"


def usage(data: Any) -> tuple[int, int]:
    """Input and output token counts (0 when the API sent none)."""
    counts = data.get("usage") if isinstance(data, dict) else None
    if not isinstance(counts, dict):
        return 0, 0
    return int(counts.get("in", 0)), int(counts.get("out", 0))
