"""What richer requests cost: a plain ask against the code before them, and a 1 MB image part.

    python bench/bench_requests.py                 # about a minute on 2 idle cores
    python bench/bench_requests.py --baseline REF  # another git ref as the baseline

1. **Plain ask, before and after.** ``Aether(OpenAIProvider).ask("...")`` with the full default
   stack, the answer served by ``httpx.MockTransport`` (no socket, so the client's own work is
   what is timed: building the request, mapping it, parsing the answer, the layers). The same
   script runs it against this tree and against a git worktree of ``--baseline`` (default: the
   last commit before content parts and call settings), each in a fresh process, alternating
   A B A B so drift hits both. Budget: this tree costs at most 1.05x the baseline per call.
2. **A 1 MB image part.** The same call with a 1 MB ``ImagePart`` (bytes) minus the call
   without it, against the floor any JSON API imposes on bytes: one base64 encoding of the
   image and one JSON serialisation of that text, timed in the same process. Budget: at most
   1.25x that floor, i.e. no second encoding, no decode and re-encode, no copy per layer.
3. **A call's timeout.** ``ask(..., settings={"timeout": 0.5})`` against a server on 127.0.0.1
   that reads the request and never answers: when the ``ProviderTimeoutError`` arrives,
   against the value. Budget: within 10% of it, never before it.

Exit status 1 when a budget is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
# The last commit before content parts and call settings reached the request.
DEFAULT_BASELINE = "012bbd1"
ASK_BUDGET = 1.05
IMAGE_BUDGET = 1.25
TIMEOUT_BUDGET = 0.10
TIMEOUT = 0.5

_ANSWER = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 0,
    "model": "gpt-4o-mini",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Fine, thank you."},
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 12, "completion_tokens": 4, "total_tokens": 16},
}


def _client() -> Any:
    import httpx

    from aether import Aether
    from aether_openai import OpenAIProvider

    body = json.dumps(_ANSWER).encode()

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "application/json"}, content=body)

    http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    provider = OpenAIProvider(api_key="sk-bench", http_client=http)
    # The whole default stack, as Aether() builds it from the environment.
    return Aether(provider, with_retry=True, with_circuit_breaker=True)


async def _ask_seconds(calls: int) -> float:
    client = _client()
    for _ in range(200):  # warm-up: imports, pricing lookups, pydantic schemas
        await client.ask("How are you today?")
    # Prices are looked up when usage is first read (or every few hundred calls, when the
    # counts are folded): once per process, so out of the timed calls.
    _ = client.usage
    started = time.process_time()
    for _ in range(calls):
        await client.ask("How are you today?")
    return (time.process_time() - started) / calls


async def _image_seconds(calls: int) -> tuple[float, float, float]:
    from aether import ImagePart

    client = _client()
    image = ImagePart(data=os.urandom(1_000_000), media_type="image/png")
    prompt: list[Any] = ["What is in this picture?", image]
    for _ in range(5):
        await client.ask(prompt)
        await client.ask("What is in this picture?")
    with_image, without = [], []
    for _ in range(calls):
        started = time.perf_counter()
        await client.ask(prompt)
        with_image.append(time.perf_counter() - started)
        started = time.perf_counter()
        await client.ask("What is in this picture?")
        without.append(time.perf_counter() - started)
    floor = []
    for _ in range(calls):
        started = time.perf_counter()
        json.dumps({"url": "data:image/png;base64," + base64.b64encode(image.data or b"").decode()})
        floor.append(time.perf_counter() - started)
    return statistics.median(with_image), statistics.median(without), statistics.median(floor)


async def _timeout_seconds(calls: int) -> list[float]:
    """When a call with ``TIMEOUT`` ends against a server that never answers, ``calls`` times."""
    from aether import Aether
    from aether.errors import ProviderTimeoutError
    from aether_openai import OpenAIProvider

    never = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        await never.wait()
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    provider = OpenAIProvider(api_key="sk-bench", base_url=f"http://127.0.0.1:{port}/v1")
    client = Aether(provider)
    ended = []
    for _ in range(calls):
        started = time.perf_counter()
        try:
            await client.ask("hi", settings={"timeout": TIMEOUT})
        except ProviderTimeoutError:
            ended.append(time.perf_counter() - started)
    await client.aclose()
    never.set()  # each handler closes its connection and ends
    server.close()
    await server.wait_closed()
    return ended


def _worker(kind: str, calls: int) -> None:
    if kind == "ask":
        print(json.dumps({"seconds": asyncio.run(_ask_seconds(calls))}))
    elif kind == "timeout":
        print(json.dumps({"ended": asyncio.run(_timeout_seconds(calls))}))
    else:
        with_image, without, floor = asyncio.run(_image_seconds(calls))
        print(json.dumps({"with": with_image, "without": without, "floor": floor}))


def _run(tree: Path, kind: str, calls: int) -> dict[str, Any]:
    sources = [str(path) for path in sorted((tree / "packages").glob("*/src"))]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sources))
    done = subprocess.run(
        [sys.executable, str(HERE / "bench_requests.py"), "--worker", kind, "--calls", str(calls)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", default=DEFAULT_BASELINE)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--worker", choices=("ask", "image", "timeout"))
    args = parser.parse_args()
    if args.worker:
        _worker(args.worker, args.calls)
        return 0

    missed = 0
    with tempfile.TemporaryDirectory() as scratch:
        baseline = Path(scratch) / "baseline"
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "add", "--detach", str(baseline), args.baseline],
            check=True,
            capture_output=True,
        )
        try:
            ratios, ours, theirs = [], [], []
            for _ in range(args.rounds):
                b = _run(baseline, "ask", args.calls)["seconds"]
                a = _run(REPO, "ask", args.calls)["seconds"]
                ours.append(a)
                theirs.append(b)
                ratios.append(a / b)
        finally:
            subprocess.run(
                ["git", "-C", str(REPO), "worktree", "remove", "--force", str(baseline)],
                check=False,
                capture_output=True,
            )
    ratio = statistics.median(ratios)
    verdict = "met" if ratio <= ASK_BUDGET else "MISS"
    missed += verdict == "MISS"
    print(f"plain ask, client CPU per call ({args.rounds} rounds of {args.calls}, fresh processes)")
    print(f"  baseline {args.baseline}: {statistics.median(theirs) * 1e6:8.1f} us")
    print(f"  this tree:        {statistics.median(ours) * 1e6:8.1f} us")
    print(
        f"  ratio: median {ratio:.3f}x (min {min(ratios):.3f}, max {max(ratios):.3f}); "
        f"budget <= {ASK_BUDGET}x: {verdict}"
    )

    image = _run(REPO, "image", 30)
    added = image["with"] - image["without"]
    image_ratio = added / image["floor"]
    verdict = "met" if image_ratio <= IMAGE_BUDGET else "MISS"
    missed += verdict == "MISS"
    print("\n1 MB image part, wall time per call (median of 30)")
    print(f"  ask without the image:       {image['without'] * 1e3:8.3f} ms")
    print(f"  ask with it:                 {image['with'] * 1e3:8.3f} ms")
    print(f"  added by the image:          {added * 1e3:8.3f} ms")
    print(f"  one base64 + one JSON dump:  {image['floor'] * 1e3:8.3f} ms")
    print(f"  added / floor: {image_ratio:.2f}x; budget <= {IMAGE_BUDGET}x: {verdict}")

    ended = _run(REPO, "timeout", 10)["ended"]
    early = [seconds for seconds in ended if seconds < TIMEOUT]
    worst = max(ended) / TIMEOUT - 1
    verdict = "met" if len(ended) == 10 and not early and worst <= TIMEOUT_BUDGET else "MISS"
    missed += verdict == "MISS"
    print(f"\nA {TIMEOUT:.1f} s call timeout against a server that never answers (10 calls)")
    print(f"  ended after: {min(ended) * 1e3:.1f}-{max(ended) * 1e3:.1f} ms ({len(early)} early)")
    print(f"  worst overshoot: {worst:.1%}; budget <= {TIMEOUT_BUDGET:.0%}: {verdict}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
