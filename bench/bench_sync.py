"""What blocking costs: ``SyncAether`` per call, and the ``aether`` command's start-up.

    python bench/bench_sync.py [--calls 1000] [--rounds 5] [--runs 15]

1. Per call, in the same run: ``SyncAether.ask`` from plain code against ``await
   Aether.ask`` inside a running loop, both through the OpenAI provider answering a canned
   completion from an ``httpx.MockTransport`` (the whole client stack, no network). Budget:
   the blocking call within 1.2x of the async one. Printed too: the hop alone (running a
   no-op coroutine on the client's loop thread) and its share of a blocking call, and, for
   information, a 50-chunk ``stream_text`` (one hop per chunk).
2. Start-up, medians of fresh processes: ``aether --version`` and ``LLM_PROVIDER=fake aether
   ask hi`` against ``python -c "import httpx"``. Budget: under 1.5x. For a figure over
   budget, ``python -X importtime`` says where the time goes (the biggest imports first);
   ``import aether`` is printed too, since every command pays it first.

Prints the ratios; exits 1 when a budget is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from aether import Aether, SyncAether
from aether_openai import OpenAIProvider

CALL_BUDGET = 1.2
START_BUDGET = 1.5
CHUNKS = 50

_COMPLETION = json.dumps(
    {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "model": "gpt-4o-mini",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello from the bench."},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19},
    }
).encode()


def _event(delta: dict[str, Any], finish: str | None = None) -> str:
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    body = {"id": "c", "object": "chat.completion.chunk", "model": "gpt-4o-mini"}
    return f"data: {json.dumps({**body, 'choices': [choice]})}\n\n"


_STREAM = (
    "".join(_event({"content": f"tok{i} "}) for i in range(CHUNKS))
    + _event({}, "stop")
    + "data: [DONE]\n\n"
).encode()


def _answer(request: httpx.Request) -> httpx.Response:
    if json.loads(request.content).get("stream"):
        return httpx.Response(200, content=_STREAM, headers={"content-type": "text/event-stream"})
    return httpx.Response(200, content=_COMPLETION, headers={"content-type": "application/json"})


def _provider() -> OpenAIProvider:
    client = httpx.AsyncClient(transport=httpx.MockTransport(_answer))
    return OpenAIProvider(
        api_key="sk-bench", base_url="http://bench.invalid/v1", http_client=client
    )


def _per_call(run: Callable[[], object], calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        run()
    return (time.perf_counter() - started) / calls


async def _per_call_async(run: Callable[[], Awaitable[object]], calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        await run()
    return (time.perf_counter() - started) / calls


async def _drain(client: Aether) -> None:
    async for _ in client.stream_text("hi"):
        pass


def _calls(calls: int, rounds: int) -> dict[str, float]:
    """Median seconds per call of each kind, over ``rounds`` interleaved rounds."""
    async_client, sync_client = Aether(_provider()), SyncAether(_provider())
    hop = sync_client._loop  # the loop thread itself, for the bare hop
    samples: dict[str, list[float]] = {}

    async def async_round() -> tuple[float, float]:
        ask = await _per_call_async(lambda: async_client.ask("hi"), calls)
        stream = await _per_call_async(lambda: _drain(async_client), calls // 10)
        return ask, stream

    async def no_op() -> None:
        return None

    # Warm both (first requests build connections, price tables, caches).
    asyncio.run(async_round())
    sync_client.ask("hi")
    for _ in range(rounds):
        async_ask, async_stream = asyncio.run(async_round())
        sync_ask = _per_call(lambda: sync_client.ask("hi"), calls)
        sync_stream = _per_call(lambda: list(sync_client.stream_text("hi")), calls // 10)
        bare = _per_call(lambda: hop.run(no_op()), calls)
        for name, value in (
            ("async ask", async_ask),
            ("sync ask", sync_ask),
            ("async stream_text", async_stream),
            ("sync stream_text", sync_stream),
            ("hop", bare),
        ):
            samples.setdefault(name, []).append(value)
    sync_client.close()
    return {name: statistics.median(values) for name, values in samples.items()}


def _median_run(command: list[str], runs: int, env: dict[str, str]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, env=env, stdin=subprocess.DEVNULL, capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _biggest_imports(code: str, env: dict[str, str], top: int = 8) -> list[tuple[str, float]]:
    """The imports of ``python -c code`` three levels deep, by cumulative ms, biggest first."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=True,
    )
    found = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line[len("import time:") :].split("|")
        depth = (len(name) - len(name.lstrip()) - 1) // 2  # two spaces per level
        if depth <= 2:
            found.append(("  " * depth + name.strip(), int(cumulative) / 1000))
    return sorted(found, key=lambda item: -item[1])[:top]


# What each measured command runs, for ``python -X importtime`` when it is over budget.
_IMPORTED_BY = {
    "aether --version": "from aether.cli import main; main(['--version'])",
    "aether ask hi  [fake]": "from aether.cli import main; main(['ask', 'hi'])",
}


def _start_up(runs: int) -> tuple[dict[str, float], dict[str, str]]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AETHER_", "LLM_", "OPENAI_"))
    }
    env["LLM_PROVIDER"] = "fake"
    aether = str(Path(sys.executable).with_name("aether"))
    commands = {
        'python -c "import httpx"': [sys.executable, "-c", "import httpx"],
        # Every `aether` command starts by importing the package, whose __init__ loads the
        # client (pydantic, asyncio, the contracts): the floor under the figures below.
        'python -c "import aether"': [sys.executable, "-c", "import aether"],
        "aether --version": [aether, "--version"],
        "aether ask hi  [fake]": [aether, "ask", "hi"],
    }
    return {name: _median_run(command, runs, env) for name, command in commands.items()}, env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=1000, help="calls per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=15, help="processes per start-up figure")
    args = parser.parse_args()
    missed = False

    calls = _calls(args.calls, args.rounds)
    us = 1e6
    ratio = calls["sync ask"] / calls["async ask"]
    share = (calls["sync ask"] - calls["async ask"]) / calls["sync ask"]
    print("\nPer call (median of rounds; OpenAI provider on a MockTransport, same run)")
    print(f"  await Aether.ask (in a running loop)   {calls['async ask'] * us:8.1f} us")
    print(
        f"  SyncAether.ask                         {calls['sync ask'] * us:8.1f} us  {ratio:.2f}x"
    )
    print(f"  the hop alone (a no-op on the loop)    {calls['hop'] * us:8.1f} us")
    print(f"  the hop's share of a blocking ask      {share:8.1%}")
    stream_ratio = calls["sync stream_text"] / calls["async stream_text"]
    print(
        f"  stream_text, {CHUNKS} chunks: async {calls['async stream_text'] * us:.0f} us, ", end=""
    )
    print(f"sync {calls['sync stream_text'] * us:.0f} us ({stream_ratio:.2f}x, information)")
    if ratio > CALL_BUDGET:
        missed = True
        print(f"  MISSED: SyncAether.ask is {ratio:.2f}x the async call (budget {CALL_BUDGET}x)")

    times, env = _start_up(args.runs)
    baseline = times['python -c "import httpx"']
    print(f"\nStart-up (median of {args.runs} fresh processes; ratio to `import httpx`)")
    for name, seconds in times.items():
        shown = "baseline" if seconds == baseline else f"{seconds / baseline:5.2f}x"
        print(f"  {name:<28} {seconds * 1000:8.1f} ms  {shown}")
    for name, code in _IMPORTED_BY.items():
        if times[name] / baseline <= START_BUDGET:
            continue
        missed = True
        print(f"  MISSED: {name} is {times[name] / baseline:.2f}x (budget {START_BUDGET}x).")
        print("    Where the time goes (python -X importtime, cumulative ms, nesting indented):")
        for module, ms in _biggest_imports(code, env):
            print(f"      {ms:7.1f}  {module}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
