"""Reading a typed answer as it streams: :class:`PartialReader`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from pydantic import ValidationError

from aether.llm.contracts import LLMResponse, LLMStreamChunk, ToolCall

if TYPE_CHECKING:
    from aether.llm._output_plan import OutputPlan

__all__ = ["PartialReader"]

# A partial value is read again once the answer has grown by an eighth (at least this many
# characters): each read parses the whole answer so far, and reading after every chunk would
# make streaming quadratic in the answer's length.
_MIN_STEP: Final = 16


_NOTHING: Final[Any] = object()


class PartialReader:
    """Reads a streamed answer as it forms: a growing value as the chunks grow it.

    ``feed(chunk)`` is True when the chunk made a new partial value, then :attr:`last`
    (validated with pydantic's partial JSON: what is complete so far, and a trailing string as
    far as it came). The answer is read again each time it has grown by an eighth, so a long
    answer costs linear time, not quadratic. :meth:`response` is the whole answer once the
    stream has ended, for :meth:`OutputPlan.read`.
    """

    __slots__ = (
        "_args",
        "_calls",
        "_last",
        "_names",
        "_next_at",
        "_plan",
        "_refusal",
        "_tail",
        "_text",
    )

    def __init__(self, plan: OutputPlan) -> None:
        self._plan = plan
        self._text = ""
        self._names: dict[int, str | None] = {}  # tool mode: the name of each call index
        self._args: dict[int, str] = {}
        self._calls: list[ToolCall] = []
        self._refusal: list[str] = []
        self._tail: LLMStreamChunk | None = None
        self._last: Any = _NOTHING
        self._next_at = 0  # the length of the answer at which it is read next

    @property
    def has_value(self) -> bool:
        """Whether a partial value was made yet."""
        return self._last is not _NOTHING

    @property
    def last(self) -> Any:
        """The latest partial value (see :attr:`has_value`)."""
        return self._last

    def feed(self, chunk: LLMStreamChunk) -> bool:
        """Take ``chunk``; True when it made a new partial value (then in :attr:`last`)."""
        if chunk.refusal:
            self._refusal.append(chunk.refusal)
        if chunk.tool_calls:
            self._calls.extend(chunk.tool_calls)
        if chunk.finish_reason is not None or chunk.input_tokens or chunk.output_tokens:
            self._tail = chunk
        source: str | None = None
        if chunk.text:
            self._text += chunk.text
            source = self._text
        tool = self._plan.tool_name
        if tool is not None:
            source = None  # in tool mode the answer is the call's arguments
            for delta in chunk.tool_call_deltas:
                if delta.name is not None:  # a call starts (indexes count from 0 each answer)
                    self._names[delta.index] = delta.name
                    self._args[delta.index] = ""
                    self._next_at = 0
                if delta.arguments and self._names.get(delta.index) == tool:
                    self._args[delta.index] += delta.arguments
                    source = self._args[delta.index]
        if source is None or len(source) < self._next_at:
            return False
        self._next_at = len(source) + max(_MIN_STEP, len(source) >> 3)
        value = self._partial(source)
        if value is _NOTHING or value == self._last:
            return False
        self._last = value
        return True

    def _partial(self, text: str) -> Any:
        if self._plan.mode == "prompted":
            text = _partial_json(text)
            if not text:
                return _NOTHING
        try:
            return self._plan.output.shape.partial(text)
        except ValidationError:
            return _NOTHING

    def response(self) -> LLMResponse:
        """The whole answer the stream gave (its usage, finish and calls included)."""
        tail = self._tail
        usage: dict[str, Any] = {}
        if tail is not None:
            usage = {
                "input_tokens": tail.input_tokens,
                "output_tokens": tail.output_tokens,
                "cached_input_tokens": tail.cached_input_tokens,
                "cache_write_tokens": tail.cache_write_tokens,
                "reasoning_tokens": tail.reasoning_tokens,
                "model": tail.model or "",
                "response_id": tail.response_id,
                "finish_reason": tail.finish_reason,
            }
        return LLMResponse(
            text=self._text,
            refusal="".join(self._refusal) if self._refusal else None,
            tool_calls=self._calls,
            **usage,
        )


def _partial_json(text: str) -> str:
    """The JSON part of a prompted answer still streaming (after a fence or prose)."""
    fence = text.find("```")
    if fence >= 0:
        newline = text.find("\n", fence)
        if newline < 0:
            return ""
        body = text[newline + 1 :]
        end = body.find("```")
        return body if end < 0 else body[:end]
    starts = [index for index in (text.find("{"), text.find("[")) if index >= 0]
    return text[min(starts) :] if starts else ""
