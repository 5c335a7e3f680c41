"""Aether's contracts to Gemini's ``generateContent`` JSON and back.

Gemini speaks ``contents``/``parts`` with roles ``user`` and ``model``; system prompts go in
``systemInstruction``; tool calls are ``functionCall`` parts, usually without an id, and tool
results are ``functionResponse`` parts sent in a user turn. Usage lives in ``usageMetadata``;
a refusal is a ``promptFeedback.blockReason`` or an empty candidate, not an error status.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aether.errors import BadRequestError, ResponseBlockedError
from aether.http import RAW_ARGUMENTS_KEY
from aether.llm.contracts import FinishReason, LLMRequest, Message, ToolCall
from aether.llm.mapping import Usage, check_tool_choice, token_count
from aether_gemini._schema import DeclarationCache

__all__ = [
    "Candidate",
    "PROVIDER",
    "SIGNATURE_KEY",
    "Usage",
    "build_contents",
    "build_payload",
    "empty_answer_error",
    "finish_reason",
    "new_call_id",
    "raise_if_prompt_blocked",
    "read_candidate",
    "retry_delay",
    "usage",
]

PROVIDER = "gemini"

# Ids Aether made up for calls Gemini sent without one; never sent back to Gemini.
_SYNTHETIC_PREFIX = "gemini-call-"
SIGNATURE_KEY = "thoughtSignature"
"""Where a call's ``thoughtSignature`` is kept in :attr:`ToolCall.provider_data`."""

_FINISH: dict[str, FinishReason] = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
}
_TOOL_CHOICE = {"auto": "AUTO", "none": "NONE", "required": "ANY"}


def new_call_id() -> str:
    """A unique id for a ``functionCall`` Gemini sent without one."""
    return f"{_SYNTHETIC_PREFIX}{uuid.uuid4().hex[:16]}"


# --- request -------------------------------------------------------------------------


@dataclass
class _Turn:
    role: str
    parts: list[dict[str, Any]] = field(default_factory=list)
    # Per part: where its call sits in the preceding model turn (function responses only).
    order: list[int | None] = field(default_factory=list)


def _wire_id(call_id: str | None) -> str | None:
    if call_id is None or call_id.startswith(_SYNTHETIC_PREFIX):
        return None
    return call_id


def _function_call_part(call: ToolCall) -> dict[str, Any]:
    function_call: dict[str, Any] = {"name": call.name, "args": call.arguments}
    wire_id = _wire_id(call.id)
    if wire_id is not None:
        function_call["id"] = wire_id
    part: dict[str, Any] = {"functionCall": function_call}
    signature = call.provider_data.get(SIGNATURE_KEY)
    if isinstance(signature, str):
        # Gemini 3 rejects a tool turn whose calls lost the signature it sent with them.
        part["thoughtSignature"] = signature
    return part


def _response_object(content: str) -> dict[str, Any]:
    try:
        value = json.loads(content)
    except ValueError:
        value = None
    return value if isinstance(value, dict) else {"result": content}


def _function_response_part(message: Message, name: str) -> dict[str, Any]:
    response: dict[str, Any] = {"name": name, "response": _response_object(message.text)}
    wire_id = _wire_id(message.tool_call_id)
    if wire_id is not None:
        response["id"] = wire_id
    return {"functionResponse": response}


def _tool_name(message: Message, calls: Mapping[str, ToolCall]) -> str:
    if message.name:
        return message.name
    call = calls.get(message.tool_call_id or "")
    if call is not None:
        return call.name
    raise BadRequestError(
        f"A tool message (tool_call_id={message.tool_call_id!r}) has no name and answers no "
        f"earlier assistant tool call; Gemini needs the function name. Set Message.name or "
        f"keep the assistant message that made the call in the conversation.",
        provider=PROVIDER,
    )


def build_contents(
    messages: list[Message],
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """``(contents, systemInstruction)`` for a conversation.

    Consecutive turns of one role are merged (all tool results of one assistant turn go in a
    single user turn) and function responses are put in the order of the calls they answer.
    """
    system = [m.text for m in messages if m.role == "system" and m.content]
    calls: dict[str, ToolCall] = {}
    call_order: dict[str, int] = {}
    turns: list[_Turn] = []
    for message in messages:
        role = "model" if message.role == "assistant" else "user"
        parts: list[dict[str, Any]] = []
        order: list[int | None] = []
        if message.role == "system":
            continue
        if message.role == "tool":
            parts.append(_function_response_part(message, _tool_name(message, calls)))
            order.append(call_order.get(message.tool_call_id or ""))
        else:
            if message.text:
                parts.append({"text": message.text})
                order.append(None)
            if message.role == "assistant" and message.tool_calls:
                call_order = {}
                for call in message.tool_calls:
                    calls[call.id] = call
                    call_order[call.id] = len(call_order)
                    parts.append(_function_call_part(call))
                    order.append(None)
        if not parts:
            continue  # an empty message carries nothing, and Gemini rejects empty turns
        if turns and turns[-1].role == role:
            turns[-1].parts.extend(parts)
            turns[-1].order.extend(order)
        else:
            turns.append(_Turn(role, parts, order))
    contents = [{"role": turn.role, "parts": _ordered(turn)} for turn in turns]
    instruction = {"parts": [{"text": "\n\n".join(system)}]} if system else None
    return contents, instruction


def _ordered(turn: _Turn) -> list[dict[str, Any]]:
    if all(position is None for position in turn.order):
        return turn.parts
    # Function responses first, in call order (unknown calls keep their place among them).
    ranked = sorted(
        range(len(turn.parts)),
        key=lambda i: (
            "functionResponse" not in turn.parts[i],
            turn.order[i] if turn.order[i] is not None else len(turn.parts) + i,
            i,
        ),
    )
    return [turn.parts[i] for i in ranked]


def _tool_config(request: LLMRequest) -> dict[str, Any] | None:
    # request.tool_choice has passed check_tool_choice (build_payload runs it first).
    choice = request.tool_choice
    if choice is None:
        return None
    if choice in _TOOL_CHOICE:
        return {"functionCallingConfig": {"mode": _TOOL_CHOICE[choice]}}
    return {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": [choice]}}


def build_payload(request: LLMRequest, declarations: DeclarationCache) -> dict[str, Any]:
    """The JSON body of ``models/<model>:generateContent`` (and the streaming variant).

    Raises:
        BadRequestError: The conversation has no user or assistant content, a tool message
            names no function, or ``tool_choice`` cannot be honoured with the request's tools.
    """
    check_tool_choice(request, provider=PROVIDER)
    contents, instruction = build_contents(request.messages)
    if not contents:
        raise BadRequestError(
            "The conversation has no user or assistant content; Gemini needs at least one "
            "non-system message.",
            provider=PROVIDER,
        )
    payload: dict[str, Any] = {"contents": contents}
    if instruction is not None:
        payload["systemInstruction"] = instruction
    if request.tools:
        payload["tools"] = [
            {"functionDeclarations": [declarations.declaration(t) for t in request.tools]}
        ]
    tool_config = _tool_config(request)
    if tool_config is not None:
        payload["toolConfig"] = tool_config
    generation: dict[str, Any] = {}
    temperature = request.sampling_temperature()
    if temperature is not None:
        generation["temperature"] = temperature
    if request.max_tokens is not None:
        generation["maxOutputTokens"] = request.max_tokens
    if request.stop:
        generation["stopSequences"] = request.stop
    if generation:
        payload["generationConfig"] = generation
    return payload


# --- response ------------------------------------------------------------------------


@dataclass
class Candidate:
    """What one response (or one streamed event) carried, already in Aether's terms."""

    text: str = ""
    reasoning_text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_raw: str | None = None
    safety: list[str] = field(default_factory=list)
    finish_message: str | None = None


def _arguments(raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if isinstance(raw, dict):
        return raw
    return {RAW_ARGUMENTS_KEY: json.dumps(raw, ensure_ascii=False)}


def read_candidate(body: Mapping[str, Any], new_id: Callable[[], str] = new_call_id) -> Candidate:
    """Text, reasoning, calls and finish reason of the first candidate (empty if none)."""
    out = Candidate()
    candidates = body.get("candidates")
    if not isinstance(candidates, list) or not candidates:
        return out
    first = candidates[0] if isinstance(candidates[0], dict) else {}
    raw_finish = first.get("finishReason")
    out.finish_raw = raw_finish if isinstance(raw_finish, str) else None
    if isinstance(first.get("finishMessage"), str):
        out.finish_message = first["finishMessage"]
    for rating in first.get("safetyRatings") or []:
        if isinstance(rating, dict) and rating.get("blocked"):
            out.safety.append(str(rating.get("category", "unknown")))
    content = first.get("content")
    parts = content.get("parts") if isinstance(content, dict) else None
    text: list[str] = []
    reasoning: list[str] = []
    for part in parts if isinstance(parts, list) else []:
        if not isinstance(part, dict):
            continue
        call = part.get("functionCall")
        if isinstance(call, dict):
            given = call.get("id")
            call_id = given if isinstance(given, str) and given else new_id()
            signature = part.get("thoughtSignature")
            out.tool_calls.append(
                ToolCall(
                    id=call_id,
                    name=str(call.get("name", "")),
                    arguments=_arguments(call.get("args")),
                    provider_data={SIGNATURE_KEY: signature} if isinstance(signature, str) else {},
                )
            )
        elif isinstance(part.get("text"), str):
            (reasoning if part.get("thought") is True else text).append(part["text"])
    out.text = "".join(text)
    out.reasoning_text = "".join(reasoning)
    return out


def finish_reason(raw: str | None, *, has_tool_calls: bool) -> FinishReason | None:
    """Gemini's ``finishReason`` in Aether's terms; a turn with calls is ``tool_calls``."""
    if has_tool_calls:
        return "tool_calls"
    if raw is None:
        return None
    return _FINISH.get(raw, "other")


def usage(metadata: Any) -> Usage:
    """Token counts from ``usageMetadata``: thinking is billed, so it counts as output.

    There is no ``cache_write_tokens``: ``usageMetadata`` counts only the prompt tokens read
    from a cache. Writing one is not part of a ``generateContent`` call (an explicit cache is
    created by its own API call; implicit caching bills no writes).
    """
    if not isinstance(metadata, dict):
        metadata = {}
    thoughts = token_count(metadata.get("thoughtsTokenCount"))
    return {
        "input_tokens": token_count(metadata.get("promptTokenCount")),
        "output_tokens": token_count(metadata.get("candidatesTokenCount")) + thoughts,
        "reasoning_tokens": thoughts,
        "cached_input_tokens": token_count(metadata.get("cachedContentTokenCount")),
    }


def raise_if_prompt_blocked(body: Mapping[str, Any]) -> None:
    """Raise :class:`ResponseBlockedError` when Gemini refused the prompt itself."""
    feedback = body.get("promptFeedback")
    reason = feedback.get("blockReason") if isinstance(feedback, dict) else None
    if not reason:
        return
    detail = feedback.get("blockReasonMessage") if isinstance(feedback, dict) else None
    why = f": {detail}" if isinstance(detail, str) and detail else ""
    raise ResponseBlockedError(
        f"Gemini blocked the prompt (blockReason {reason}){why}. Rephrase the request, or "
        f"review the safety settings of the API key's project.",
        reason=str(reason),
        provider=PROVIDER,
    )


def empty_answer_error(
    candidate: Candidate, *, had_candidate: bool, reasoning_chars: int | None = None
) -> ResponseBlockedError:
    """The error for a turn that produced neither text nor tool calls.

    Args:
        candidate: What the turn carried.
        had_candidate: Whether the response held a candidate at all.
        reasoning_chars: Length of the reasoning the turn produced; None: that of
            ``candidate.reasoning_text`` (a stream passes its running total).
    """
    if not had_candidate:
        return ResponseBlockedError(
            "Gemini returned no candidate and no block reason. Retry, or rephrase the request.",
            reason=None,
            provider=PROVIDER,
        )
    reason = candidate.finish_raw or "FINISH_REASON_UNSPECIFIED"
    details = [f"finishReason {reason}"]
    if candidate.safety:
        details.append(f"blocked categories: {', '.join(candidate.safety)}")
    if candidate.finish_message:
        details.append(candidate.finish_message)
    if reasoning_chars is None:
        reasoning_chars = len(candidate.reasoning_text)
    if reasoning_chars:
        # The error type has no field for the text; say it exists, not what it says (it may
        # quote the prompt, and messages end up in logs).
        details.append(f"the model produced {reasoning_chars} characters of reasoning only")
    return ResponseBlockedError(
        f"Gemini returned an empty answer ({'; '.join(details)}). Rephrase the request, or "
        f"raise max_tokens if the model spent them all on thinking.",
        reason=reason,
        provider=PROVIDER,
    )


def retry_delay(payload: Any) -> float | None:
    """Seconds from a parsed 429 body's ``RetryInfo.retryDelay`` (``"12s"``, ``"1.5s"``)."""
    if isinstance(payload, list) and payload:
        payload = payload[0]  # some Gemini front ends wrap the error in a list
    error = payload.get("error") if isinstance(payload, dict) else None
    details = error.get("details") if isinstance(error, dict) else None
    for detail in details if isinstance(details, list) else []:
        if isinstance(detail, dict) and str(detail.get("@type", "")).endswith("RetryInfo"):
            return _seconds(detail.get("retryDelay"))
    return None


def _seconds(raw: Any) -> float | None:
    """A protobuf ``Duration`` in its JSON form (``"1.5s"``) or as ``{seconds, nanos}``."""
    try:
        if isinstance(raw, str) and raw.endswith("s"):
            seconds = float(raw[:-1])
        elif isinstance(raw, dict):
            seconds = float(raw.get("seconds", 0)) + float(raw.get("nanos", 0)) / 1e9
        else:
            return None
    except (TypeError, ValueError):
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None
