"""Folding the Messages API's typed stream events into :class:`LLMStreamChunk` objects.

A stream is ``message_start`` (id, model, the prompt's usage), then per content block a
``content_block_start``, its ``content_block_delta`` events and a ``content_block_stop``,
then ``message_delta`` (stop reason, final usage) and ``message_stop``; ``ping`` may come
anywhere and an ``error`` event replaces the rest (core's ``decode_event`` raises it before
it reaches the assembler). Text and thinking deltas are passed on as
they arrive; a tool call is handed out whole when its block stops; the last chunk carries the
finish reason and the usage of ``message_start`` as updated by ``message_delta``.
"""

from __future__ import annotations

from typing import Any

from aether.llm.contracts import LLMStreamChunk, ToolCall
from aether_anthropic._response import (
    finish_reason_from_wire,
    thinking_to_replay,
    tool_call_from_wire,
    usage_from_wire,
    with_thinking,
)

__all__ = ["StreamAssembler"]


class _Block:
    """One content block being streamed: its kind and what its deltas carried so far."""

    __slots__ = ("data", "id", "input", "kind", "name", "parts", "signature")

    def __init__(self, start: dict[str, Any]) -> None:
        self.kind = start.get("type")
        self.id = start.get("id")
        self.name = start.get("name")
        self.input = start.get("input")
        self.data = start.get("data")
        self.signature = start.get("signature")
        self.parts: list[str] = []

    def tool_call(self, position: int) -> ToolCall:
        if self.parts:
            arguments: Any = "".join(self.parts)
            if not arguments.strip() and isinstance(self.input, dict):
                arguments = self.input  # only empty fragments: the start's input stands
        else:
            arguments = self.input
        return tool_call_from_wire(self.id, self.name, arguments, position=position)

    def replay(self) -> dict[str, Any] | None:
        return thinking_to_replay(
            {
                "type": self.kind,
                "thinking": "".join(self.parts),
                "signature": self.signature,
                "data": self.data,
            }
        )


class StreamAssembler:
    """Turns the decoded JSON of each event into chunks to yield.

    Call :meth:`feed` per event (it returns a chunk, or None) and, once :attr:`done`,
    :meth:`finish` for the closing chunk. Events come decoded by
    :meth:`~aether.http.HTTPProviderClient.decode_event`, which has already raised an
    ``error`` event as its typed error and refused anything that is not a JSON object.

    Args:
        model: The model asked for, used until ``message_start`` names the one answering.
    """

    __slots__ = (
        "_blocks",
        "_calls",
        "_pending",
        "_stop_reason",
        "_usage",
        "chunks",
        "done",
        "model",
        "response_id",
        "thinking",
    )

    def __init__(self, model: str) -> None:
        self.model = model
        self.response_id: str | None = None
        self.done = False
        """True once ``message_stop`` arrived: the answer is complete."""
        self.chunks = 0
        """How many chunks :meth:`feed` and :meth:`finish` returned."""
        self._usage: dict[str, Any] = {}
        self._stop_reason: str | None = None
        self._blocks: dict[int, _Block] = {}
        self._calls = 0
        self._pending: list[dict[str, Any]] = []

    def feed(self, data: dict[str, Any], event: str = "message") -> LLMStreamChunk | None:
        """Take one event's decoded ``data``; return the chunk to yield, if any.

        Args:
            data: The event's JSON object.
            event: The SSE event name, used when the JSON carries no ``type``.
        """
        kind = data.get("type") or event
        if kind == "content_block_delta":
            return self._delta(data)
        if kind == "content_block_start":
            return self._start(data)
        if kind == "content_block_stop":
            return self._stop(data)
        if kind == "message_start":
            self._message_start(data.get("message"))
        elif kind == "message_delta":
            delta = data.get("delta")
            if isinstance(delta, dict) and isinstance(delta.get("stop_reason"), str):
                self._stop_reason = delta["stop_reason"]
            self._update_usage(data.get("usage"))
        elif kind == "message_stop":
            self.done = True
        # ping, and event types added to the API later, carry nothing Aether uses.
        return None

    def _message_start(self, message: Any) -> None:
        if not isinstance(message, dict):
            return
        if isinstance(message.get("id"), str):
            self.response_id = message["id"]
        if isinstance(message.get("model"), str):
            self.model = message["model"]
        self._update_usage(message.get("usage"))

    def _update_usage(self, usage: Any) -> None:
        # message_delta's counts are cumulative and may repeat (or newly fill in) the prompt's.
        if isinstance(usage, dict):
            self._usage.update((k, v) for k, v in usage.items() if v is not None)

    def _chunk(self, *, text: str = "", reasoning: str = "") -> LLMStreamChunk:
        self.chunks += 1
        return LLMStreamChunk(
            text=text, reasoning_text=reasoning, model=self.model, response_id=self.response_id
        )

    def _start(self, data: dict[str, Any]) -> LLMStreamChunk | None:
        start = data.get("content_block")
        if not isinstance(start, dict):
            return None
        block = _Block(start)
        self._blocks[_index(data)] = block
        if block.kind == "text" and isinstance(start.get("text"), str) and start["text"]:
            return self._chunk(text=start["text"])
        if block.kind == "thinking":
            thought = start.get("thinking")
            if isinstance(thought, str) and thought:
                block.parts.append(thought)
                return self._chunk(reasoning=thought)
        return None

    def _delta(self, data: dict[str, Any]) -> LLMStreamChunk | None:
        delta = data.get("delta")
        if not isinstance(delta, dict):
            return None
        kind = delta.get("type")
        if kind == "text_delta":
            text = delta.get("text")
            return self._chunk(text=text) if isinstance(text, str) and text else None
        block = self._blocks.get(_index(data))
        if kind == "input_json_delta":
            partial = delta.get("partial_json")
            if block is not None and isinstance(partial, str):
                block.parts.append(partial)
        elif kind == "thinking_delta":
            thought = delta.get("thinking")
            if isinstance(thought, str) and thought:
                if block is not None:
                    block.parts.append(thought)
                return self._chunk(reasoning=thought)
        elif kind == "signature_delta" and block is not None:
            block.signature = (block.signature or "") + str(delta.get("signature") or "")
        return None  # citations and future delta types carry nothing Aether uses

    def _stop(self, data: dict[str, Any]) -> LLMStreamChunk | None:
        block = self._blocks.pop(_index(data), None)
        if block is None:
            return None
        if block.kind == "tool_use":
            self.chunks += 1
            return LLMStreamChunk(
                tool_calls=[self._close_call(block)],
                model=self.model,
                response_id=self.response_id,
            )
        if block.kind in ("thinking", "redacted_thinking"):
            replay = block.replay()
            if replay is not None:
                self._pending.append(replay)
        return None

    def _close_call(self, block: _Block) -> ToolCall:
        call = with_thinking(block.tool_call(self._calls), self._pending)
        self._calls += 1
        self._pending = []
        return call

    def finish(self) -> LLMStreamChunk:
        """The closing chunk: finish reason and the final usage.

        A tool call whose block never got its ``content_block_stop`` is handed out here, as
        the message itself did end.
        """
        leftovers = [
            self._close_call(block)
            for _, block in sorted(self._blocks.items())
            if block.kind == "tool_use"
        ]
        self._blocks.clear()
        reason = finish_reason_from_wire(self._stop_reason, has_tool_calls=self._calls > 0)
        self.chunks += 1
        return LLMStreamChunk(
            tool_calls=leftovers,
            # message_stop without a stop_reason: the server is quirky, not the answer cut.
            finish_reason=reason or "other",
            model=self.model,
            response_id=self.response_id,
            **usage_from_wire(self._usage),
        )


def _index(data: dict[str, Any]) -> int:
    index = data.get("index")
    return index if isinstance(index, int) else 0
