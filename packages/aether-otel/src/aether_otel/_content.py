"""Content as the conventions' opt-in attributes record it: JSON strings of messages and parts.

Only called when content capture is on. Media parts are described (kind, media type, URL or
file id), never copied: a base64 image would dwarf the span it rides on.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from aether.llm.contracts import Message, ToolCall, ToolSpec
from aether.llm.parts import MediaPart, TextPart

__all__ = ["dumps", "input_messages", "output_messages", "tool_definitions"]


def dumps(value: Any) -> str:
    """Compact JSON, anything unserialisable as its ``str``."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def input_messages(messages: Sequence[Message]) -> tuple[str | None, str]:
    """``(gen_ai.system_instructions or None, gen_ai.input.messages)`` of a conversation."""
    system: list[dict[str, Any]] = []
    chat: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system":
            system.extend(_parts(message))
        else:
            chat.append({"role": message.role, "parts": _parts(message)})
    return (dumps(system) if system else None), dumps(chat)


def output_messages(text: str, tool_calls: Sequence[ToolCall], finish_reason: str | None) -> str:
    """``gen_ai.output.messages``: the one answer, its text and its tool calls."""
    parts: list[dict[str, Any]] = [{"type": "text", "content": text}] if text else []
    parts.extend(_tool_call(call) for call in tool_calls)
    answer: dict[str, Any] = {"role": "assistant", "parts": parts}
    if finish_reason is not None:
        answer["finish_reason"] = finish_reason
    return dumps([answer])


def tool_definitions(tools: Sequence[ToolSpec]) -> str:
    """``gen_ai.tool.definitions``: what the model was offered."""
    return dumps(
        [
            {
                "type": "function",
                "name": tool.name,
                "description": tool.description,
                "parameters": tool.parameters,
            }
            for tool in tools
        ]
    )


def _parts(message: Message) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    if message.role == "tool":
        response = message.text
        return [{"type": "tool_call_response", "id": message.tool_call_id, "response": response}]
    content = message.content
    if isinstance(content, str):
        if content:
            parts.append({"type": "text", "content": content})
    else:
        for part in content:
            if isinstance(part, TextPart):
                parts.append({"type": "text", "content": part.text})
            elif isinstance(part, MediaPart):
                parts.append(_media(part))
    parts.extend(_tool_call(call) for call in message.tool_calls)
    return parts


def _media(part: MediaPart) -> dict[str, Any]:
    described: dict[str, Any] = {"modality": part.kind}
    if part.url is not None and not part.url.startswith("data:"):
        described.update(type="uri", uri=part.url)
    elif part.file_id is not None:
        described.update(type="file", file_id=part.file_id)
    else:
        described["type"] = "blob"  # the bytes are left out
    if part.media_type is not None:
        described["mime_type"] = part.media_type
    return described


def _tool_call(call: ToolCall) -> dict[str, Any]:
    return {"type": "tool_call", "id": call.id, "name": call.name, "arguments": call.arguments}
