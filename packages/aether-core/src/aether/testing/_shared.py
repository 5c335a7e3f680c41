"""What both provider suites use: claims, the kit's tool, schema and key, and reading a stream.

Kept free of httpx, so :class:`~aether.testing.ProviderContractConformance` (for providers
that do not speak HTTP) imports without it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

from aether.llm._output_target import OutputTarget
from aether.llm.capabilities import capabilities_of
from aether.llm.contracts import LLMRequest, LLMStreamChunk, OutputSpec, ToolSpec
from aether.testing._claims import NotClaimed

__all__ = [
    "API_KEY",
    "OUTPUT",
    "TOOL",
    "check_forced_tool_choice",
    "check_native_output",
    "collect",
    "first_chunk_then_close",
    "require",
    "shown_text",
]

API_KEY = "sk-aether-kit-0123456789-do-not-leak"
"""The secret the suites build providers with; it must never show up in output."""

TOOL = ToolSpec(
    name="get_weather",
    description="The weather in a city.",
    parameters={
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
        "required": ["city"],
    },
)


OUTPUT = OutputSpec(
    name="weather_report",
    description="The weather in a city.",
    json_schema={
        "type": "object",
        "properties": {
            "city": {"type": "string", "description": "The city's name."},
            "temperature_celsius": {"type": "number", "description": "The temperature."},
        },
        "required": ["city", "temperature_celsius"],
        "additionalProperties": False,
    },
)
"""The structured answer the suites ask for natively (``LLMRequest.output``)."""


def check_native_output(provider: object, model: str | None) -> None:
    """Fail, saying what to do, when ``provider`` says ``model`` cannot answer natively.

    Asked the way core asks when it chooses a mode (:mod:`aether.llm._output_target`): a
    ``supports_native_output`` taking ``with_tools`` is asked with it too, and must answer.
    """
    target = OutputTarget.of(provider)
    model = model or getattr(provider, "default_model", None)
    if target.native_for is None or model is None:
        return
    named = f"{type(provider).__name__}.supports_native_output"
    try:
        alone = target.native(model)
        if target.native_takes_tools:
            target.native(model, with_tools=True)
    except Exception as exc:  # any failure here is one a user's typed call would meet
        raise AssertionError(
            f"{named} failed when core asked it about {model!r} ({type(exc).__name__}: {exc}); "
            f"it must take the model's name (and, if it has one, with_tools=True or False) and "
            f"return a bool"
        ) from exc
    assert alone, (
        f"{type(provider).__name__} claims structured_output, but says its model {model!r} "
        f"does not answer in a JSON schema natively: set output_model on your suite to a "
        f"model that does"
    )


def check_forced_tool_choice(provider: object, request: LLMRequest) -> None:
    """Fail when ``provider`` says it cannot force a tool in ``request``, which it serves.

    Core asks ``supports_forced_tool_choice(request)`` before giving a typed answer through a
    forced tool; a provider that says no where it can sends every such answer the long way.
    """
    target = OutputTarget.of(provider)
    if target.forced_for is None:
        return
    named = f"{type(provider).__name__}.supports_forced_tool_choice"
    try:
        forced = target.forced(request)
    except Exception as exc:  # any failure here is one a user's typed call would meet
        raise AssertionError(
            f"{named} failed when core asked it about a request forcing a tool "
            f"({type(exc).__name__}: {exc}); it must take the LLMRequest and return a bool"
        ) from exc
    assert forced, (
        f"{named} says the kit's request (tool_choice={request.tool_choice!r}, no reasoning) "
        f"cannot force a tool, yet {type(provider).__name__} serves it: say no only where the "
        f"API refuses a forced tool"
    )


def require(provider: object, capability: str) -> None:
    """Stop the current kit test, as unclaimed, when ``provider`` does not claim ``capability``.

    Raises:
        NotClaimed: ``provider``'s capabilities (see :func:`aether.llm.capabilities_of`) do
            not claim ``capability``.
    """
    if not capabilities_of(provider).claims(capability):
        raise NotClaimed(type(provider).__name__, capability)


def shown_text(error: BaseException) -> list[str]:
    """Every text a caller or a log line may show of ``error``."""
    return [str(error), repr(error), str(getattr(error, "message", "")), *map(str, error.args)]


async def collect(stream: AsyncIterator[LLMStreamChunk]) -> list[LLMStreamChunk]:
    """Every chunk of ``stream``."""
    return [chunk async for chunk in stream]


async def first_chunk_then_close(stream: AsyncIterator[Any]) -> None:
    """Take one chunk and stop, the way a consumer that ``break``s out of a loop does."""
    aclose = getattr(stream, "aclose", None)
    assert aclose is not None, "stream() must return an async generator (it has no aclose())"
    async with aclosing(stream):  # type: ignore[type-var]
        await stream.__anext__()
