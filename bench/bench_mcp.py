"""Per-call overhead of an MCP tool over an in-process Python tool doing the same work.

    python bench/bench_mcp.py [--calls 300] [--repeat 5]

Each figure is ``await tool.run({"a": 2, "b": 3})``, what the tool loop does per call
(validation against the schema, the call, the result), best of ``--repeat`` runs, in
microseconds per call:

* ``in-process``: an async Python ``add`` made a tool, the baseline;
* ``MCP stdio``: the same ``add`` in an MCP server (the SDK's MCPServer) run as a subprocess;
* ``MCP HTTP``: the same server over Streamable HTTP on 127.0.0.1.

The MCP rows print their ratio to the baseline and the absolute overhead per call: a JSON-RPC
round trip through a pipe or a local HTTP request, against a model round trip of 100 ms and
more. No budget: the figures are reported, not enforced.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from aether.tools import Tool, make_tool
from aether_mcp import MCPServer

SERVER = """
import sys
from mcp.server.mcpserver import MCPServer

server = MCPServer("bench", log_level="WARNING")

@server.tool()
async def add(a: int, b: int) -> int:
    return a + b

if len(sys.argv) > 1:
    server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[1]))
else:
    server.run()
"""
ARGUMENTS = {"a": 2, "b": 3}


async def add(a: int, b: int) -> int:
    return a + b


async def per_call(tool: Tool, calls: int, repeat: int) -> float:
    """Best of ``repeat`` runs of ``calls`` calls, in seconds per call."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for _ in range(calls):
            await tool.run(ARGUMENTS)
        best = min(best, (time.perf_counter() - started) / calls)
    return best


async def measured(server: MCPServer, calls: int, repeat: int) -> float:
    async with server:
        (tool,) = server.aether_tools("add")
        assert await tool.run(ARGUMENTS) == "5"
        return await per_call(tool, calls, repeat)


@contextmanager
def http_server() -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-c", SERVER, str(port)])
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the benchmark's MCP HTTP server did not start") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.wait(10)


async def main(calls: int, repeat: int) -> int:
    baseline = await per_call(make_tool(add), calls, repeat)
    stdio = await measured(MCPServer.stdio("bench", sys.executable, ["-c", SERVER]), calls, repeat)
    with http_server() as url:
        http = await measured(MCPServer.http("bench", url), calls, repeat)
    print(f"per tool call (best of {repeat}, {calls} calls each)")
    print(f"  {'in-process async tool (baseline)':<34} {baseline * 1e6:9.1f} us")
    for label, value in (("MCP tool over stdio", stdio), ("MCP tool over Streamable HTTP", http)):
        print(
            f"  {label:<34} {value * 1e6:9.1f} us  {value / baseline:7.1f}x the baseline, "
            f"+{(value - baseline) * 1e6:.1f} us per call"
        )
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    raise SystemExit(asyncio.run(main(args.calls, args.repeat)))
