"""HTTP benchmark: Aether against raw httpx and raw aiohttp, over plain HTTP and HTTPS.

    python bench/bench_http.py            # 3 rounds, about 15 minutes on 2 cores
    python bench/bench_http.py --quick    # about a minute: HTTPS, budgeted clients, 1 round
    python bench/bench_http.py --delay-ms 1000 --scenarios c500   # with an API's latency

The server is nginx where installed (``apt-get install -y nginx``), else ``bench/server.py``,
on 127.0.0.1 with canned answers, serving HTTPS with a certificate authority made for the run
that every client trusts through ``SSL_CERT_FILE`` (see ``bench/_http_servers.py``). Every
scenario runs for every client in a FRESH process, once per round, the cells in rotating order
so no client always runs in the same spot, and the tables give the median and min-max over the
rounds with ratios to the baselines of the same run. Clients: see ``bench/_http_clients.py``
(raw httpx with the openai SDK's pool and with httpx's default pool, raw aiohttp, and Aether
configured as users get it plus the pool settings under evaluation). Scenarios: cold start,
first request in a fresh process, sequential requests, requests at concurrency 50 and 500,
and sequential streams (OpenAI, Gemini and Anthropic wire formats). Every reply is checked.

Columns: throughput (req/s or chunks/s, wall clock), client CPU per request or chunk
(``time.process_time`` in the client), peak RSS of the client process, new connections the
server saw per 1,000 requests, and the server's CPU share of the wall time (near 100% would
mean the server, not the client, is the limit). The script exits non-zero when a budget is
missed (see ``bench/_http_budgets.py``).

On loopback an answer takes microseconds, so a pool that caps calls in flight costs nothing
here, while against a real API it caps throughput at (calls in flight) / latency.
``--delay-ms`` plays that latency (budgets are then not judged): use it before adopting a
pool setting that bounds connections or streams.
"""

from __future__ import annotations

import time

_STARTED = time.perf_counter()  # first statement: "first request" counts from here

import argparse  # noqa: E402
import asyncio  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _http_budgets import Cell, Results, print_report  # noqa: E402
from _http_clients import BASELINES, CLIENTS, check, make_client  # noqa: E402
from _http_servers import Servers, count_connections, start  # noqa: E402

CHUNKS = 500
"""Text chunks per stream."""
CELL_SECONDS = 15.0
"""No request starts after this long in one cell: a slow client does fewer, not longer."""

# --- worker (one scenario, one client, in a fresh process) -----------------------------------


async def _work(args: argparse.Namespace) -> dict[str, Any]:
    scenario, n, log = args.worker, args.n, Path(args.connection_log)
    client = make_client(args.client, args.fmt, args.root, CHUNKS)
    try:
        if scenario == "first":
            rid = await client.complete()
            check(bool(rid), "no reply id")
            return {"seconds": time.perf_counter() - _STARTED, "count": 1}
        if scenario == "stream":
            await client.stream()  # warm-up: connection, pricing lookups, caches
            _settle(client)
            opened = count_connections(log)
            start, cpu = time.perf_counter(), time.process_time()
            ids, total = set(), 0
            for _ in range(n):
                rid, got = await client.stream()
                check(got == CHUNKS, f"{got} text chunks instead of {CHUNKS}")
                ids.add(rid)
                total += got
        else:
            concurrency = 1 if scenario == "seq" else int(scenario[1:])
            # Warm-up at full concurrency: the pool is as full as it will get before timing.
            await asyncio.gather(*(client.complete() for _ in range(concurrency)))
            _settle(client)
            opened = count_connections(log)
            start, cpu = time.perf_counter(), time.process_time()
            ids, total = await _requests(client.complete, n, concurrency)
            n = total
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        check(len(ids) == n, f"{n - len(ids)} replies repeated an id")
        await asyncio.sleep(0.05)  # the server logs a connection as its first answer ends
        connections = count_connections(log) - opened
        return {"seconds": seconds, "cpu": cpu, "count": total, "requests": n, "new": connections}
    finally:
        await client.aclose()


def _settle(client: Any) -> None:
    """One-time costs a client defers past its warm-up, paid before timing (its ``settle``)."""
    settle = getattr(client, "settle", None)
    if settle is not None:
        settle()


async def _requests(call: Any, n: int, concurrency: int) -> tuple[set[str], int]:
    """``n`` calls over ``concurrency`` lanes, none started after :data:`CELL_SECONDS`."""
    ids: set[str] = set()
    left = n
    deadline = time.perf_counter() + CELL_SECONDS

    async def lane() -> None:
        nonlocal left
        while left > 0 and time.perf_counter() < deadline:
            left -= 1
            ids.add(await call())

    await asyncio.gather(*(lane() for _ in range(concurrency)))
    return ids, n - left


def worker(args: argparse.Namespace) -> None:
    result = asyncio.run(_work(args))
    import resource

    result["maxrss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(result))


# --- parent ------------------------------------------------------------------------------


def _process_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _run_worker(cmd: list[str], env: dict[str, str], server_pid: int) -> dict[str, Any]:
    before = _process_cpu(server_pid)
    started = time.perf_counter()
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if out.returncode != 0:
        raise SystemExit(f"worker failed: {' '.join(cmd[2:])}\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    result["server_cpu"] = _process_cpu(server_pid) - before
    result["process_wall"] = wall
    return result


_FLOOR = "import httpx\nfrom pydantic import BaseModel\nclass _M(BaseModel):\n    x: int = 0\n_M()"
_COLD = {
    "python -c pass": "pass",
    "import httpx": "import httpx",
    "import aiohttp": "import aiohttp",
    # What any client of this design must import, so the floor under the rows below: httpx,
    # and pydantic with one model built. Building the first model imports importlib.metadata
    # and scans every distribution's entry points (pydantic looks for its own plugins), so
    # the floor holds a whole entry-point scan already; the next row shows what Aether's
    # own scan for plugins adds to it.
    "floor: httpx + pydantic + a model": _FLOOR,
    "floor + a scan for aether plugins": (
        _FLOOR + "\nfrom importlib.metadata import entry_points\n"
        "entry_points(group='aether.providers')"
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


_SHIPPED = ("aether", "aether-aiohttp")
_PEERS = ("openai-sdk",)
"""Peers of the same design (httpx under pydantic answers): reported, never a baseline."""
_CANDIDATES = ("aether-100ka", "aether-h2")


def _plan(args: argparse.Namespace, http2: bool) -> list[Cell]:
    """Every (scenario, protocol, format, client, requests) cell of this run."""
    quick = args.quick
    wanted = set(args.clients.split(",")) if args.clients else set()
    pools = sorted(name for name in wanted if "@" in name)  # pool settings to evaluate
    protocols = ("https",) if quick else tuple(args.protocols.split(","))
    raw = ("httpx-100ka", "aiohttp") if quick else BASELINES
    candidates = (*(() if quick else _CANDIDATES), *pools)
    peers = () if quick else _PEERS
    sizes = {"seq": 1000, "c50": 2500, "c500": 2500, "stream": 50}
    if quick:
        sizes = {"seq": 400, "c50": 1000, "c500": 1500, "stream": 10}
    cells: list[Cell] = []
    if not quick:
        firsts = (*raw, *_PEERS, "aether-bare", *_SHIPPED)
        cells += [("first", "https", "openai", c, 1) for c in firsts]
    for proto in protocols:
        pooled = [c for c in candidates if not c.endswith("h2") or (http2 and proto == "https")]
        # The providers alone: what the stack adds over them, and they over the raw clients.
        bare = () if quick else ("aether-bare", "aether-aiohttp-bare")
        for scenario in ("seq", "c50", "c500"):
            # At 500 the transport dominates and the bare provider adds nothing to read.
            extra = () if scenario == "c500" else bare
            clients = (*raw, *peers, *extra, *_SHIPPED, *pooled)
            cells += [(scenario, proto, "openai", c, sizes[scenario]) for c in clients]
        streamers = ("httpx-100ka", "aiohttp", *peers, *_SHIPPED)
        cells += [("stream", proto, "openai", c, sizes["stream"]) for c in streamers]
    for fmt in () if quick else ("gemini", "anthropic"):
        if importlib.util.find_spec(f"aether_{fmt}") is None:
            print(f"(aether_{fmt} is not installed: no {fmt} stream table)")
            continue
        clients = ("httpx-100ka", *_SHIPPED)
        cells += [("stream", "https", fmt, c, sizes["stream"]) for c in clients]
    if wanted:
        unknown = wanted - set(CLIENTS) - set(pools)
        if unknown:
            raise SystemExit(f"--clients: unknown {sorted(unknown)}; known: {', '.join(CLIENTS)}")
        cells = [cell for cell in cells if cell[3] in wanted]
    if args.scenarios:
        cells = [cell for cell in cells if cell[0] in args.scenarios.split(",")]
    return cells


def _measure(args: argparse.Namespace, servers: Servers, rounds: int) -> Results:
    cells = _plan(args, servers.http2)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AETHER_", "LLM_"))}
    env["SSL_CERT_FILE"] = str(servers.ca_file)
    env.pop("SSL_CERT_DIR", None)
    results: Results = {}
    for round_ in range(rounds):
        started = time.perf_counter()
        shift = round_ * len(cells) // rounds
        for scenario, proto, fmt, client, n in cells[shift:] + cells[:shift]:
            cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", scenario]
            cmd += ["--client", client, "--fmt", fmt, "--root", servers.roots[proto]]
            cmd += ["--n", str(n), "--connection-log", str(servers.connection_log)]
            result = _run_worker(cmd, env, servers.process.pid)
            results.setdefault((scenario, proto, fmt, client), []).append(result)
        took = time.perf_counter() - started
        print(f"  round {round_ + 1}/{rounds}: {len(cells)} cells in {took:.0f} s", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="HTTPS only, budgeted clients")
    parser.add_argument("--rounds", type=int, help="fresh processes per cell (default 3; quick 1)")
    parser.add_argument("--server", choices=("auto", "nginx", "python"), default="auto")
    parser.add_argument(
        "--clients",
        help="comma-separated subset of the clients, and pools to try: httpx@1000/100, "
        "aether@100/100, aether@1000/100/h2 (max connections/kept alive[/HTTP/2])",
    )
    parser.add_argument("--scenarios", help="comma-separated subset: first,seq,c50,c500,stream")
    parser.add_argument("--protocols", default="http,https", help="http,https or one of them")
    parser.add_argument(
        "--delay-ms",
        type=float,
        default=0.0,
        help="answer latency (Python server; budgets not judged): how pools behave "
        "when calls take as long as a real API's",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("--fmt", default="openai", help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--connection-log", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return

    rounds = args.rounds or (1 if args.quick else 3)
    servers = start(args.server, (CHUNKS,), args.delay_ms)
    try:
        print(
            f"server: {servers.kind} (pid {servers.process.pid}) at {servers.roots['http']} "
            f"and {servers.roots['https']} (HTTP/2: {'yes' if servers.http2 else 'no'}); "
            f"clients trust its CA through SSL_CERT_FILE; {rounds} round(s); "
            f"answers delayed {args.delay_ms:g} ms",
            flush=True,
        )
        cold = _cold(servers.roots["https"], 3 if args.quick else 5)
        results = _measure(args, servers, rounds)
    finally:
        servers.stop()
    met = print_report(cold, results, servers.kind)
    if args.delay_ms:
        print(f"(answers were delayed {args.delay_ms:g} ms: the budgets above are not judged)")
    elif not met:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
