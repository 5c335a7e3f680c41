"""``FakeProvider``: a scripted provider so applications test without network or keys.

    fake = FakeProvider(canned_response="hello")            # always answers "hello"
    fake = FakeProvider(responses=[                          # one item per call, in order
        LLMResponse(text="", tool_calls=[ToolCall(id="c1", name="add", arguments={"a": 2})]),
        "The answer is 5.",                                  # a str is a plain text answer
        RateLimitError("slow down", status_code=429),        # an exception is raised
        Fault(ServerError("boom"), after_chunks=3, response="partial text here ..."),
        Invoice(number="A-1", total=12.5),                   # any other value: its JSON
    ])

With neither, it echoes the last user message (``"You said: ..."``), which keeps
``LLM_PROVIDER=fake aether ask "..."`` useful offline. Every request is recorded in ``calls``.

Typed answers work offline: a pydantic model, dataclass, dict, list or other JSON value in the
script is answered as its JSON text (``output_type=`` then reads it, natively: the fake claims
``structured_output``), or, when the request forces a tool by name (``output_type`` in tool
mode), as that tool's call with the value as its arguments. A :class:`ToolCall` is answered as
a call of it. Streamed, a call's arguments arrive in pieces (``tool_call_deltas``) before the
whole call, as from a real provider.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pydantic_core

from aether.errors import AetherError
from aether.llm.capabilities import ProviderCapabilities
from aether.llm.contracts import (
    LLMRequest,
    LLMResponse,
    LLMStreamChunk,
    ToolCall,
    ToolCallDelta,
)

__all__ = ["FakeProvider", "Fault"]

_PIECES = re.compile(r"\s*\S+\s*|\s+")


@dataclass(frozen=True, slots=True)
class Fault:
    """A scripted failure.

    ``complete`` raises ``error`` at once. ``stream`` first yields ``after_chunks`` text chunks
    of ``response`` (so a stream can die mid-way), then raises ``error``.
    """

    error: BaseException
    after_chunks: int = 0
    response: LLMResponse | str | None = None


ScriptItem = LLMResponse | str | ToolCall | BaseException | Fault | Any
"""One scripted answer: any other value than these is answered as its JSON (see the docs)."""


class FakeProvider:
    """A provider whose answers are scripted. Satisfies :class:`~aether.llm.LLMProvider`.

    Args:
        canned_response: The answer to every call.
        responses: Answers for successive calls (``LLMResponse``, ``str``, a ``ToolCall``, an
            exception to raise, a :class:`Fault`, or a value answered as its JSON). Running
            out is an error naming how many were given.
        default_model: The model name reported in responses.
        api_key: Accepted and ignored, so the factory can build it like any provider.
    """

    name = "fake"
    # A test double takes whatever a real provider might, so an application's multimodal,
    # reasoning and typed-answer paths are testable offline; it answers from the text alone.
    capabilities = ProviderCapabilities(
        image_input=True,
        document_input=True,
        audio_input=True,
        video_input=True,
        media_in_tool_results=True,
        reasoning=True,
        structured_output=True,
    )

    def __init__(
        self,
        canned_response: str | LLMResponse | Any = None,
        *,
        responses: Iterable[ScriptItem] | None = None,
        default_model: str = "fake-model",
        api_key: str | None = None,
    ) -> None:
        if canned_response is not None and responses is not None:
            raise ValueError("Give FakeProvider either canned_response or responses, not both.")
        self.default_model = default_model
        self.canned_response = canned_response
        self._script: list[ScriptItem] | None = None if responses is None else list(responses)
        self._scripted_total = 0 if self._script is None else len(self._script)
        self.calls: list[LLMRequest] = []

    def __repr__(self) -> str:
        if self._script is not None:
            return f"FakeProvider(remaining={len(self._script)}/{self._scripted_total})"
        return f"FakeProvider(canned_response={self.canned_response!r})"

    @property
    def remaining(self) -> int:
        """How many scripted responses are left (0 when not scripted)."""
        return 0 if self._script is None else len(self._script)

    def _next(self, request: LLMRequest) -> ScriptItem:
        self.calls.append(request)
        if self._script is not None:
            if not self._script:
                raise AetherError(
                    f"FakeProvider ran out of scripted responses: {self._scripted_total} were "
                    f"given and call {len(self.calls)} asked for another. "
                    f"Add more to responses=[...]."
                )
            return self._script.pop(0)
        if self.canned_response is not None:
            return self.canned_response
        last_user = next((m.text for m in reversed(request.messages) if m.role == "user"), "")
        return f"You said: {last_user}"

    def _as_response(self, item: Any, request: LLMRequest) -> LLMResponse:
        if isinstance(item, LLMResponse):
            if item.model:
                return item
            return item.model_copy(update={"model": request.model or self.default_model})
        calls: list[ToolCall] = []
        if isinstance(item, ToolCall):
            calls, text = [item], ""
        elif isinstance(item, str):
            text = item
        else:
            value = pydantic_core.to_jsonable_python(item, by_alias=True)
            forced = request.tool_choice
            if isinstance(value, dict) and forced in {tool.name for tool in request.tools}:
                calls, text = (
                    [ToolCall(id=f"fake_call_{len(self.calls)}", name=forced, arguments=value)],
                    "",
                )
            else:
                text = json.dumps(value, ensure_ascii=False)
        return LLMResponse(
            text=text,
            model=request.model or self.default_model,
            tool_calls=calls,
            input_tokens=_count_words(m.text for m in request.messages),
            output_tokens=_count_words([text]) + sum(len(_arguments_pieces(c)) for c in calls),
            finish_reason="tool_calls" if calls else "stop",
        )

    async def complete(self, request: LLMRequest) -> LLMResponse:
        """Return the next scripted answer (or raise the scripted error)."""
        item = self._next(request)
        if isinstance(item, Fault):
            raise item.error
        if isinstance(item, BaseException):
            raise item
        return self._as_response(item, request)

    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        """Yield the next scripted answer word by word, then a final chunk with usage."""
        item = self._next(request)
        if isinstance(item, BaseException):
            raise item
        fault = item if isinstance(item, Fault) else None
        if fault is not None:
            source = fault.response if fault.response is not None else ""
            pieces = _split(self._as_response(source, request).text)
            for piece in pieces[: fault.after_chunks]:
                yield LLMStreamChunk(text=piece)
            raise fault.error
        assert not isinstance(item, Fault)
        response = self._as_response(item, request)
        for piece in _split(response.text):
            yield LLMStreamChunk(text=piece)
        for index, call in enumerate(response.tool_calls):
            for number, piece in enumerate(_arguments_pieces(call)):
                first = number == 0
                delta = ToolCallDelta(
                    index=index,
                    id=call.id if first else None,
                    name=call.name if first else None,
                    arguments=piece,
                )
                yield LLMStreamChunk(tool_call_deltas=[delta])
        if response.refusal is not None:
            yield LLMStreamChunk(refusal=response.refusal)
        yield LLMStreamChunk(
            model=response.model,
            response_id=response.response_id,
            tool_calls=response.tool_calls,
            finish_reason=response.finish_reason
            or ("tool_calls" if response.tool_calls else "stop"),
            input_tokens=response.input_tokens,
            output_tokens=response.output_tokens,
            cached_input_tokens=response.cached_input_tokens,
            cache_write_tokens=response.cache_write_tokens,
            reasoning_tokens=response.reasoning_tokens,
        )


def _split(text: str) -> Sequence[str]:
    return _PIECES.findall(text)


def _arguments_pieces(call: ToolCall) -> Sequence[str]:
    """A call's arguments as JSON text in pieces, as a provider streams them."""
    try:
        return _split(json.dumps(call.arguments, ensure_ascii=False))
    except (RecursionError, ValueError, TypeError):
        return []  # arguments no JSON text can hold (scripted to test that): the whole call only


def _count_words(texts: Iterable[str]) -> int:
    return sum(len(text.split()) for text in texts)
