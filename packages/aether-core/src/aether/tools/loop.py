"""The model ↔ tool loop, whole (:func:`run_tool_loop`) and streamed (:func:`stream_tool_loop`).

One iteration is one tool round: the model asked for tools, they ran (concurrently when there
are several; results go back in the order of the calls), and the assistant turn and the tool
results were appended for the next provider call. The loop ends at the first answer without
tool calls. ``max_iterations=N`` allows N rounds, so the provider is called at most N + 1
times: if the answer after the N-th round still asks for tools,
:class:`~aether.errors.MaxToolIterationsError` is raised (those calls are not run) carrying the
conversation so far, its last message being that unanswered assistant turn.

Rules both variants follow:

* The caller's request and message list are never mutated; each call gets its own request.
* A forced ``tool_choice`` (``"required"`` or a tool's name) applies to the first call only;
  later calls use the provider's default, or the model could never stop calling tools.
* ``request.allowed_tools`` applies to every call, and the loop enforces it too: a call of a
  tool outside it is answered as unknown, even if the provider let it through.
* A round that calls a *deferred* tool (declared by :meth:`Tool.from_schema
  <aether.tools.Tool.from_schema>` without a function) is the last: the loop runs the calls
  it can, then raises :class:`~aether.errors.DeferredToolCallsError` with the rest for the
  caller to run.
* Token counts of the returned answer (and of the last streamed chunk) are **summed over all
  provider calls**: what the whole loop cost. Cost tracking still sees each provider call.
* ``final_tool`` names the tool a typed answer comes through (structured output's tool
  mode): an answer calling it ends the loop, once the other calls of that answer have run,
  and every later call must call a tool (``tool_choice="required"``), as text would end it.
* A tool result holding media (a tool returned an image) keeps each part the provider takes
  in a tool result (:meth:`ProviderCapabilities.tool_result_media
  <aether.llm.ProviderCapabilities.tool_result_media>`); any other is replaced by a note naming
  what was left out (kind, media type, size), never dropped in silence and never an error.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from operator import add, itemgetter
from typing import Any

from aether.errors import DeferredToolCallsError, MaxToolIterationsError
from aether.events import EventBus
from aether.extensions.llm._layer import maybe_aclose
from aether.llm.capabilities import capabilities_of
from aether.llm.contracts import (
    FinishReason,
    LLMProvider,
    LLMRequest,
    LLMResponse,
    LLMStreamChunk,
    Message,
    ToolCall,
)
from aether.llm.instrumented import complete_with_events
from aether.llm.parts import ContentPart, MediaPart, TextPart
from aether.tools.dispatch import run_call, tool_message
from aether.tools.results import describe_media
from aether.tools.tool import Tool

__all__ = ["DeferredToolCallsError", "run_tool_loop", "stream_tool_loop"]

_USAGE = (
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
)
_usage_of = itemgetter(*_USAGE)
_NO_USAGE = (0,) * len(_USAGE)
_FORCED_CHOICES_KEPT = (None, "auto", "none")


async def run_tool_loop(
    provider: LLMProvider,
    request: LLMRequest,
    tools: Sequence[Tool],
    *,
    events: EventBus,
    max_iterations: int,
    tool_timeout: float | None = None,
    final_tool: str | None = None,
    conversation: list[Message] | None = None,
) -> LLMResponse:
    """Call the model, run the tools it asks for, repeat; return the final answer.

    The answer is the last call's (its ``text`` is the final assistant text), with token
    counts summed over every call. Each provider call fires ``request.*`` events; each tool
    call fires ``tool.*`` events.

    Args:
        provider: The provider stack to call.
        request: The first request; ``request.tools`` already lists the tools' specs.
        tools: The tools the model may call (a call naming another one is answered as unknown).
        events: Where lifecycle events go.
        max_iterations: The most tool rounds to run (at least 1); the provider is called at
            most ``max_iterations + 1`` times.
        tool_timeout: Seconds each tool call may take; default: each tool's own ``timeout``.
        final_tool: The tool whose call ends the loop (see the module docs); its calls are
            returned on the answer, never run.
        conversation: A list the loop fills with the whole conversation, the final answer
            included, for a caller that continues it.

    Raises:
        MaxToolIterationsError: The answer after the ``max_iterations``-th round still asked
            for tools.
        DeferredToolCallsError: The model called deferred tools (declared without a
            function); the caller runs them and continues the conversation.
    """
    by_name = _by_name(tools, request, max_iterations)
    messages = _conversation(request, conversation)
    totals = _NO_USAGE
    current = request
    for rounds_run in range(max_iterations + 1):
        response = await complete_with_events(provider, current, events)
        totals = _add_usage(totals, response)
        calls = response.tool_calls
        if not calls:
            if conversation is not None:
                messages.append(Message(role="assistant", content=response.text))
            if rounds_run == 0:
                return response
            return response.model_copy(update=_usage_update(totals))
        messages.append(Message(role="assistant", content=response.text, tool_calls=calls))
        if final_tool is not None and any(call.name == final_tool for call in calls):
            await _run_final_round(
                calls, final_tool, by_name, events, tool_timeout, messages, provider
            )
            return (
                response if rounds_run == 0 else response.model_copy(update=_usage_update(totals))
            )
        if rounds_run == max_iterations:
            break
        await _run_round(calls, by_name, events, tool_timeout, messages, provider)
        current = _next_request(request, messages, final_tool)
    raise MaxToolIterationsError(max_iterations, messages)


async def stream_tool_loop(
    provider: LLMProvider,
    request: LLMRequest,
    tools: Sequence[Tool],
    *,
    events: EventBus,
    max_iterations: int,
    tool_timeout: float | None = None,
    final_tool: str | None = None,
    conversation: list[Message] | None = None,
) -> AsyncIterator[LLMStreamChunk]:
    """The tool loop as ONE logical stream of chunks (see :func:`run_tool_loop`).

    Yields the text (and reasoning) deltas of every provider call as they arrive; tool-control
    data (assembled tool calls, the ``tool_calls`` finish of an intermediate answer, its
    usage) is never yielded. The last chunk is the final answer's, carrying its
    ``finish_reason`` and the token counts summed over all calls. The caller wraps the
    whole stream in ``stream.*`` events once; ``tool.*`` events fire per tool call.
    Closing the stream early closes the provider's stream in progress. An answer calling
    ``final_tool`` ends the stream with a last chunk carrying its calls (and
    ``finish_reason="tool_calls"``); ``conversation`` is filled as in :func:`run_tool_loop`.

    Raises:
        MaxToolIterationsError: After the text of the answer that followed the
            ``max_iterations``-th round and still asked for tools.
        DeferredToolCallsError: After the text of an answer calling deferred tools.
    """
    by_name = _by_name(tools, request, max_iterations)
    messages = _conversation(request, conversation)
    totals = _NO_USAGE
    current = request
    for rounds_run in range(max_iterations + 1):
        calls: list[ToolCall] = []
        parts: list[str] = []
        # The latest control chunk is held back until we know whether it ends the stream.
        held: LLMStreamChunk | None = None
        usage: LLMStreamChunk | None = None
        finish: FinishReason | None = None
        model: str | None = None
        source = provider.stream(current)
        try:
            async for chunk in source:
                if chunk.text:
                    parts.append(chunk.text)
                model = chunk.model or model
                if _is_control(chunk):
                    calls.extend(chunk.tool_calls)
                    finish = chunk.finish_reason or finish
                    if chunk.input_tokens or chunk.output_tokens:
                        usage = chunk
                    if held is not None and (shown := _shown(held)):
                        yield shown
                    held = chunk
                    continue
                if held is not None:
                    if shown := _shown(held):
                        yield shown
                    held = None
                yield chunk
        finally:
            # Closing early (or an error) must close the provider's stream in progress.
            await maybe_aclose(source)
        if usage is not None:
            totals = _add_usage(totals, usage)
        if not calls:
            if conversation is not None:
                messages.append(Message(role="assistant", content="".join(parts)))
            yield _final_chunk(
                held, usage, finish, model, _usage_update(totals), first=rounds_run == 0
            )
            return
        messages.append(Message(role="assistant", content="".join(parts), tool_calls=calls))
        if final_tool is not None and any(call.name == final_tool for call in calls):
            await _run_final_round(
                calls, final_tool, by_name, events, tool_timeout, messages, provider
            )
            last = _final_chunk(held, usage, finish, model, _usage_update(totals), first=False)
            yield last.model_copy(update={"tool_calls": calls, "finish_reason": "tool_calls"})
            return
        if held is not None and (shown := _shown(held)):
            yield shown
        if rounds_run == max_iterations:
            break
        await _run_round(calls, by_name, events, tool_timeout, messages, provider)
        current = _next_request(request, messages, final_tool)
    raise MaxToolIterationsError(max_iterations, messages)


async def _run_round(
    calls: list[ToolCall],
    by_name: dict[str, Tool],
    events: EventBus,
    timeout: float | None,
    messages: list[Message],
    provider: LLMProvider,
) -> None:
    """Run one round's calls, appending their results to ``messages``.

    Raises:
        DeferredToolCallsError: Some calls name deferred tools; the others have run.
    """
    deferred = [call for call in calls if _is_deferred(by_name.get(call.name))]
    if not deferred:
        messages.extend(await _run_calls(calls, by_name, events, timeout, provider))
        return
    runnable = [call for call in calls if not _is_deferred(by_name.get(call.name))]
    if runnable:
        messages.extend(await _run_calls(runnable, by_name, events, timeout, provider))
    raise DeferredToolCallsError(deferred, list(messages))


async def _run_final_round(
    calls: list[ToolCall],
    final_tool: str,
    by_name: dict[str, Tool],
    events: EventBus,
    timeout: float | None,
    messages: list[Message],
    provider: LLMProvider,
) -> None:
    """Run the calls beside the final tool's (the model asked for them); defer none.

    A deferred tool's call is answered as not run: the loop ends here, so no caller would
    run it, and a conversation continued later needs a result for every call.
    """
    others = [call for call in calls if call.name != final_tool]
    runnable = [call for call in others if not _is_deferred(by_name.get(call.name))]
    if runnable:
        messages.extend(await _run_calls(runnable, by_name, events, timeout, provider))
    for call in others:
        if call not in runnable:
            note = f"Not run: the answer was given ({final_tool}) in the same turn."
            messages.append(tool_message(call, note))


def _is_deferred(tool: Tool | None) -> bool:
    return tool is not None and tool.function is None


async def _run_calls(
    calls: Sequence[ToolCall],
    by_name: dict[str, Tool],
    events: EventBus,
    timeout: float | None,
    provider: LLMProvider,
) -> list[Message]:
    """The tool messages answering ``calls``, in the calls' order (what dispatch_tool does,
    without building a ToolResult per call only to turn it into a message)."""
    if len(calls) == 1:
        call = calls[0]
        content, _, _ = await run_call(call, by_name, events, timeout)
        if type(content) is not str:
            content = _fitted(content, provider)
        return [tool_message(call, content)]
    outcomes = await asyncio.gather(*(run_call(call, by_name, events, timeout) for call in calls))
    # gather keeps the calls' order
    return [
        tool_message(call, content if type(content) is str else _fitted(content, provider))
        for call, (content, _, _) in zip(calls, outcomes, strict=True)
    ]


def _fitted(content: str | list[ContentPart], provider: LLMProvider) -> str | list[ContentPart]:
    """``content`` as ``provider`` can take it in a tool result: a note for each media part
    it does not take.

    Looked up per result with parts (rare), so a loop of text results never asks. Content
    left with no media at all becomes one string, the form every provider takes for a tool
    result, its pieces one per line.
    """
    if isinstance(content, str):
        return content
    taken = capabilities_of(provider).tool_result_media()
    if all(part.kind in taken for part in content if isinstance(part, MediaPart)):
        return content
    fitted: list[ContentPart] = []
    for part in content:
        if isinstance(part, MediaPart) and part.kind not in taken:
            note = f"[{describe_media(part)} not shown: it cannot be sent in a tool result here]"
            fitted.append(TextPart(text=note))
        else:
            fitted.append(part)
    if any(isinstance(part, MediaPart) or part.cache for part in fitted):
        return fitted
    return "\n".join(part.text for part in fitted if isinstance(part, TextPart) and part.text)


def _conversation(request: LLMRequest, conversation: list[Message] | None) -> list[Message]:
    """The list the loop appends to: the caller's (filled in place), else a new one."""
    if conversation is None:
        return list(request.messages)
    conversation.extend(request.messages)
    return conversation


def _next_request(
    first: LLMRequest, messages: list[Message], final_tool: str | None = None
) -> LLMRequest:
    update: dict[str, Any] = {"messages": list(messages)}
    if first.tool_choice not in _FORCED_CHOICES_KEPT:
        # With a final tool a text answer would end the loop with no typed answer in it.
        update["tool_choice"] = None if final_tool is None else "required"
    return first.model_copy(update=update)


def _by_name(tools: Sequence[Tool], request: LLMRequest, max_iterations: int) -> dict[str, Tool]:
    """The tools the model may call, by name: those of ``request.allowed_tools`` if set."""
    if max_iterations < 1:
        raise ValueError(f"max_iterations must be >= 1, got {max_iterations}.")
    allowed = request.allowed_tools
    return {tool.name: tool for tool in tools if allowed is None or tool.name in allowed}


def _add_usage(totals: tuple[int, ...], source: LLMResponse | LLMStreamChunk) -> tuple[int, ...]:
    """``totals`` plus the token counts of ``source`` (both in ``_USAGE`` order)."""
    # Read from the instance dict and summed in C: this runs once per provider call, and
    # per-field attribute lookups and a Python-level loop cost several times more.
    return tuple(map(add, totals, _usage_of(source.__dict__)))


def _usage_update(totals: tuple[int, ...]) -> dict[str, int]:
    """The summed token counts as a ``model_copy`` update."""
    return dict(zip(_USAGE, totals, strict=True))


def _is_control(chunk: LLMStreamChunk) -> bool:
    # Usage arrives on the last chunk (sometimes a usage-only one after the finish).
    return bool(
        chunk.tool_calls
        or chunk.finish_reason is not None
        or chunk.input_tokens
        or chunk.output_tokens
    )


def _shown(chunk: LLMStreamChunk) -> LLMStreamChunk | None:
    """The user-visible part of a control chunk (its deltas), or None if it has none."""
    if not (chunk.text or chunk.reasoning_text or chunk.refusal):
        return None
    return LLMStreamChunk(
        text=chunk.text,
        reasoning_text=chunk.reasoning_text,
        refusal=chunk.refusal,
        model=chunk.model,
        response_id=chunk.response_id,
    )


def _final_chunk(
    held: LLMStreamChunk | None,
    usage: LLMStreamChunk | None,
    finish: FinishReason | None,
    model: str | None,
    totals: dict[str, int],
    *,
    first: bool,
) -> LLMStreamChunk:
    """The stream's last chunk: the provider's own, with the loop's finish and summed usage."""
    if held is None:
        # The provider's control data came before more text; end with metadata alone.
        return LLMStreamChunk(model=model, finish_reason=finish or "stop").model_copy(update=totals)
    if first and held is usage and held.finish_reason == finish:
        return held  # nothing to merge: pass the provider's chunk through untouched
    return held.model_copy(update={**totals, "finish_reason": finish or "stop"})
