"""HTTP benchmark: Aether against raw httpx and raw aiohttp, on a local canned-answer server.

    python bench/bench_http.py            # about 4 minutes on 2 idle cores
    python bench/bench_http.py --quick    # under a minute, fewer runs and requests

It starts ``bench/server.py`` in its own process on 127.0.0.1, then runs every scenario for
every client in a FRESH process, several times in rotating order, and prints medians with
ratios to the baselines of the same run. Clients: raw ``httpx.AsyncClient`` + ``json``, raw
aiohttp, Aether's bare OpenAI provider, ``Aether()``'s full default stack (cost tracking,
circuit breaker, retry, events) over httpx, and the same over the aiohttp transport
(``AETHER_HTTP_TRANSPORT=aiohttp``). Scenarios: cold start, first request in a fresh process,
sequential requests, requests at concurrency 50 and 500, and sequential streams (OpenAI,
Gemini and Anthropic wire formats). Every reply is checked (text and a unique id per reply).

Columns: throughput (req/s or chunks/s, wall clock), client CPU per request or chunk
(``time.process_time`` in the client), peak RSS of the client process, and the server's CPU
share of the wall time (near 100% would mean the server, not the client, is the limit).
"""

from __future__ import annotations

import time

_STARTED = time.perf_counter()  # first statement: "first request" counts from here

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _http_budgets import print_budgets  # noqa: E402
from _http_clients import CLIENTS, check, make_client  # noqa: E402

FORMATS = ("openai", "gemini", "anthropic")


# --- worker (one scenario, one client, in a fresh process) -----------------------------------


async def _work(
    scenario: str, name: str, fmt: str, root: str, n: int, chunks: int
) -> dict[str, Any]:
    client = make_client(name, fmt, root, chunks)
    try:
        if scenario == "first":
            rid = await client.complete()
            check(bool(rid), "no reply id")
            return {"seconds": time.perf_counter() - _STARTED, "count": 1}
        if scenario == "stream":
            await client.stream()  # warm-up: connection, pricing lookups, caches
            start, cpu = time.perf_counter(), time.process_time()
            ids, total = set(), 0
            for _ in range(n):
                rid, got = await client.stream()
                check(got == chunks, f"{got} text chunks instead of {chunks}")
                ids.add(rid)
                total += got
        else:
            concurrency = 1 if scenario == "seq" else int(scenario[1:])
            await asyncio.gather(*(client.complete() for _ in range(min(concurrency, 100))))
            start, cpu = time.perf_counter(), time.process_time()
            ids, total = await _requests(client.complete, n, concurrency)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        check(len(ids) == n, f"{n - len(ids)} replies repeated an id")
        return {"seconds": seconds, "cpu": cpu, "count": total}
    finally:
        await client.aclose()


async def _requests(call: Any, n: int, concurrency: int) -> tuple[set[str], int]:
    ids: set[str] = set()
    left = n

    async def lane() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            ids.add(await call())

    await asyncio.gather(*(lane() for _ in range(concurrency)))
    return ids, n


def worker(args: argparse.Namespace) -> None:
    result = asyncio.run(_work(args.worker, args.client, args.fmt, args.root, args.n, args.chunks))
    import resource

    result["maxrss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(result))


# --- parent ------------------------------------------------------------------------------


def _server() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "server.py")], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("PORT "):
        proc.kill()
        raise SystemExit(f"the bench server did not start: {line!r}")
    return proc, f"http://127.0.0.1:{int(line.split()[1])}"


def _server_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _run_worker(cmd: list[str], env: dict[str, str], server_pid: int) -> dict[str, Any]:
    before = _server_cpu(server_pid)
    started = time.perf_counter()
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if out.returncode != 0:
        raise SystemExit(f"worker failed: {' '.join(cmd[2:])}\n{out.stderr}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    result["server_cpu"] = _server_cpu(server_pid) - before
    result["process_wall"] = wall
    return result


_ONCE = {("c500", "httpx"), ("c500", "aether")}
"""Cells run once in a full run: over httpx, 5,000 requests at concurrency 500 take ~60 s
(httpcore's pool does work proportional to waiting requests x connections per event)."""

_COLD = {
    "python -c pass": "pass",
    "import httpx": "import httpx",
    "import aiohttp": "import aiohttp",
    # What any client of this design must import, so the floor under the rows below: httpx,
    # pydantic with one model built, and the entry-point scan that finds plugins.
    "floor: httpx + pydantic + a model": (
        "import httpx\nfrom pydantic import BaseModel\nclass _M(BaseModel):\n    x: int = 0\n_M()"
    ),
    "entry-point scan alone": (
        "from importlib.metadata import entry_points\nentry_points(group='aether.providers')"
    ),
    "import aether": "import aether",
    "import aether + Aether() [openai]": "import aether\naether.Aether()",
    "... [openai, aiohttp transport]": "import aether\naether.Aether()",
}


def _cold(root: str, runs: int) -> list[tuple[str, float, float]]:
    """(label, median in-process seconds, median process seconds) per snippet."""
    env = {
        **os.environ,
        "LLM_PROVIDER": "openai",
        "OPENAI_BASE_URL": f"{root}/v1",
        "OPENAI_API_KEY": "sk-bench",
        "AETHER_HTTP_TRANSPORT": "httpx",
    }
    fast_env = {**env, "AETHER_HTTP_TRANSPORT": "aiohttp"}
    samples: dict[str, list[tuple[float, float]]] = {label: [] for label in _COLD}
    for _ in range(runs):
        for label, code in _COLD.items():
            timed = (
                f"import time\n_t = time.perf_counter()\n{code}\nprint(time.perf_counter() - _t)"
            )
            started = time.perf_counter()
            out = subprocess.run(
                [sys.executable, "-c", timed],
                env=fast_env if "aiohttp transport" in label else env,
                capture_output=True,
                text=True,
                check=True,
            )
            samples[label].append((float(out.stdout), time.perf_counter() - started))
    return [
        (
            label,
            statistics.median(s for s, _ in values),
            statistics.median(w for _, w in values),
        )
        for label, values in samples.items()
    ]


def _have(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs and requests")
    parser.add_argument("--runs", type=int, help="fresh processes per cell (median taken)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("--fmt", default="openai", help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--chunks", type=int, default=500, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return

    runs = args.runs or (2 if args.quick else 3)
    scale = 4 if args.quick else 1
    cells: list[tuple[str, str, str, int]] = []  # (scenario, fmt, client, n)
    cells += [("first", "openai", c, 1) for c in CLIENTS]
    cells += [("seq", "openai", c, 2000 // scale) for c in CLIENTS]
    cells += [("c50", "openai", c, 5000 // scale) for c in CLIENTS]
    # At 500 the transport dominates and the bare provider adds nothing to read: left out.
    pooled = [c for c in CLIENTS if c != "aether-bare"]
    cells += [("c500", "openai", c, 5000 // scale) for c in pooled]
    cells += [("stream", "openai", c, 50 // scale) for c in CLIENTS]
    for fmt in ("gemini", "anthropic"):
        if _have(f"aether_{fmt}"):
            cells += [("stream", fmt, c, 50 // scale) for c in ("httpx", "aether", "aether-fast")]
        else:
            print(f"(aether_{fmt} is not installed: no {fmt} stream column)")

    server, root = _server()
    try:
        print(f"server {root} (pid {server.pid}); {runs} fresh processes per cell")
        cold = _cold(root, max(runs, 5))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AETHER_", "LLM_"))}
        results: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        for run in range(runs):
            shift = run % len(cells)
            for scenario, fmt, client, n in cells[shift:] + cells[:shift]:
                if run and not args.quick and (scenario, client) in _ONCE:
                    continue  # about a minute per run: httpcore's pool at 500 waiters
                cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", scenario]
                cmd += ["--client", client, "--fmt", fmt, "--root", root, "--n", str(n)]
                result = _run_worker(cmd, env, server.pid)
                results.setdefault((scenario, fmt, client), []).append(result)
            print(f"  run {run + 1}/{runs} done", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=10)
    if not print_budgets(cold, results):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
