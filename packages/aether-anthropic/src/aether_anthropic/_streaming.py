"""Folding the Messages API's typed stream events into :class:`LLMStreamChunk` objects.

A stream is ``message_start`` (id, model, the prompt's usage), then per content block a
``content_block_start``, its ``content_block_delta`` events and a ``content_block_stop``,
then ``message_delta`` (stop reason, final usage) and ``message_stop``; ``ping`` may come
anywhere and an ``error`` event replaces the rest (core's ``decode_event`` raises it before
it reaches the assembler). Text and thinking deltas are passed on as
they arrive; a tool call's arguments as :class:`ToolCallDelta` fragments as they arrive (the
first, with no arguments, names the call: its id and tool; the others carry neither), then the
call whole when its block stops; the last chunk carries the finish reason and the usage of
``message_start`` as updated by ``message_delta``.
"""

from __future__ import annotations

import json
from typing import Any

from aether.llm.contracts import LLMStreamChunk, ToolCall, ToolCallDelta
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

    __slots__ = ("data", "id", "input", "kind", "name", "parts", "position", "signature")

    def __init__(self, start: dict[str, Any], position: int) -> None:
        self.kind = start.get("type")
        self.id = start.get("id")
        self.name = start.get("name")
        self.input = start.get("input")
        self.data = start.get("data")
        self.signature = start.get("signature")
        self.parts: list[str] = []
        self.position = position
        """A tool call's place among the answer's calls."""

    def _streamed(self) -> bool:
        return bool("".join(self.parts).strip())

    def tool_call(self) -> ToolCall:
        # Only empty fragments (or none): the start's input stands.
        arguments: Any = "".join(self.parts) if self._streamed() else self.input
        return tool_call_from_wire(self.id, self.name, arguments, position=self.position)

    def opening(self) -> ToolCallDelta:
        """The fragment that starts the call: its id and tool, before any arguments."""
        return ToolCallDelta(
            index=self.position,
            id=self.id if isinstance(self.id, str) else None,
            name=self.name if isinstance(self.name, str) else "",
        )

    def fragment(self, arguments: str) -> ToolCallDelta:
        return ToolCallDelta(index=self.position, arguments=arguments)

    def closing_fragments(self) -> list[ToolCallDelta]:
        """The arguments no fragment carried (the start's input), so the fragments add up."""
        if self._streamed() or not isinstance(self.input, dict) or not self.input:
            return []
        return [self.fragment(json.dumps(self.input))]

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
        "_started",
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
        self._started = 0
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

    def _chunk(
        self,
        *,
        text: str = "",
        reasoning: str = "",
        fragments: list[ToolCallDelta] | None = None,
        calls: list[ToolCall] | None = None,
    ) -> LLMStreamChunk:
        self.chunks += 1
        return LLMStreamChunk(
            text=text,
            reasoning_text=reasoning,
            tool_call_deltas=fragments or [],
            tool_calls=calls or [],
            model=self.model,
            response_id=self.response_id,
        )

    def _start(self, data: dict[str, Any]) -> LLMStreamChunk | None:
        start = data.get("content_block")
        if not isinstance(start, dict):
            return None
        block = _Block(start, self._started)
        self._blocks[_index(data)] = block
        if block.kind == "tool_use":
            self._started += 1
            return self._chunk(fragments=[block.opening()])
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
                if partial and block.kind == "tool_use":
                    return self._chunk(fragments=[block.fragment(partial)])
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
            return self._chunk(fragments=block.closing_fragments(), calls=[self._close_call(block)])
        if block.kind in ("thinking", "redacted_thinking"):
            replay = block.replay()
            if replay is not None:
                self._pending.append(replay)
        return None

    def _close_call(self, block: _Block) -> ToolCall:
        call = with_thinking(block.tool_call(), self._pending)
        self._calls += 1
        self._pending = []
        return call

    def finish(self) -> LLMStreamChunk:
        """The closing chunk: finish reason and the final usage.

        A tool call whose block never got its ``content_block_stop`` is handed out here, as
        the message itself did end.
        """
        open_calls = [
            block for _, block in sorted(self._blocks.items()) if block.kind == "tool_use"
        ]
        fragments = [fragment for block in open_calls for fragment in block.closing_fragments()]
        leftovers = [self._close_call(block) for block in open_calls]
        self._blocks.clear()
        reason = finish_reason_from_wire(self._stop_reason, has_tool_calls=self._calls > 0)
        self.chunks += 1
        return LLMStreamChunk(
            tool_calls=leftovers,
            tool_call_deltas=fragments,
            # message_stop without a stop_reason: the server is quirky, not the answer cut.
            finish_reason=reason or "other",
            model=self.model,
            response_id=self.response_id,
            **usage_from_wire(self._usage),
        )


def _index(data: dict[str, Any]) -> int:
    index = data.get("index")
    return index if isinstance(index, int) else 0
