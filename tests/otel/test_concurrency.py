"""Concurrent calls build separate, correctly parented trees, tool threads included."""

from __future__ import annotations

import asyncio
import contextvars
from collections import Counter

import pytest
from opentelemetry.sdk.trace import ReadableSpan

from aether import Aether, ProviderConfig
from tests.otel._server import OpenAIServer
from tests.otel.conftest import Recorded, children

CALLS = 50
caller: contextvars.ContextVar[int] = contextvars.ContextVar("caller")


@pytest.mark.parametrize("streamed", [False, True])
async def test_fifty_concurrent_calls_make_fifty_trees(
    recorded: Recorded, server: OpenAIServer, streamed: bool
) -> None:
    tracer = recorded.tracer_provider.get_tracer("application")

    def get_weather(city: str) -> str:
        """A sync tool: it runs on a worker thread, in a copy of the caller's context."""
        with tracer.start_as_current_span("tool body", attributes={"caller": caller.get()}):
            return f"sunny in {city}"

    config = ProviderConfig(
        provider="openai", base_url=server.base_url, api_key="k", model="weather"
    )
    async with Aether(config=config) as client:

        async def one(number: int) -> str:
            caller.set(number)
            with tracer.start_as_current_span("request", attributes={"caller": number}):
                if streamed:
                    return "".join([p async for p in client.stream_text("hi", tools=[get_weather])])
                return await client.ask("hi", tools=[get_weather])

        answers = await asyncio.gather(*(one(n) for n in range(CALLS)))
    assert answers == ["Answer: sunny in Paris"] * CALLS

    spans = recorded.spans()
    roots = [s for s in spans if s.name == "request"]
    assert len(roots) == CALLS and all(s.parent is None for s in roots)
    for root in roots:
        number = (root.attributes or {})["caller"]
        [call] = children(spans, root)
        assert call.name == ("aether.stream" if streamed else "aether.complete")
        first, tool, last = children(spans, call)
        assert (first.name, tool.name, last.name) == (
            "chat weather",
            "execute_tool get_weather",
            "chat weather",
        )
        [body] = children(spans, tool)
        assert (body.attributes or {})["caller"] == number  # the thread got this call's context
        assert _trace(body) == _trace(root)
    names = Counter(s.name for s in spans)
    assert names == {
        "request": CALLS,
        "aether.stream" if streamed else "aether.complete": CALLS,
        "chat weather": 2 * CALLS,
        "execute_tool get_weather": CALLS,
        "tool body": CALLS,
    }


def _trace(span: ReadableSpan) -> int:
    assert span.context is not None
    return span.context.trace_id


async def test_nothing_leaks_into_the_callers_context(
    recorded: Recorded, server: OpenAIServer
) -> None:
    from opentelemetry import trace

    config = ProviderConfig(provider="openai", base_url=server.base_url, api_key="k", model="text")
    async with Aether(config=config) as client:
        before = trace.get_current_span()
        await client.ask("hi")
        assert trace.get_current_span() is before
        async for _ in client.stream_text("hi"):
            # The consumer's code between chunks is not inside the call's span.
            assert trace.get_current_span() is before
        assert trace.get_current_span() is before
