"""Aether's contracts to and from the Anthropic Messages wire format (no I/O here).

Four differences from Chat Completions shape this module:

* the system prompt is the top-level ``system`` field, not a message;
* turns alternate strictly between ``user`` and ``assistant``, so consecutive turns of one
  role are merged, and tool results travel as ``tool_result`` blocks in a *user* turn;
* ``max_tokens`` is required;
* ``usage.input_tokens`` leaves out the prompt tokens read from or written to the cache,
  whereas Aether's ``input_tokens`` counts every prompt token (see :func:`usage_from_wire`).

Thinking blocks that preceded a tool call ride on that call (``ToolCall.provider_data``, under
:data:`THINKING_KEY`) and are sent back before it, because the API rejects a tool-use turn
sent back without the signed thinking that produced it. On the call, they survive a session
store and another process.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aether.errors import BadRequestError
from aether.http import RAW_ARGUMENTS_KEY, parse_tool_arguments
from aether.llm.contracts import (
    FinishReason,
    LLMRequest,
    LLMResponse,
    Message,
    ToolCall,
    ToolChoice,
    ToolSpec,
)
from aether.llm.mapping import Usage, check_tool_choice, token_count

__all__ = [
    "PROVIDER",
    "THINKING_KEY",
    "Content",
    "Usage",
    "build_messages",
    "build_payload",
    "finish_reason_from_wire",
    "read_content",
    "response_from_wire",
    "thinking_to_replay",
    "tool_call_from_wire",
    "tool_choice_to_wire",
    "tool_to_wire",
    "usage_from_wire",
]

PROVIDER = "anthropic"

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
_CHOICES = {"auto": {"type": "auto"}, "required": {"type": "any"}, "none": {"type": "none"}}


# --- request -------------------------------------------------------------------------


def _tool_use(call: ToolCall) -> dict[str, Any]:
    # Malformed arguments kept under RAW_ARGUMENTS_KEY are still an object, which is all the
    # API asks of ``input``; the model then sees what it sent.
    return {"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments}


def _thinking_of(call: ToolCall) -> list[dict[str, Any]]:
    blocks = call.provider_data.get(THINKING_KEY)
    if not isinstance(blocks, list):
        return []
    return [block for block in blocks if isinstance(block, dict)]


def with_thinking(call: ToolCall, blocks: list[dict[str, Any]]) -> ToolCall:
    """``call`` carrying the thinking blocks that preceded it (unchanged when there are none)."""
    if not blocks:
        return call
    return call.model_copy(update={"provider_data": {**call.provider_data, THINKING_KEY: blocks}})


def _assistant_blocks(message: Message) -> list[dict[str, Any]]:
    calls = message.tool_calls
    blocks: list[dict[str, Any]] = []
    if calls:
        # The model's own order was thinking, text, call: the turn must start with thinking.
        blocks.extend(_thinking_of(calls[0]))
    if message.text:
        blocks.append({"type": "text", "text": message.text})
    for position, call in enumerate(calls):
        if position:
            blocks.extend(_thinking_of(call))
        blocks.append(_tool_use(call))
    return blocks


def _tool_result(message: Message) -> dict[str, Any]:
    if not message.tool_call_id:
        raise BadRequestError(
            "A 'tool' message needs tool_call_id: set it to the id of the ToolCall it answers.",
            provider=PROVIDER,
        )
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": message.tool_call_id}
    if message.text:
        block["content"] = message.text
    return block


def _tool_results_first(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # The API wants a user turn's tool_result blocks before any text in it.
    return sorted(blocks, key=lambda block: block["type"] != "tool_result")


def build_messages(messages: Sequence[Message]) -> tuple[str | None, list[dict[str, Any]]]:
    """``(system, messages)`` for a conversation.

    System messages, wherever they are, are joined into ``system``. Consecutive turns of one
    role are merged (all tool results of an assistant turn go back in one user turn); empty
    messages are dropped, since the API rejects empty content.
    """
    system: list[str] = []
    turns: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system":
            if message.text:
                system.append(message.text)
            continue
        if message.role == "assistant":
            role, blocks = "assistant", _assistant_blocks(message)
        elif message.role == "tool":
            role, blocks = "user", [_tool_result(message)]
        else:
            role = "user"
            blocks = [{"type": "text", "text": message.text}] if message.text else []
        if not blocks:
            continue
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    for turn in turns:
        if turn["role"] == "user" and len(turn["content"]) > 1:
            turn["content"] = _tool_results_first(turn["content"])
    if turns and turns[-1]["role"] == "assistant":
        _strip_prefill(turns)
    return ("\n\n".join(system) if system else None), turns


def _strip_prefill(turns: list[dict[str, Any]]) -> None:
    """A final assistant turn (a prefill) may not end in whitespace: the API rejects it."""
    last = turns[-1]["content"][-1]
    if last["type"] != "text":
        return
    last["text"] = last["text"].rstrip()
    if not last["text"]:
        turns[-1]["content"].pop()
        if not turns[-1]["content"]:
            turns.pop()


def tool_to_wire(spec: ToolSpec) -> dict[str, Any]:
    """A :class:`ToolSpec` as a client tool definition."""
    tool: dict[str, Any] = {"name": spec.name, "input_schema": spec.parameters}
    if spec.description:
        tool["description"] = spec.description
    return tool


def tool_choice_to_wire(
    choice: ToolChoice | None, tools: Sequence[ToolSpec]
) -> dict[str, Any] | None:
    """``auto``/``required``/``none`` or one tool's name as ``tool_choice``; None: omit it.

    ``choice`` has passed :func:`~aether.llm.check_tool_choice` (``build_payload`` runs it).
    """
    if choice is None or not tools:
        # Without tools only "auto"/"none" pass the check, and the API's default (no
        # tool_choice) already means that.
        return None
    if choice in _CHOICES:
        return dict(_CHOICES[choice])
    return {"type": "tool", "name": choice}


def build_payload(
    request: LLMRequest,
    *,
    model: str,
    max_tokens: int,
    stream: bool,
) -> dict[str, Any]:
    """The JSON body of ``POST /v1/messages``.

    Args:
        request: The call.
        model: The model to ask (the request's, else the provider's default).
        max_tokens: Used when the request sets none; the API requires a value.
        stream: Ask for server-sent events.

    Raises:
        BadRequestError: The conversation has no user or assistant content, a tool message
            has no ``tool_call_id``, or ``tool_choice`` cannot be honoured with the request's
            tools.
    """
    check_tool_choice(request, provider=PROVIDER)
    system, messages = build_messages(request.messages)
    if not messages:
        raise BadRequestError(
            "The conversation has no user or assistant content; Anthropic needs at least one "
            "non-system message.",
            provider=PROVIDER,
        )
    payload: dict[str, Any] = {
        "model": model,
        "max_tokens": request.max_tokens or max_tokens,
        "messages": messages,
    }
    if system is not None:
        payload["system"] = system
    temperature = request.sampling_temperature()
    if temperature is not None:
        payload["temperature"] = temperature
    if request.stop:
        payload["stop_sequences"] = list(request.stop)
    if request.tools:
        payload["tools"] = [tool_to_wire(tool) for tool in request.tools]
    choice = tool_choice_to_wire(request.tool_choice, request.tools)
    if choice is not None:
        payload["tool_choice"] = choice
    if stream:
        payload["stream"] = True
    return payload


# --- response ------------------------------------------------------------------------


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
    text; anything that is not an object is kept under ``RAW_ARGUMENTS_KEY``.
    """
    if isinstance(arguments, str):
        parsed = parse_tool_arguments(arguments)
    elif isinstance(arguments, dict):
        parsed = arguments
    elif arguments is None:
        parsed = {}
    else:
        parsed = {RAW_ARGUMENTS_KEY: json.dumps(arguments, ensure_ascii=False)}
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
