"""Gemini's ``generateContent`` answers in Aether's terms, and the names both sides share.

Tool calls are ``functionCall`` parts, usually without an id; usage lives in
``usageMetadata``; a refusal is a ``promptFeedback.blockReason`` or an empty candidate, not an
error status. The request side is :mod:`aether_gemini._contents` and
:mod:`aether_gemini._request`.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aether.errors import ResponseBlockedError
from aether.http import quote_wire, tool_arguments
from aether.llm.contracts import FinishReason, ToolCall
from aether.llm.mapping import Usage, token_count

__all__ = [
    "Candidate",
    "PROVIDER",
    "SIGNATURE_KEY",
    "SYNTHETIC_ID_PREFIX",
    "Usage",
    "empty_answer_error",
    "finish_reason",
    "new_call_id",
    "raise_if_prompt_blocked",
    "read_candidate",
    "retry_delay",
    "usage",
]

PROVIDER = "gemini"

SYNTHETIC_ID_PREFIX = "gemini-call-"
"""Ids Aether made up for calls Gemini sent without one start so; never sent back to Gemini."""
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


def new_call_id() -> str:
    """A unique id for a ``functionCall`` Gemini sent without one."""
    return f"{SYNTHETIC_ID_PREFIX}{uuid.uuid4().hex[:16]}"


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
    return tool_arguments(raw)  # anything but an object (or one nested too deep) kept as text


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
    why = f": {quote_wire(detail, limit=500)}" if isinstance(detail, str) and detail else ""
    raise ResponseBlockedError(
        f"Gemini blocked the prompt (blockReason {quote_wire(reason, limit=100)}){why}. "
        f"Rephrase the request, or review the safety settings of the API key's project.",
        reason=quote_wire(str(reason), limit=100),
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
    details = [f"finishReason {quote_wire(reason, limit=100)}"]
    if candidate.safety:
        details.append(f"blocked categories: {quote_wire(', '.join(candidate.safety), limit=500)}")
    if candidate.finish_message:
        details.append(quote_wire(candidate.finish_message, limit=500))
    if reasoning_chars is None:
        reasoning_chars = len(candidate.reasoning_text)
    if reasoning_chars:
        # The error type has no field for the text; say it exists, not what it says (it may
        # quote the prompt, and messages end up in logs).
        details.append(f"the model produced {reasoning_chars} characters of reasoning only")
    return ResponseBlockedError(
        f"Gemini returned an empty answer ({'; '.join(details)}). Rephrase the request, or "
        f"raise max_tokens if the model spent them all on thinking.",
        reason=quote_wire(reason, limit=100),
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
