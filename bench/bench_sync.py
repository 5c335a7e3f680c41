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
   ``import aether`` is printed too, since every command pays it first, and the floor under
   any command that answers: asyncio and pydantic with one model built.

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
Figures = dict[str, float]

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


def _mock_provider() -> OpenAIProvider:
    client = httpx.AsyncClient(transport=httpx.MockTransport(_answer))
    return OpenAIProvider(
        api_key="sk-bench", base_url="http://bench.invalid/v1", http_client=client
    )


# A keep-alive HTTP/1.1 server answering every POST with the canned body, in its own process
# so it does not share the clients' interpreter lock; it stops when the bench ends it.
_SERVER = r"""
import asyncio, sys
BODY, STREAM = sys.argv[1].encode(), sys.argv[2].encode()
async def handle(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.lower().split(b"\r\n")
            size = [line.split(b":")[1] for line in lines if line.startswith(b"content-length")]
            body = await reader.readexactly(int(size[0]) if size else 0)
            stream = b'"stream":true' in body.replace(b" ", b"")
            kind = b"text/event-stream" if stream else b"application/json"
            payload = STREAM if stream else BODY
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: " + kind + b"\r\ncontent-length: "
                         + str(len(payload)).encode() + b"\r\n\r\n" + payload)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()
asyncio.run(main())
"""


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


async def _calls(provider: Callable[[], OpenAIProvider], calls: int, rounds: int) -> Figures:
    """Median seconds per call of each kind, over ``rounds`` interleaved rounds.

    All in one running loop: the async calls are awaited in it, and the blocking ones are
    made from it too (they block it, as they would a notebook's), so both run in the same
    process state, round after round.
    """
    async_client, sync_client = Aether(provider()), SyncAether(provider())
    hop = sync_client._loop  # the loop thread itself, for the bare hop
    samples: dict[str, list[float]] = {}

    async def no_op() -> None:
        return None

    # Warm both (first requests open connections, fill caches).
    await _per_call_async(lambda: async_client.ask("hi"), 20)
    _per_call(lambda: sync_client.ask("hi"), 20)
    for _ in range(rounds):
        for name, value in (
            ("async ask", await _per_call_async(lambda: async_client.ask("hi"), calls)),
            ("sync ask", _per_call(lambda: sync_client.ask("hi"), calls)),
            ("async stream_text", await _per_call_async(lambda: _drain(async_client), calls // 10)),
            (
                "sync stream_text",
                _per_call(lambda: list(sync_client.stream_text("hi")), calls // 10),
            ),
            ("hop", _per_call(lambda: hop.run(no_op()), calls)),
        ):
            samples.setdefault(name, []).append(value)
    sync_client.close()
    await async_client.aclose()
    return {name: statistics.median(values) for name, values in samples.items()}


def _loopback(calls: int, rounds: int) -> Figures:
    server = subprocess.Popen(
        [sys.executable, "-c", _SERVER, _COMPLETION.decode(), _STREAM.decode()],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        root = f"http://127.0.0.1:{int(server.stdout.readline())}/v1"
        return asyncio.run(
            _calls(lambda: OpenAIProvider(api_key="sk-bench", base_url=root), calls, rounds)
        )
    finally:
        server.kill()
        server.wait()


def _report(title: str, figures: Figures) -> float:
    us = 1e6
    ratio = figures["sync ask"] / figures["async ask"]
    share = (figures["sync ask"] - figures["async ask"]) / figures["sync ask"]
    streams = figures["sync stream_text"] / figures["async stream_text"]
    print(f"\n{title}")
    print(f"  await Aether.ask (in a running loop)   {figures['async ask'] * us:8.1f} us")
    print(
        f"  SyncAether.ask                         {figures['sync ask'] * us:8.1f} us  {ratio:.2f}x"
    )
    print(f"  the hop alone (a no-op on the loop)    {figures['hop'] * us:8.1f} us")
    print(f"  what blocking adds, share of the call  {share:8.1%}")
    print(
        f"  stream_text, {CHUNKS} chunks (a hop each)   async "
        f"{figures['async stream_text'] * us:.0f} us, sync "
        f"{figures['sync stream_text'] * us:.0f} us: {streams:.2f}x"
    )
    return ratio


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


_FLOOR = "import asyncio\nfrom pydantic import BaseModel\nclass M(BaseModel):\n    x: int = 0\nM()"


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
        # What any answer from a client of this design imports, whatever the provider: the
        # event loop, and pydantic with one model built (the contracts are pydantic models).
        # The floor under `aether ask`: no command that answers can start faster.
        "floor: asyncio + pydantic + a model": [sys.executable, "-c", _FLOOR],
        # Every `aether` command starts by importing the package (its names load on use).
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

    mock = asyncio.run(_calls(_mock_provider, args.calls, args.rounds))
    _report("Per call, OpenAI provider on an httpx.MockTransport (no socket)", mock)
    ratio = _report(
        "Per call, OpenAI provider against a server process on 127.0.0.1 (the budget)",
        _loopback(args.calls, args.rounds),
    )
    if ratio > CALL_BUDGET:
        missed = True
        print(f"  MISSED: SyncAether.ask is {ratio:.2f}x the async call (budget {CALL_BUDGET}x)")

    times, env = _start_up(args.runs)
    baseline = times['python -c "import httpx"']
    print(f"\nStart-up (median of {args.runs} fresh processes; ratio to `import httpx`)")
    for name, seconds in times.items():
        shown = "baseline" if seconds == baseline else f"{seconds / baseline:5.2f}x"
        print(f"  {name:<36} {seconds * 1000:8.1f} ms  {shown}")
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
