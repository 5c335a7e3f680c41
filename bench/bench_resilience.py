"""Overhead of the default resilience stack over a bare ``FakeProvider``, per call and per chunk.

    python bench/bench_resilience.py

The stack is what ``Aether()`` builds (cost tracking → circuit breaker → retry → provider),
here around a ``FakeProvider`` that answers as ``gpt-4o-mini`` so pricing is exercised. Nothing
fails and nothing sleeps, so this measures the layers' own cost on the happy path. Each figure
is the median of several timed runs of a few thousand calls, against the bare provider
measured in the same run. Budget: ratio < 1.10.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable

from aether import Aether
from aether.extensions.llm.builder import build_provider
from aether.extensions.llm.fake import FakeProvider
from aether.llm.contracts import LLMProvider, LLMRequest, Message

CALLS = 4000
STREAMS = 400
RUNS = 11
WORDS = 100
BUDGET = 1.10

REQUEST = LLMRequest(messages=[Message(role="user", content="How are you today?")])


def providers(answer: str) -> tuple[LLMProvider, LLMProvider]:
    bare = FakeProvider(canned_response=answer, default_model="gpt-4o-mini")
    stacked = build_provider(
        provider=FakeProvider(canned_response=answer, default_model="gpt-4o-mini")
    )
    return bare, stacked


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


async def compare(
    timer: Callable[[LLMProvider, int], Awaitable[float]],
    bare: LLMProvider,
    stacked: LLMProvider,
    n: int,
) -> tuple[float, float]:
    """Median seconds per call of each; runs are paired and alternate so drift hits both."""
    await timer(bare, n // 4)  # warm up (pricing resolved, caches filled)
    await timer(stacked, n // 4)
    bare_runs, stacked_runs = [], []
    for run in range(RUNS):
        pair = (bare, stacked) if run % 2 == 0 else (stacked, bare)
        first, second = [await timer(provider, n) / n for provider in pair]
        bare_runs.append(first if run % 2 == 0 else second)
        stacked_runs.append(second if run % 2 == 0 else first)
    return statistics.median(bare_runs), statistics.median(stacked_runs)


def report(label: str, unit: str, bare: float, stacked: float) -> bool:
    ratio = stacked / bare
    ok = ratio < BUDGET
    print(
        f"{label:<28} bare {bare * 1e6:8.2f} µs/{unit}   stack {stacked * 1e6:8.2f} µs/{unit}   "
        f"overhead {(stacked - bare) * 1e6:6.2f} µs   ratio {ratio:.3f}  "
        f"{'ok' if ok else 'OVER BUDGET'}"
    )
    return ok


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
    short_bare, short_stack = providers("Fine, thanks.")
    long_answer = " ".join(f"word{i}" for i in range(WORDS))
    long_bare, long_stack = providers(long_answer)
    chunks = WORDS + 1  # one per word, then the final chunk with usage

    print(f"Default stack vs bare FakeProvider (median of {RUNS} runs; budget ratio < {BUDGET})")
    results = []
    bare, stacked = await compare(time_calls, short_bare, short_stack, CALLS)
    results.append(report("complete(), per call", "call", bare, stacked))
    bare, stacked = await compare(time_streams, short_bare, short_stack, CALLS)
    results.append(report("stream(), short, per call", "call", bare, stacked))
    bare, stacked = await compare(time_streams, long_bare, long_stack, STREAMS)
    results.append(
        report(f"stream(), per chunk ({chunks})", "chunk", bare / chunks, stacked / chunks)
    )

    # The round trip a user makes: Aether.ask / stream_text over a FakeProvider, with no layers
    # versus the default stack. This is the budgeted figure; the raw-layer rows above show the
    # layers' cost against a provider call that does almost nothing.
    print(f"\nAether round trip, default stack vs no layers (budget ratio < {BUDGET})")
    round_trip = []
    ask_bare, ask_stack = clients("Fine, thanks.")
    bare, stacked = await compare(time_asks, ask_bare, ask_stack, CALLS)  # type: ignore[arg-type]
    round_trip.append(report("ask(), per call", "call", bare, stacked))
    long_ask_bare, long_ask_stack = clients(long_answer)
    bare, stacked = await compare(
        time_stream_texts,  # type: ignore[arg-type]
        long_ask_bare,  # type: ignore[arg-type]
        long_ask_stack,  # type: ignore[arg-type]
        STREAMS,
    )
    round_trip.append(
        report(f"stream_text(), per chunk ({chunks})", "chunk", bare / chunks, stacked / chunks)
    )
    return 0 if all(round_trip) else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
