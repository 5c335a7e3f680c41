"""Gemini's streamed ``GenerateContentResponse`` objects turned into Aether stream chunks.

Each event of ``streamGenerateContent`` is a whole ``GenerateContentResponse`` holding only
the new parts: text deltas, whole ``functionCall`` parts, and a running ``usageMetadata``.
Content chunks are yielded as they arrive; one last chunk carries the finish reason and the
final usage, so the usage is counted once however many events repeat it. A call arrives
whole, so its chunk carries it twice: as a :class:`~aether.llm.contracts.ToolCall` and as one
:class:`~aether.llm.contracts.ToolCallDelta` holding all of its arguments' JSON text, the form
in which other providers stream calls piece by piece (a reader of fragments needs no case for
Gemini).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aether.errors import StreamInterruptedError
from aether.http import dump_tool_arguments
from aether.llm.contracts import LLMStreamChunk, ToolCall, ToolCallDelta
from aether_gemini._mapping import (
    PROVIDER,
    Candidate,
    empty_answer_error,
    finish_reason,
    new_call_id,
    raise_if_prompt_blocked,
    read_candidate,
    usage,
)

__all__ = ["StreamState"]


class StreamState:
    """Folds a stream's events into chunks; :meth:`finish` gives the closing chunk.

    Events come decoded by :meth:`~aether.http.HTTPProviderClient.decode_event`, which has
    already raised any in-band error (with its ``RetryInfo.retryDelay``) and refused anything
    that is not a JSON object.

    Args:
        model: The model asked for, used until the stream names its ``modelVersion``.
        new_id: Makes ids for function calls Gemini sent without one.
    """

    def __init__(self, model: str, new_id: Callable[[], str] = new_call_id) -> None:
        self.model = model
        self.response_id: str | None = None
        self._new_id = new_id
        self._usage: Any = None
        self._finish_raw: str | None = None
        self._saw_candidate = False
        self._answered = False
        self._calls = 0
        self._safety: list[str] = []
        self._finish_message: str | None = None
        self._reasoning_chars = 0

    def feed(self, body: dict[str, Any]) -> LLMStreamChunk | None:
        """The chunk for one event's JSON object, or None when it carried no content.

        Raises:
            ResponseBlockedError: The prompt was blocked.
        """
        raise_if_prompt_blocked(body)
        if isinstance(body.get("modelVersion"), str):
            self.model = body["modelVersion"]
        if isinstance(body.get("responseId"), str):
            self.response_id = body["responseId"]
        if body.get("usageMetadata") is not None:
            self._usage = body["usageMetadata"]
        if isinstance(body.get("candidates"), list) and body["candidates"]:
            self._saw_candidate = True
        candidate = read_candidate(body, self._new_id)
        first = self._calls  # the answer's index of this event's first call
        self._note(candidate)
        if not (candidate.text or candidate.reasoning_text or candidate.tool_calls):
            return None
        return LLMStreamChunk(
            text=candidate.text,
            reasoning_text=candidate.reasoning_text,
            tool_calls=candidate.tool_calls,
            tool_call_deltas=[
                _fragment(first + i, call) for i, call in enumerate(candidate.tool_calls)
            ],
            model=self.model,
            response_id=self.response_id,
        )

    def _note(self, candidate: Candidate) -> None:
        if candidate.finish_raw is not None:
            self._finish_raw = candidate.finish_raw
        if candidate.finish_message is not None:
            self._finish_message = candidate.finish_message
        self._safety.extend(candidate.safety)
        self._reasoning_chars += len(candidate.reasoning_text)
        if candidate.text or candidate.tool_calls:
            self._answered = True
        self._calls += len(candidate.tool_calls)

    def finish(self, *, chunks_received: int = 0) -> LLMStreamChunk:
        """The closing chunk: finish reason and final usage.

        Args:
            chunks_received: How many chunks the caller already got, for the error.

        Raises:
            StreamInterruptedError: The stream ended without a finish reason.
            ResponseBlockedError: The stream finished without any text or tool call.
        """
        if self._finish_raw is None:
            raise StreamInterruptedError(
                "Gemini's stream ended without a finish reason; the answer is incomplete. "
                "Retry the call.",
                chunks_received=chunks_received,
                provider=PROVIDER,
            )
        reason = finish_reason(self._finish_raw, has_tool_calls=self._calls > 0)
        if not self._answered and reason != "length":
            summary = Candidate(
                finish_raw=self._finish_raw,
                safety=self._safety,
                finish_message=self._finish_message,
            )
            raise empty_answer_error(
                summary, had_candidate=self._saw_candidate, reasoning_chars=self._reasoning_chars
            )
        return LLMStreamChunk(
            finish_reason=reason,
            model=self.model,
            response_id=self.response_id,
            **usage(self._usage),
        )


def _fragment(index: int, call: ToolCall) -> ToolCallDelta:
    """The whole of ``call`` as the one fragment it streams as (kept malformed text as is)."""
    arguments = dump_tool_arguments(call.arguments)
    return ToolCallDelta(index=index, id=call.id, name=call.name, arguments=arguments)
