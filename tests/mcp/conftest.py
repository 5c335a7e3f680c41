"""MCP servers for the tests, and the check that no test leaves a process behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from aether.registry import Registry, default_registry
from aether_mcp import MCPServer

DEMO = str(Path(__file__).with_name("demo_server.py"))


def children() -> set[int]:
    """Live (not zombie) processes whose parent is this one, read from /proc."""
    found: set[int] = set()
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces, so split after its ')'.
        state, ppid = stat.rpartition(")")[2].split()[:2]
        if int(ppid) == me and state != "Z":
            found.add(int(entry.name))
    return found


def wait_gone(pids: set[int], seconds: float = 10.0) -> set[int]:
    deadline = time.monotonic() + seconds
    alive = pids & children()
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = pids & children()
    return alive


@pytest.fixture(autouse=True)
def no_orphans() -> Iterator[None]:
    """Every process a test starts is gone once the test is over."""
    before = children()
    yield
    left = wait_gone(children() - before)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"processes left running after the test: {sorted(left)}"


@pytest.fixture(autouse=True)
def isolated_registry() -> Iterator[Registry]:
    with default_registry.isolated() as registry:
        yield registry


def stdio_server(**kw: object) -> MCPServer:
    return MCPServer.stdio("demo", sys.executable, [DEMO], **kw)  # type: ignore[arg-type]


@pytest.fixture
def http_url(tmp_path: Path) -> Iterator[str]:
    """A demo server on Streamable HTTP at 127.0.0.1, stopped after the test."""
    process, url = start_http(tmp_path / "port")
    try:
        yield url
    finally:
        stop(process)


def start_http(port_file: Path, port: int | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """Start the demo server on HTTP (on ``port``, default a free one); wait until it listens."""
    port_file.unlink(missing_ok=True)
    extra = [str(port)] if port is not None else []
    process = subprocess.Popen(
        [sys.executable, DEMO, "http", str(port_file), *extra], stderr=subprocess.DEVNULL
    )
    try:
        return process, _wait_listening(port_file, process)
    except BaseException:
        stop(process)
        raise


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_listening(port_file: Path, process: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert process.poll() is None, "the HTTP MCP server exited at start"
        if port_file.exists() and port_file.read_text():
            url = f"http://127.0.0.1:{port_file.read_text()}/mcp"
            try:
                httpx.get(url.removesuffix("/mcp") + "/", timeout=1)
            except httpx.TransportError:
                time.sleep(0.05)
                continue
            return url
        time.sleep(0.05)
    raise AssertionError("the HTTP MCP server did not start listening")
