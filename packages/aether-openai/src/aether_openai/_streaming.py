"""Folding ``chat.completion.chunk`` objects into :class:`LLMStreamChunk` deltas.

Only choice ``index`` 0 is assembled. Text, refusal and reasoning deltas are passed on as they
arrive. Tool-call fragments are passed on too, as ``tool_call_deltas``: one
:class:`~aether.llm.contracts.ToolCallDelta` per fragment, with the call's ``index`` and the
next piece of its argument text (the pieces of one ``index`` joined are its arguments), and,
on the fragments that bring them (the first, from OpenAI), its id and its name as known so
far (a compatible server may send a name in pieces; the latest is the whole). The fragments
are also assembled per ``index`` (first id, concatenated name and argument text), and the
whole calls are handed out on the final chunk, together with the finish reason and the usage
that OpenAI sends in a last chunk with no choices (``stream_options.include_usage``).
"""

from __future__ import annotations

from typing import Any

from aether.http import parse_tool_arguments
from aether.llm.contracts import LLMStreamChunk, ToolCall, ToolCallDelta
from aether_openai._mapping import (
    Usage,
    finish_reason_from_wire,
    first_choice,
    reasoning_from_wire,
    refusal_from_wire,
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
    """Turns the JSON object of each SSE ``data`` line into stream chunks.

    Call :meth:`feed` per event (it returns a chunk to yield, or None) and :meth:`finish` after
    ``[DONE]`` for the final chunk. Events come decoded by
    :meth:`~aether.http.HTTPProviderClient.decode_event`, which has already raised any
    in-band error and refused anything that is not a JSON object.
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

    def feed(self, data: dict[str, Any]) -> LLMStreamChunk | None:
        """Take one decoded chunk; return the delta to yield, if it carried any."""
        if not self.response_id:
            # Azure OpenAI opens with a prompt_filter_results chunk whose id and model are "".
            response_id = data.get("id")
            if isinstance(response_id, str) and response_id:
                self.response_id = response_id
        if not self.model:
            model = data.get("model")
            if isinstance(model, str) and model:
                self.model = model
        usage = data.get("usage")
        if usage:
            self._usage = usage_from_wire(usage)
        choice = first_choice(data.get("choices"))
        if choice is None:
            return None
        reason = choice.get("finish_reason")
        if reason:
            self._finish = reason
        delta = choice.get("delta")
        if not delta:
            return None
        text = delta.get("content")
        reasoning = ""
        refusal = None
        fragments: list[ToolCallDelta] = []
        if len(delta) > 1 or not text:  # a plain text delta skips the rarer fields
            tool_deltas = delta.get("tool_calls")
            if tool_deltas:
                fragments = self._add_tool_deltas(tool_deltas)
            refusal = refusal_from_wire(delta)
            reasoning = reasoning_from_wire(delta)
            if not text and not reasoning and refusal is None and not fragments:
                return None
        self.chunks += 1
        return LLMStreamChunk(
            text=text if isinstance(text, str) else "",
            refusal=refusal,
            reasoning_text=reasoning,
            tool_call_deltas=fragments,
            model=self.model,
            response_id=self.response_id,
        )

    def _add_tool_deltas(self, deltas: list[Any]) -> list[ToolCallDelta]:
        fragments: list[ToolCallDelta] = []
        for position, delta in enumerate(deltas):
            index = delta.get("index")
            if not isinstance(index, int):
                index = position
            call = self._calls.get(index)
            if call is None:
                call = self._calls[index] = _PartialCall()
            new_id = not call.id and bool(delta.get("id"))
            if new_id:
                call.id = delta["id"]
            function = delta.get("function")
            if not isinstance(function, dict):
                function = {}
            name, arguments = function.get("name"), function.get("arguments")
            name = name if isinstance(name, str) else ""
            arguments = arguments if isinstance(arguments, str) else ""
            if name:
                call.name.append(name)
            if arguments:
                call.arguments.append(arguments)
            fragments.append(
                ToolCallDelta(
                    index=index,
                    id=call.id if new_id else None,
                    name="".join(call.name) if name else None,
                    arguments=arguments,
                )
            )
        return fragments

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
