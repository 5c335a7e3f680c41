"""The server process never outlives its host: not on exit, not when the host is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from tests.mcp.conftest import DEMO

HOST = textwrap.dedent(
    """
    import asyncio, sys
    from aether_mcp import MCPServer

    async def main():
        async with MCPServer.stdio("demo", sys.executable, [sys.argv[1]]) as server:
            result = await server.call("pid", {})
            print(result.structured_content["result"], flush=True)
            if sys.argv[2] == "exit":
                sys.exit(0)
            await asyncio.sleep(60)

    asyncio.run(main())
    """
)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def _run_host(how: str) -> tuple[subprocess.Popen[str], int]:
    host = subprocess.Popen(
        [sys.executable, "-c", HOST, DEMO, how], stdout=subprocess.PIPE, text=True
    )
    assert host.stdout is not None
    with host.stdout:
        return host, int(host.stdout.readline())


def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not _alive(pid)


def test_the_server_stops_when_the_host_exits() -> None:
    host, server_pid = _run_host("exit")
    assert host.wait(20) == 0
    assert _gone_within(server_pid, 10)


def test_the_server_stops_when_the_host_is_killed() -> None:
    host, server_pid = _run_host("sleep")
    try:
        assert _alive(server_pid)
        host.send_signal(signal.SIGKILL)
        host.wait(10)
        # No code of the host runs: the server sees its stdin close and exits.
        assert _gone_within(server_pid, 10)
    finally:
        if _alive(server_pid):
            os.kill(server_pid, signal.SIGKILL)
