"""Response-cache hits against the round trip they save, for the memory, SQLite and Redis backends.

    python bench/bench_cache.py                  # about a minute on 2 idle cores
    python bench/bench_cache.py --calls 500 --rounds 3

**The round trip** is one ``OpenAIProvider.complete()`` against ``bench/server.py`` on
127.0.0.1 (plain HTTP, keep-alive, a canned answer): the fastest real round trip there is, no
network in between and a server that answers in microseconds. A real API takes hundreds of
milliseconds, so each ratio here is the most a hit can cost relative to what it saves.

**A hit** is the same request answered by ``CachingProvider`` around that provider, from each
backend: ``memory`` (in this process), ``sqlite`` (a file in a temporary directory, default
settings: WAL, ``synchronous=NORMAL``, the calls on the cache's worker thread) and ``redis``
(a ``redis-server`` started for the run on a free port, as the tests start it; left out with a
note when no binary is found). The same pairs are then measured through the client:
``Aether(config=ProviderConfig(provider="openai", ..., cache=CacheConfig(backend=...))).ask()``
with a hit, against the same client without a cache making the round trip.

Each figure is wall time per call: the median over ``--rounds`` rounds of ``--calls``
sequential calls, the subjects in rotating order within each round so drift hits all alike,
after a warm-up. Budgets, hit / round trip: memory <= 0.2x, sqlite <= 1x, redis <= 1x, through
the layer and through the client. Exit status 1 when a budget is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from pydantic import SecretStr

from aether import Aether
from aether.extensions.llm.builder import ProviderConfig
from aether.extensions.llm.cache_config import CacheConfig
from aether.extensions.llm.caching import CacheBackend, CachingProvider, MemoryCache
from aether.llm.contracts import LLMProvider, LLMRequest, LLMResponse, LLMStreamChunk, Message
from aether_memory_redis import RedisCache
from aether_memory_redis.testing import RedisServer, RedisServerNotFoundError
from aether_memory_sqlite import SQLiteCache
from aether_openai import OpenAIProvider

HERE = Path(__file__).resolve().parent
BUDGETS = {"memory": 0.2, "sqlite": 1.0, "redis": 1.0}
PROMPT = "How are you today?"
REQUEST = LLMRequest(messages=[Message(role="user", content=PROMPT)], temperature=0.0)

Call = Callable[[], Awaitable[object]]


class Counting:
    """The provider behind each cache, counting the calls that reach it (a hit never does)."""

    def __init__(self, inner: LLMProvider) -> None:
        self.inner = inner
        self.calls = 0

    async def complete(self, request: LLMRequest) -> LLMResponse:
        self.calls += 1
        return await self.inner.complete(request)

    def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        self.calls += 1
        return self.inner.stream(request)


def _check_hits(where: str, calls: dict[str, int]) -> bool:
    """Whether only the first call of each cached subject reached the provider."""
    wrong = {name: n for name, n in calls.items() if n != 1}
    for name, n in wrong.items():
        print(f"  {where}, {name}: {n} calls reached the provider instead of 1: NOT A HIT")
    return not wrong


def _start_server() -> tuple[subprocess.Popen[bytes], str]:
    """``bench/server.py`` on a free port: (process, ``http://127.0.0.1:PORT``)."""
    proc = subprocess.Popen([sys.executable, str(HERE / "server.py")], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    name, _, port = proc.stdout.readline().decode().partition(" ")
    if name != "PORT" or not port.strip().isdigit():
        proc.kill()
        raise SystemExit(f"bench/server.py did not start: {name!r} {port!r}")
    return proc, f"http://127.0.0.1:{port.strip()}"


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


async def _per_call(call: Call, calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        await call()
    return (time.perf_counter() - started) / calls


async def _measure(subjects: dict[str, Call], calls: int, rounds: int) -> dict[str, float]:
    """Median seconds per call of each subject, rotating their order round by round."""
    for call in subjects.values():  # warm-up: connections, imports, pydantic, the cache entry
        for _ in range(min(calls, 200)):
            await call()
    names = list(subjects)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_no in range(rounds):
        shift = round_no % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(await _per_call(subjects[name], calls))
    return {name: statistics.median(values) for name, values in samples.items()}


def _report(title: str, baseline: str, figures: dict[str, float]) -> list[bool]:
    base = figures[baseline]
    print(f"\n{title}")
    print(f"  {baseline:<24} {base * 1e6:9.1f} us  baseline")
    verdicts = []
    for name, seconds in figures.items():
        if name == baseline:
            continue
        ratio = seconds / base
        budget = BUDGETS[name.split()[0]]
        met = ratio <= budget
        verdicts.append(met)
        verdict = "met" if met else "MISS"
        print(
            f"  {name:<24} {seconds * 1e6:9.1f} us  {ratio:5.3f}x  (budget <= {budget}x: "
            f"{verdict}; {1 / seconds:,.0f} hits/s)"
        )
    return verdicts


async def _backends(scratch: Path) -> tuple[dict[str, CacheBackend], RedisServer | None]:
    backends: dict[str, CacheBackend] = {
        "memory": MemoryCache(),
        "sqlite": SQLiteCache(scratch / "cache.db"),
    }
    server = RedisServer(scratch / "redis")
    try:
        await asyncio.to_thread(server.start)
    except RedisServerNotFoundError as exc:
        print(f"note: the redis rows are left out: {exc}")
        return backends, None
    backends["redis"] = RedisCache(server.url, prefix="bench:cache")
    return backends, server


async def _layer_figures(
    root: str, backends: dict[str, CacheBackend], calls: int, rounds: int
) -> tuple[dict[str, float], bool]:
    provider = OpenAIProvider(api_key="sk-bench", base_url=f"{root}/v1")
    subjects: dict[str, Call] = {"round trip": lambda: provider.complete(REQUEST)}
    counters: dict[str, Counting] = {}
    for name, backend in backends.items():
        counted = counters[f"{name} hit"] = Counting(provider)
        layer = CachingProvider(counted, backend, "openai")
        await layer.complete(REQUEST)  # the miss that stores the entry
        subjects[f"{name} hit"] = lambda layer=layer: layer.complete(REQUEST)  # type: ignore[misc]
    try:
        figures = await _measure(subjects, calls, rounds)
    finally:
        await provider.aclose()
    hits = {name: counted.calls for name, counted in counters.items()}
    return figures, _check_hits("CachingProvider", hits)


async def _client_figures(
    root: str, backends: dict[str, CacheBackend], calls: int, rounds: int
) -> tuple[dict[str, float], bool]:
    def client(cache: CacheConfig | None) -> Aether:
        config = ProviderConfig(
            provider="openai", api_key=SecretStr("sk-bench"), base_url=f"{root}/v1", cache=cache
        )
        return Aether(config=config)

    clients = {"round trip": client(None)}
    for name, backend in backends.items():
        clients[f"{name} hit"] = client(CacheConfig(backend=backend))
    subjects: dict[str, Call] = {
        name: (lambda c=c: c.ask(PROMPT))  # type: ignore[misc]
        for name, c in clients.items()
    }
    try:
        figures = await _measure(subjects, calls, rounds)
    finally:
        for each in clients.values():
            await each.aclose()
    # Cost tracking, inside the cache, counts the calls that reached the provider.
    hits = {name: c.usage.total_requests for name, c in clients.items() if name != "round trip"}
    return figures, _check_hits("Aether.ask()", hits)


async def main(calls: int, rounds: int) -> int:
    proc, root = _start_server()
    server: RedisServer | None = None
    verdicts: list[bool] = []
    try:
        with tempfile.TemporaryDirectory(prefix="aether-bench-cache-") as scratch:
            backends, server = await _backends(Path(scratch))
            try:
                figures, hit = await _layer_figures(root, backends, calls, rounds)
                verdicts.append(hit)
                verdicts += _report(
                    f"CachingProvider.complete(), wall time per call (median of {rounds} "
                    f"rounds of {calls})",
                    "round trip",
                    figures,
                )
                figures, hit = await _client_figures(root, backends, calls, rounds)
                verdicts.append(hit)
                verdicts += _report(
                    f"Aether.ask() with the default stack, wall time per call (median of "
                    f"{rounds} rounds of {calls})",
                    "round trip",
                    figures,
                )
            finally:
                for backend in backends.values():
                    if isinstance(backend, SQLiteCache | RedisCache):
                        await backend.aclose()
    finally:
        _stop(proc)
        if server is not None:
            await asyncio.to_thread(server.stop)
    print(f"\n{sum(verdicts)}/{len(verdicts)} checks met (budgets, and every hit a hit)")
    return 0 if all(verdicts) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls per timed block")
    parser.add_argument("--rounds", type=int, default=5, help="timed blocks per subject")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.calls, args.rounds)))
