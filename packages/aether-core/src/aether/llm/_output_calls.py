"""The calls of a typed answer: ask, read, repair; whole (:func:`complete_output`) or streamed.

Each attempt is one ordinary call through the provider stack (with ``tools``, the whole tool
loop), so retries, the circuit breaker, cost tracking and the ``request.*`` / ``stream.*``
events see every attempt like any call. An answer that does not validate is sent back with
pydantic's errors as a follow-up turn (a user message, or the output tool's result in tool
mode), up to ``plan.retries`` times; each repair is logged on ``aether.output`` (INFO) with its
number. A refusal raises :class:`~aether.errors.ResponseBlockedError` at once, and an answer
cut at ``max_tokens`` is not repaired (asking again would cut it again).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from operator import add, attrgetter
from typing import Any

from aether.errors import OutputValidationError
from aether.events import EventBus
from aether.extensions.llm._layer import aclosing_stream
from aether.llm._output_plan import OutputPlan, Reading, check_refusal
from aether.llm.contracts import LLMProvider, LLMRequest, LLMResponse, Message
from aether.llm.instrumented import complete_with_events, stream_with_events
from aether.tools.loop import run_tool_loop, stream_tool_loop
from aether.tools.tool import Tool

__all__ = ["complete_output", "stream_output"]

logger = logging.getLogger("aether.output")

_USAGE = (
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
)
_usage_of = attrgetter(*_USAGE)


async def complete_output(
    provider: LLMProvider,
    request: LLMRequest,
    plan: OutputPlan,
    *,
    tools: Sequence[Tool],
    events: EventBus,
    max_iterations: int,
    tool_timeout: float | None,
    provider_name: str | None,
) -> LLMResponse:
    """The typed answer to ``request`` (built from ``plan``), on ``LLMResponse.output``.

    Token counts of the returned answer are summed over every call, repairs included.

    Raises:
        ResponseBlockedError: The model refused, or the provider withheld the answer.
        OutputValidationError: No answer fitted the type, repairs included.
    """
    plan, request = plan.settled(request)
    current = request
    spent: tuple[int, ...] | None = None  # the token counts of the attempts before this one
    attempt = 1
    while True:
        conversation: list[Message] | None = None
        if tools:
            conversation = []
            response = await run_tool_loop(
                provider,
                current,
                tools,
                events=events,
                max_iterations=max_iterations,
                tool_timeout=tool_timeout,
                final_tool=plan.tool_name,
                conversation=conversation,
            )
        else:
            response = await complete_with_events(provider, current, events)
        if spent is not None:
            spent = tuple(map(add, spent, _usage_of(response)))
            response = response.model_copy(update=dict(zip(_USAGE, spent, strict=True)))
        check_refusal(response, provider_name)
        reading = plan.read(response)
        if reading.error is None:
            return plan.answer(response, reading)
        _give_up_or_log(plan, reading, response, attempt)
        if spent is None:
            spent = _usage_of(response)
        if conversation is None:
            conversation = [*current.messages, _assistant_turn(response)]
        current = request.model_copy(update={"messages": plan.repair(conversation, reading)})
        attempt += 1


async def stream_output(
    provider: LLMProvider,
    request: LLMRequest,
    plan: OutputPlan,
    *,
    tools: Sequence[Tool],
    events: EventBus,
    max_iterations: int,
    tool_timeout: float | None,
    provider_name: str | None,
) -> AsyncIterator[Any]:
    """The typed answer as it forms: growing partial values, the last the validated whole.

    After a repair the values start over, from the new answer's first chunk.

    Raises:
        ResponseBlockedError: The model refused, or the provider withheld the answer.
        OutputValidationError: No answer fitted the type, repairs included.
    """
    plan, request = plan.settled(request)
    current = request
    attempt = 1
    while True:
        reader = plan.reader()
        conversation: list[Message] | None = None
        if tools:
            conversation = []
            source = stream_tool_loop(
                provider,
                current,
                tools,
                events=events,
                max_iterations=max_iterations,
                tool_timeout=tool_timeout,
                final_tool=plan.tool_name,
                conversation=conversation,
            )
        else:
            source = provider.stream(current)
        async with aclosing_stream(stream_with_events(source, current, events)) as chunks:
            async for chunk in chunks:
                if reader.feed(chunk):
                    yield reader.last
        response = reader.response()
        check_refusal(response, provider_name)
        reading = plan.read(response)
        if reading.error is None:
            if not reader.has_value or reading.value != reader.last:
                yield reading.value
            return
        _give_up_or_log(plan, reading, response, attempt)
        if conversation is None:
            conversation = [*current.messages, _assistant_turn(response)]
        current = request.model_copy(update={"messages": plan.repair(conversation, reading)})
        attempt += 1


def _give_up_or_log(
    plan: OutputPlan, reading: Reading, response: LLMResponse, attempt: int
) -> None:
    """Raise when no repair is left (or none can help); else log the repair about to be made.

    Raises:
        OutputValidationError: ``attempt`` was the last one allowed, or the answer was cut
            at ``max_tokens``.
    """
    assert reading.error is not None
    errors = reading.error.errors(include_url=False, include_context=False)
    if attempt > plan.retries or response.finish_reason == "length":
        raise OutputValidationError(
            text=reading.text,
            errors=errors,
            attempts=attempt,
            output_name=plan.output.name,
            truncated=response.finish_reason == "length",
        )
    logger.info(
        "The answer did not fit %s (%d error%s); asking the model to fix it (repair %d of %d).",
        plan.output.name,
        len(errors),
        "" if len(errors) == 1 else "s",
        attempt,
        plan.retries,
        extra={"aether_output": plan.output.name, "aether_output_repair": attempt},
    )


def _assistant_turn(response: LLMResponse) -> Message:
    return Message(role="assistant", content=response.text, tool_calls=response.tool_calls)
