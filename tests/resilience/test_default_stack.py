"""``DefaultStack`` behaves exactly as the three layers composed, in every scenario.

Each scenario is a script of provider answers and a list of steps. It runs once through
``CostTrackingProvider(CircuitBreakerProvider(RetryingProvider(fake)))`` and once through
``DefaultStack(CircuitBreakerProvider(RetryingProvider(fake)))``, on the same fake clock, and
every observable is compared after each step: the answer or the error (type, message, chunks
received), the chunks delivered, the provider calls made, the waits, the breaker's state and
failure count, and the usage summary.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from aether.errors import (
    AetherError,
    BadRequestError,
    ContextLengthError,
    ProviderConnectionError,
    RateLimitError,
    ServerError,
    StreamInterruptedError,
)
from aether.extensions.llm._default_stack import DefaultStack
from aether.extensions.llm.builder import ProviderConfig, build_provider
from aether.extensions.llm.circuit_breaker import CircuitBreakerConfig, CircuitBreakerProvider
from aether.extensions.llm.cost_tracking import CostTrackingConfig, CostTrackingProvider
from aether.extensions.llm.fake import FakeProvider, Fault, ScriptItem
from aether.extensions.llm.pricing import ModelPricing
from aether.extensions.llm.retrying import RetryConfig, RetryingProvider
from aether.llm.contracts import LLMRequest, LLMResponse, Message

from .conftest import FakeClock

REQUEST = LLMRequest(messages=[Message(role="user", content="hello there")], model="m")
PRICE = {"m": ModelPricing(input_per_million=1_000_000, output_per_million=2_000_000)}
ANSWER = "one two three four five six"


def ok(text: str = ANSWER) -> LLMResponse:
    return LLMResponse(text=text, model="m", input_tokens=3, output_tokens=len(text.split()))


def e500() -> ServerError:
    return ServerError("boom", status_code=500)


def build(fused: bool, script: Sequence[ScriptItem], clock: FakeClock, **retry: Any) -> Any:
    fake = FakeProvider(responses=script)
    retrying = RetryingProvider(
        fake, RetryConfig(**retry), sleep=clock.sleep, clock=clock, rng=lambda: 0.5
    )
    breaker = CircuitBreakerProvider(
        retrying,
        CircuitBreakerConfig(failure_threshold=2, reset_timeout=10.0, half_open_max_calls=1),
        name="fake",
        clock=clock,
    )
    config = CostTrackingConfig(pricing=PRICE, use_price_library=False)
    return (DefaultStack if fused else CostTrackingProvider)(breaker, config), fake


async def run_step(stack: Any, step: str, clock: FakeClock) -> Any:
    """One step; returns what a caller could observe of it."""
    kind, _, arg = step.partition(":")
    if kind == "advance":
        clock.advance(float(arg))
        return None
    received: list[str] = []
    try:
        if kind == "complete":
            return ("answer", (await stack.complete(REQUEST)).text)
        chunks = stack.stream(REQUEST)
        if kind == "stream":
            async for chunk in chunks:
                received.append(chunk.text)
        elif kind == "abandon":  # the consumer stops after ``arg`` chunks and closes
            async for chunk in chunks:
                received.append(chunk.text)
                if len(received) == int(arg):
                    break
            await chunks.aclose()
        elif kind == "cancel":  # the consuming task is cancelled after ``arg`` chunks
            started = asyncio.Event()

            async def consume() -> None:
                async for chunk in chunks:
                    received.append(chunk.text)
                    if len(received) == int(arg):
                        started.set()
                        await asyncio.Event().wait()

            task = asyncio.create_task(consume())
            await started.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        return ("chunks", received)
    except AetherError as exc:  # a provider's error, or the breaker's CircuitOpenError
        interrupted = getattr(exc, "chunks_received", None)
        cause = type(exc.__cause__).__name__ if exc.__cause__ else None
        return ("error", type(exc).__name__, str(exc), interrupted, cause, received)


def observe(stack: Any, fake: FakeProvider, clock: FakeClock) -> Any:
    breaker = stack.inner
    usage = stack.usage
    return (
        len(fake.calls),
        list(clock.sleeps),
        breaker.state,
        breaker.failures,
        usage.model_dump(),
    )


async def compare(
    script: Callable[[], Sequence[ScriptItem]], steps: list[str], **retry: Any
) -> list[Any]:
    traces = []
    for fused in (False, True):
        clock = FakeClock()
        stack, fake = build(fused, script(), clock, **retry)
        trace = []
        for step in steps:
            trace.append((step, await run_step(stack, step, clock), observe(stack, fake, clock)))
        traces.append(trace)
    layered, fused_trace = traces
    for expected, got in zip(layered, fused_trace, strict=True):
        assert got == expected
    return layered


SCENARIOS: dict[str, tuple[Callable[[], Sequence[ScriptItem]], list[str]]] = {
    "complete answers": (lambda: [ok(), ok("a b")], ["complete", "complete"]),
    "complete retried then answers": (lambda: [e500(), e500(), ok()], ["complete"]),
    "complete exhausts retries, opens, fails fast, recovers on a trial": (
        lambda: [e500() for _ in range(6)] + [ok()],
        ["complete", "complete", "complete", "advance:10", "complete", "complete"],
    ),
    "a failed trial opens the circuit again": (
        lambda: [e500() for _ in range(9)],
        ["complete", "complete", "advance:11", "complete", "complete"],
    ),
    "client errors are not retried and never count": (
        lambda: [BadRequestError("bad", status_code=400), ContextLengthError("long"), ok()],
        ["complete", "complete", "complete"],
    ),
    "a server-requested wait is honoured": (
        lambda: [RateLimitError("slow", status_code=429, retry_after=3.0), ok()],
        ["complete"],
    ),
    "streams answer and are counted": (lambda: [ok(), ok("x y")], ["stream", "stream"]),
    "a stream retried before its first chunk": (
        lambda: [Fault(e500()), Fault(ProviderConnectionError("down")), ok()],
        ["stream"],
    ),
    "a stream that exhausts its retries before output": (
        lambda: [Fault(e500()) for _ in range(3)] + [ok()],
        ["stream", "stream"],
    ),
    "streams interrupted after 1 and 5 chunks": (
        lambda: [
            Fault(e500(), after_chunks=1, response=ANSWER),
            Fault(e500(), after_chunks=5, response=ANSWER),
            ok(),
        ],
        ["stream", "stream", "complete", "advance:10", "stream"],
    ),
    "a provider's own interruption is passed on as is": (
        lambda: [Fault(StreamInterruptedError("cut", chunks_received=2), 2, ANSWER), ok()],
        ["stream", "stream"],
    ),
    "an abandoned stream is healthy and estimated": (
        lambda: [ok(), ok()],
        ["abandon:2", "stream"],
    ),
    "a cancelled stream gives no verdict and is estimated": (
        lambda: [e500() for _ in range(3)] + [ok(), ok()],
        ["complete", "cancel:2", "stream"],
    ),
    "streams while the circuit is open and probing": (
        lambda: [e500() for _ in range(6)] + [ok(), ok()],
        ["complete", "complete", "stream", "advance:10", "stream", "stream"],
    ),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_the_fused_stack_matches_the_layers(name: str) -> None:
    script, steps = SCENARIOS[name]
    trace = await compare(script, steps)
    assert len(trace) == len(steps)


async def test_a_deadline_is_kept_alike() -> None:
    trace = await compare(lambda: [e500() for _ in range(3)], ["complete"], deadline=0.6)
    (_, outcome, (calls, sleeps, *_)) = trace[0]
    assert outcome[0] == "error"
    assert calls == 2  # the second backoff would pass the deadline
    assert len(sleeps) == 1


def test_the_builder_fuses_only_the_full_default_stack() -> None:
    assert type(build_provider(provider=FakeProvider())) is DefaultStack
    for off in ("retry", "circuit_breaker"):
        settings: dict[str, Any] = {off: None}
        built = build_provider(ProviderConfig(**settings), provider=FakeProvider())
        assert type(built) is CostTrackingProvider


def test_it_refuses_any_other_composition() -> None:
    breaker = CircuitBreakerProvider(FakeProvider())
    with pytest.raises(TypeError, match="CircuitBreakerProvider\\(RetryingProvider"):
        DefaultStack(breaker)

    class Custom(CircuitBreakerProvider):
        pass

    with pytest.raises(TypeError):
        DefaultStack(Custom(RetryingProvider(FakeProvider())))


async def test_the_provider_under_the_retry_layer_can_be_swapped() -> None:
    built = build_provider(provider=FakeProvider(canned_response="old"))
    retry = built.inner.inner  # type: ignore[attr-defined]
    retry.inner = FakeProvider(canned_response="new")
    assert (await built.complete(REQUEST)).text == "new"


def test_the_default_model_is_the_providers_and_follows_a_swap() -> None:
    built = build_provider(provider=FakeProvider(default_model="one"))
    assert built.default_model == "one"  # type: ignore[attr-defined]
    built.inner.inner.inner = FakeProvider(default_model="two")  # type: ignore[attr-defined]
    assert built.default_model == "two"  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        _ = build_provider(provider=object()).default_model  # type: ignore[arg-type,attr-defined]
