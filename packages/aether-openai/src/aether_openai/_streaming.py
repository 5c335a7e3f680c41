"""Folding ``chat.completion.chunk`` objects into :class:`LLMStreamChunk` deltas.

Text and reasoning deltas are passed on as they arrive. Tool-call fragments are assembled per
``index`` (first id, concatenated name and argument text) and only whole calls are handed out,
on the final chunk, together with the finish reason and the usage that OpenAI sends in a last
chunk with no choices (``stream_options.include_usage``).
"""

from __future__ import annotations

from typing import Any

from aether.errors import StreamInterruptedError
from aether.http import parse_tool_arguments
from aether.llm.contracts import LLMStreamChunk, ToolCall
from aether_openai._mapping import (
    PROVIDER,
    Usage,
    finish_reason_from_wire,
    reasoning_from_wire,
    usage_from_wire,
)

__all__ = ["StreamAssembler"]


class _PartialCall:
    __slots__ = ("arguments", "id", "name")

    def __init__(self) -> None:
        self.id = ""
        self.name: list[str] = []
        self.arguments: list[str] = []


class StreamAssembler:
    """Turns the decoded JSON of each SSE ``data`` line into stream chunks.

    Call :meth:`feed` per event (it returns a chunk to yield, or None) and :meth:`finish` after
    ``[DONE]`` for the final chunk.
    """

    __slots__ = ("_calls", "_finish", "_usage", "chunks", "model", "response_id")

    def __init__(self) -> None:
        self._calls: dict[int, _PartialCall] = {}
        self._finish: str | None = None
        self._usage: Usage = {}
        self.model: str | None = None
        self.response_id: str | None = None
        self.chunks = 0
        """How many chunks :meth:`feed` returned (for ``StreamInterruptedError``)."""

    def feed(self, data: Any) -> LLMStreamChunk | None:
        """Take one decoded chunk; return the delta to yield, if it carried text."""
        if not isinstance(data, dict):
            raise StreamInterruptedError(
                f"The stream sent an event that is not a JSON object ({str(data)[:200]!r}); "
                f"the answer cannot be trusted. Retry the call.",
                provider=PROVIDER,
                chunks_received=self.chunks,
            )
        error = data.get("error")
        if error:
            message = error.get("message") if isinstance(error, dict) else str(error)
            raise StreamInterruptedError(
                f"The server reported an error mid-stream: {message}. The answer is "
                f"incomplete; retry the call.",
                provider=PROVIDER,
                chunks_received=self.chunks,
            )
        if self.response_id is None:
            self.response_id = data.get("id")
            self.model = data.get("model")
        usage = data.get("usage")
        if usage:
            self._usage = usage_from_wire(usage)
        choices = data.get("choices")
        if not choices:
            return None
        choice = choices[0]
        reason = choice.get("finish_reason")
        if reason:
            self._finish = reason
        delta = choice.get("delta")
        if not delta:
            return None
        text = delta.get("content")
        reasoning = ""
        if len(delta) > 1 or not text:  # a plain text delta skips the rarer fields
            tool_deltas = delta.get("tool_calls")
            if tool_deltas:
                self._add_tool_deltas(tool_deltas)
            if not text:
                text = delta.get("refusal")
            reasoning = reasoning_from_wire(delta)
            if not text and not reasoning:
                return None
        self.chunks += 1
        return LLMStreamChunk(
            text=text if isinstance(text, str) else "",
            reasoning_text=reasoning,
            model=self.model,
            response_id=self.response_id,
        )

    def _add_tool_deltas(self, deltas: list[Any]) -> None:
        for position, delta in enumerate(deltas):
            index = delta.get("index")
            if not isinstance(index, int):
                index = position
            call = self._calls.get(index)
            if call is None:
                call = self._calls[index] = _PartialCall()
            if not call.id and delta.get("id"):
                call.id = delta["id"]
            function = delta.get("function")
            if function:
                name = function.get("name")
                if name:
                    call.name.append(name)
                arguments = function.get("arguments")
                if arguments:
                    call.arguments.append(arguments)

    def tool_calls(self) -> list[ToolCall]:
        """The calls assembled so far, in ``index`` order."""
        return [
            ToolCall(
                id=call.id or f"call_{index}",
                name="".join(call.name),
                arguments=parse_tool_arguments("".join(call.arguments)),
            )
            for index, call in sorted(self._calls.items())
        ]

    def finish(self) -> LLMStreamChunk:
        """The last chunk: whole tool calls, the finish reason and the usage."""
        calls = self.tool_calls()
        reason = finish_reason_from_wire(self._finish, has_tool_calls=bool(calls))
        self.chunks += 1
        return LLMStreamChunk(
            tool_calls=calls,
            # [DONE] without any finish_reason: the server is quirky, not the answer cut.
            finish_reason=reason or "other",
            model=self.model,
            response_id=self.response_id,
            **self._usage,
        )
