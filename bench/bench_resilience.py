"""Overhead of the default resilience stack over a bare ``FakeProvider``, per call and per chunk.

    python bench/bench_resilience.py

The stack is what ``Aether()`` builds (cost tracking → circuit breaker → retry → provider),
here around a ``FakeProvider`` that answers as ``gpt-4o-mini`` so pricing is exercised. Nothing
fails and nothing sleeps, so this measures the layers' own cost on the happy path. Each figure
is the median of several timed runs of a few thousand calls, against a baseline measured in
the same run, alternating so drift hits both.

The budget: the stack costs under 10% of a bare FakeProvider round trip. Two
baselines are reported for it: the bare ``FakeProvider.complete()``/``stream()`` (the
provider alone), and ``Aether(FakeProvider()).ask()``/``stream_text()`` with no layers (the
round trip a user makes). Each budgeted row prints met or MISS; the exit status is 1 on a MISS.

The ``floor`` rows wrap the provider in one pass-through layer that does nothing but
``return await inner.complete(r)`` / ``async for c in inner.stream(r): yield c``: the least
any wrapper can cost in CPython, measured in the same run. The default stack runs its three
layers in one such frame (``DefaultStack``), so what it costs beyond the floor is the layers'
own work: the breaker's state check, the retry layer's handler, and metering the usage. The
``alone`` rows put each layer on its own around a fake, to show which of them costs what.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aether import Aether
from aether.extensions.llm.builder import build_provider
from aether.extensions.llm.circuit_breaker import CircuitBreakerProvider
from aether.extensions.llm.cost_tracking import CostTrackingProvider
from aether.extensions.llm.fake import FakeProvider
from aether.extensions.llm.retrying import RetryingProvider
from aether.llm.contracts import LLMProvider, LLMRequest, LLMResponse, LLMStreamChunk, Message

CALLS = 4000
STREAMS = 400
RUNS = 11
WORDS = 100
BUDGET = 1.10

REQUEST = LLMRequest(messages=[Message(role="user", content="How are you today?")])


class PassThrough:
    """A layer that does nothing: the cost of one wrapper frame, for the floor rows."""

    __slots__ = ("inner",)

    def __init__(self, inner: LLMProvider) -> None:
        self.inner = inner

    async def complete(self, request: LLMRequest) -> LLMResponse:
        return await self.inner.complete(request)

    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        async for chunk in self.inner.stream(request):
            yield chunk


def fake(answer: str) -> FakeProvider:
    return FakeProvider(canned_response=answer, default_model="gpt-4o-mini")


def providers(answer: str) -> tuple[LLMProvider, LLMProvider, LLMProvider]:
    """The bare provider, the default stack around one, and one pass-through layer."""
    floor = PassThrough(fake(answer))
    return fake(answer), build_provider(provider=fake(answer)), floor


def layers_alone(answer: str) -> dict[str, LLMProvider]:
    """Each layer of the stack on its own around a fake, to show what each one costs."""
    return {
        "retry": RetryingProvider(fake(answer)),
        "circuit breaker": CircuitBreakerProvider(fake(answer)),
        "cost tracking": CostTrackingProvider(fake(answer)),
    }


def forget_calls(provider: object) -> None:
    """Empty the fake's record of requests, so a growing heap does not skew later runs."""
    current: object | None = getattr(provider, "provider", provider)
    while current is not None and not isinstance(current, FakeProvider):
        current = getattr(current, "inner", None)
    if current is not None:
        current.calls.clear()


async def time_calls(provider: LLMProvider, n: int) -> float:
    complete = provider.complete
    start = time.perf_counter()
    for _ in range(n):
        await complete(REQUEST)
    return time.perf_counter() - start


async def time_streams(provider: LLMProvider, n: int) -> float:
    stream = provider.stream
    start = time.perf_counter()
    for _ in range(n):
        async for _chunk in stream(REQUEST):
            pass
    return time.perf_counter() - start


async def timed(timer: Callable[[Any, int], Awaitable[float]], provider: Any, n: int) -> float:
    forget_calls(provider)
    return await timer(provider, n) / n


async def compare(
    timer: Callable[[Any, int], Awaitable[float]],
    bare: Any,
    stacked: Any,
    n: int,
) -> tuple[float, float]:
    """Median seconds per call of each; runs are paired and alternate so drift hits both."""
    await timer(bare, n // 4)  # warm up (pricing resolved, caches filled)
    await timer(stacked, n // 4)
    bare_runs, stacked_runs = [], []
    for run in range(RUNS):
        pair = (bare, stacked) if run % 2 == 0 else (stacked, bare)
        first, second = [await timed(timer, provider, n) for provider in pair]
        bare_runs.append(first if run % 2 == 0 else second)
        stacked_runs.append(second if run % 2 == 0 else first)
    return statistics.median(bare_runs), statistics.median(stacked_runs)


def report(
    label: str,
    unit: str,
    bare: float,
    stacked: float,
    *,
    budgeted: bool = True,
    note: str = "(floor, not budgeted)",
) -> bool:
    ratio = stacked / bare
    ok = ratio < BUDGET
    verdict = ("met" if ok else "MISS") if budgeted else note
    print(
        f"  {label:<38} baseline {bare * 1e6:7.2f} µs/{unit}  measured {stacked * 1e6:7.2f} "
        f"µs/{unit}  +{(stacked - bare) * 1e6:5.2f} µs  ratio {ratio:.3f}  {verdict}"
    )
    return ok or not budgeted


def clients(answer: str) -> tuple[Aether, Aether]:
    """The same FakeProvider behind ``Aether`` with no layers, and with the default stack."""
    bare = Aether(
        FakeProvider(canned_response=answer, default_model="gpt-4o-mini"),
        with_cost_tracking=False,
    )
    stacked = Aether(
        FakeProvider(canned_response=answer, default_model="gpt-4o-mini"),
        with_retry=True,
        with_circuit_breaker=True,
    )
    return bare, stacked


async def time_asks(client: Aether, n: int) -> float:
    ask = client.ask
    start = time.perf_counter()
    for _ in range(n):
        await ask("How are you today?")
    return time.perf_counter() - start


async def time_stream_texts(client: Aether, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        async for _delta in client.stream_text("How are you today?"):
            pass
    return time.perf_counter() - start


async def main() -> int:
    short, long_answer = "Fine, thanks.", " ".join(f"word{i}" for i in range(WORDS))
    chunks = WORDS + 1  # one per word, then the final chunk with usage
    verdicts = []

    print(f"Baseline: bare FakeProvider (median of {RUNS} runs; budget ratio < {BUDGET})")
    bare, stack, floor = providers(short)
    b, m = await compare(time_calls, bare, stack, CALLS)
    verdicts.append(report("complete(), stack, per call", "call", b, m))
    b, m = await compare(time_calls, bare, floor, CALLS)
    report("complete(), 1 no-op layer, per call", "call", b, m, budgeted=False)
    for name, alone in layers_alone(short).items():  # where the stack's overhead goes
        b, m = await compare(time_calls, bare, alone, CALLS)
        report(f"complete(), {name} alone", "call", b, m, budgeted=False, note="(a part)")
    b, m = await compare(time_streams, bare, stack, CALLS)
    verdicts.append(report("stream() 3 chunks, stack, per call", "call", b, m))
    b, m = await compare(time_streams, bare, floor, CALLS)
    report("stream() 3 chunks, 1 no-op layer", "call", b, m, budgeted=False)
    bare, stack, floor = providers(long_answer)
    b, m = await compare(time_streams, bare, stack, STREAMS)
    verdicts.append(
        report(f"stream(), stack, per chunk ({chunks})", "chunk", b / chunks, m / chunks)
    )
    b, m = await compare(time_streams, bare, floor, STREAMS)
    report("stream(), 1 no-op layer, per chunk", "chunk", b / chunks, m / chunks, budgeted=False)

    print(f"\nBaseline: Aether(FakeProvider()) with no layers (budget ratio < {BUDGET})")
    ask_bare, ask_stack = clients(short)
    b, m = await compare(time_asks, ask_bare, ask_stack, CALLS)
    verdicts.append(report("ask(), stack, per call", "call", b, m))
    text_bare, text_stack = clients(long_answer)
    b, m = await compare(time_stream_texts, text_bare, text_stack, STREAMS)
    verdicts.append(
        report(f"stream_text(), stack, per chunk ({chunks})", "chunk", b / chunks, m / chunks)
    )
    print(f"\n{sum(verdicts)}/{len(verdicts)} budgets met")
    return 0 if all(verdicts) else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
