"""Chat Completions answers as Aether's contracts (no I/O here; requests: ``_request``).

Tool-call arguments that are not a JSON object are kept as
``{aether.http.RAW_ARGUMENTS_KEY: "<text>"}`` rather than dropped, and are sent back verbatim.
"""

from __future__ import annotations

from typing import Any

from aether.errors import ResponseBlockedError
from aether.http import parse_tool_arguments
from aether.llm.contracts import FinishReason, LLMResponse, ToolCall
from aether.llm.mapping import Usage, token_count

__all__ = [
    "PROVIDER",
    "Usage",
    "finish_reason_from_wire",
    "first_choice",
    "reasoning_from_wire",
    "refusal_from_wire",
    "response_from_wire",
    "text_from_wire",
    "tool_call_from_wire",
    "usage_from_wire",
]

PROVIDER = "openai"

_FINISH_REASONS: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "content_filter",
}


def finish_reason_from_wire(
    raw: str | None, *, has_tool_calls: bool = False
) -> FinishReason | None:
    """The normalised finish reason.

    A forced tool call (``tool_choice`` naming a function) comes back as ``"stop"`` with tool
    calls; it is reported as ``"tool_calls"`` so a tool loop keyed on it still runs them.
    """
    if raw is None:
        return None
    reason = _FINISH_REASONS.get(raw, "other")
    if has_tool_calls and reason == "stop":
        return "tool_calls"
    return reason


def usage_from_wire(usage: Any) -> Usage:
    """Token counts as :class:`LLMResponse` keywords (zeros when the server sent none).

    The detail counts are set only when the server sent their object (many compatible servers
    do not). There is never a ``cache_write_tokens``: OpenAI caches prompts on its own and
    neither reports nor bills writing them.
    """
    if not isinstance(usage, dict):
        return {}
    counts: Usage = {
        "input_tokens": token_count(usage.get("prompt_tokens")),
        "output_tokens": token_count(usage.get("completion_tokens")),
    }
    prompt_details = usage.get("prompt_tokens_details")
    if isinstance(prompt_details, dict):
        counts["cached_input_tokens"] = token_count(prompt_details.get("cached_tokens"))
    completion_details = usage.get("completion_tokens_details")
    if isinstance(completion_details, dict):
        counts["reasoning_tokens"] = token_count(completion_details.get("reasoning_tokens"))
    return counts


def text_from_wire(content: Any) -> str:
    """Message text: a string, null, or (some compatible servers) a list of text parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part.get("text") or ""
            for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    return ""


def reasoning_from_wire(message: dict[str, Any]) -> str:
    """Visible reasoning some compatible servers return (DeepSeek, vLLM, Ollama, OpenRouter)."""
    value = message.get("reasoning_content") or message.get("reasoning")
    return value if isinstance(value, str) else ""


def refusal_from_wire(message: dict[str, Any]) -> str | None:
    """The model's refusal (structured outputs, safety), or None when it did not refuse."""
    value = message.get("refusal")
    return value if isinstance(value, str) and value else None


def first_choice(choices: Any) -> dict[str, Any] | None:
    """Choice ``index`` 0 of ``choices``, or None when there is none.

    Aether never asks for ``n > 1``, but a compatible server may send several choices, and
    in a stream their deltas interleave: only choice 0 is the answer.
    """
    if not isinstance(choices, list) or not choices:
        return None
    first = choices[0]
    if isinstance(first, dict) and first.get("index", 0) == 0:
        return first  # the usual case, without a scan
    for position, choice in enumerate(choices):
        if isinstance(choice, dict) and choice.get("index", position) == 0:
            return choice
    return None


def tool_call_from_wire(call: dict[str, Any], index: int = 0) -> ToolCall:
    """One ``tool_calls[]`` entry of a whole (non-streamed) message.

    A server that sends no id gets ``call_<index>``, so results can still be paired.
    """
    function = call.get("function") or {}
    return ToolCall(
        id=call.get("id") or f"call_{index}",
        name=function.get("name") or "",
        arguments=parse_tool_arguments(function.get("arguments")),
    )


def response_from_wire(data: Any) -> LLMResponse:
    """A whole ``chat.completion`` object as an :class:`LLMResponse`."""
    choice = first_choice(data.get("choices") if isinstance(data, dict) else None)
    if choice is None:
        raise ResponseBlockedError(
            "The response held no choice (with index 0), so there is no answer to return. "
            "Check the request (a content filter may have removed the prompt) and try again.",
            provider=PROVIDER,
            reason="no_choices",
        )
    message = choice.get("message") or {}
    tool_calls = [tool_call_from_wire(c, i) for i, c in enumerate(message.get("tool_calls") or ())]
    return LLMResponse(
        text=text_from_wire(message.get("content")),
        refusal=refusal_from_wire(message),
        reasoning_text=reasoning_from_wire(message),
        tool_calls=tool_calls,
        finish_reason=finish_reason_from_wire(
            choice.get("finish_reason"), has_tool_calls=bool(tool_calls)
        ),
        model=data.get("model") or "",
        response_id=data.get("id"),
        **usage_from_wire(data.get("usage")),
    )
