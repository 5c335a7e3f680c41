"""A real ``redis-server`` on 127.0.0.1 for the tests (and the benchmark): start, kill, restart.

The server runs in the foreground as our child, on a free port, with its files in a directory
the caller owns. ``persistent=True`` turns on the append-only file with an fsync per write, so
every acknowledged write survives a ``SIGKILL`` of the server.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

__all__ = ["RedisServer", "free_port", "redis_server_binary"]

_MISSING = (
    "redis-server is not installed, and the Redis store tests need a real server. Install it "
    "(Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis); .ci/run does "
    "this by itself."
)


def redis_server_binary() -> str:
    """The path of ``redis-server``; raises RuntimeError saying how to install it if missing."""
    found = shutil.which("redis-server")
    if found is None:
        raise RuntimeError(_MISSING)
    return found


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RedisServer:
    """One ``redis-server`` process; starting it again after a kill reuses its port and files."""

    def __init__(
        self, directory: Path, *, persistent: bool = False, password: str | None = None
    ) -> None:
        self.directory = directory
        self.persistent = persistent
        self.password = password
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        directory.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:PORT/0`` (with the password when the server requires one)."""
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 15.0) -> None:
        """Start the server and wait until it answers (and has loaded its data)."""
        argv = [
            redis_server_binary(),
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.directory),
            "--save", "",
            "--daemonize", "no",
            "--logfile", str(self.directory / "redis.log"),
            "--appendonly", "yes" if self.persistent else "no",
            "--appendfsync", "always",
        ]  # fmt: skip
        if self.password:
            argv += ["--requirepass", self.password]
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited at start-up: {self._log_tail()}")
            if self._ready():
                return
            time.sleep(0.01)
        self.stop()
        raise RuntimeError(f"redis-server did not answer within {timeout} s: {self._log_tail()}")

    def kill(self) -> None:
        """SIGKILL the server: no shutdown, no final save."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
            self.process = None

    def stop(self) -> None:
        """Stop the server (if running) and wait for it."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def _ready(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                reply = sock.recv(64)
        except OSError:
            return False
        # -NOAUTH: up, but wants a password; -LOADING: still reading its append-only file.
        return reply.startswith((b"+PONG", b"-NOAUTH"))

    def _log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return (self.directory / "redis.log").read_text(errors="replace")[-2000:]
        return "(no log)"
