"""Driving the ``aether`` command as a person does: a fresh process, pipes, a terminal.

``ChatServer`` is an OpenAI-compatible endpoint on 127.0.0.1 in a thread of its own (the
command under test is another process, so it cannot share the test's event loop). It answers
``heard N: LAST`` word by word, N being how many messages the request held and LAST the last
one's text, so a test sees both what the model was sent and the streaming itself. A last
message holding ``slow`` sends the first word, then waits for ``release`` (or for the client
to hang up, which sets ``hung_up``); one holding ``break`` sends the first word and drops the
connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pty
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from tests.support.loopback import (
    LoopbackServer,
    Request,
    end_chunks,
    send_chunk,
    start_chunked,
)

WAIT = 30.0


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    """A clean environment: the fake provider, sessions under ``home``, no real endpoint."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AETHER_", "LLM_", "OPENAI_", "GEMINI_", "ANTHROPIC_", "XDG_"))
    }
    env.update(
        LLM_PROVIDER="fake",
        HOME=str(home),
        XDG_DATA_HOME=str(home / "data"),
        TERM="dumb",
        PYTHONDONTWRITEBYTECODE="1",
    )
    for prefix in ("OPENAI", "GEMINI", "ANTHROPIC"):  # port 9 discards: never a real API
        env[f"{prefix}_BASE_URL"] = "http://127.0.0.1:9"
    env.update(extra)
    return env


def aether_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "aether", *args]


def run_cli(
    *args: str, env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``aether ARGS`` with ``stdin`` piped in (None: /dev/null, not a terminal)."""
    return subprocess.run(
        aether_command(*args),
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
        capture_output=True,
        text=True,
        env=env,
        timeout=WAIT * 2,
        check=False,
    )


def read_until(fd: int, needle: bytes, *, timeout: float = WAIT) -> bytes:
    """Read ``fd`` until ``needle`` appears; all that was read."""
    deadline = time.monotonic() + timeout
    data = b""
    while needle not in data:
        data += _read_more(fd, deadline, needle, data)
    return data


def _read_more(fd: int, deadline: float, needle: bytes, data: bytes) -> bytes:
    left = deadline - time.monotonic()
    if left <= 0 or not select.select([fd], [], [], left)[0]:
        raise AssertionError(f"{needle!r} did not appear; read so far: {data!r}")
    try:
        piece = os.read(fd, 4096)
    except OSError:  # a terminal whose other side has closed
        piece = b""
    if not piece:
        raise AssertionError(f"{needle!r} did not appear before the end: {data!r}")
    return piece


class Terminal:
    """A command under a pseudo-terminal: type into it, read what it shows."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        master, slave = pty.openpty()
        self.fd = master
        self.process = subprocess.Popen(
            command, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
        )
        os.close(slave)
        self.screen = b""  # everything shown so far
        self._mark = 0  # expect() searches what was shown after the last match

    def expect(self, text: str, timeout: float = WAIT) -> str:
        """Wait until ``text`` is shown after the last match; what was shown up to it."""
        needle, deadline = text.encode(), time.monotonic() + timeout
        while needle not in self.screen[self._mark :]:
            self.screen += _read_more(self.fd, deadline, needle, self.screen[self._mark :])
        end = self.screen.index(needle, self._mark) + len(needle)
        shown, self._mark = self.screen[self._mark : end], end
        return shown.decode(errors="replace")

    def type(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def ctrl_c(self) -> None:
        """SIGINT, as the terminal sends for Ctrl-C."""
        self.process.send_signal(signal.SIGINT)

    def close(self) -> int:
        """Wait for the command to end (killing it after a while); its exit status."""
        try:
            return self.process.wait(WAIT)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            if self.fd >= 0:
                os.close(self.fd)
                self.fd = -1


class ChatServer:
    """See the module docs; use as a context manager, ``base_url`` is the ``/v1`` root."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.hung_up = threading.Event()
        self.bodies: list[dict[str, Any]] = []
        self.base_url = ""
        self._loop = asyncio.new_event_loop()
        self._server = LoopbackServer(self._answer)
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> ChatServer:
        self._thread.start()
        started = asyncio.run_coroutine_threadsafe(self._server.start(), self._loop)
        self.base_url = f"{started.result(WAIT).root}/v1"
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release.set()
        asyncio.run_coroutine_threadsafe(self._server.stop(), self._loop).result(WAIT)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(WAIT)
        self._loop.close()

    def env(self, home: Path, **extra: str) -> dict[str, str]:
        """:func:`cli_env` pointed at this server through the openai provider."""
        return cli_env(
            home, LLM_PROVIDER="openai", OPENAI_BASE_URL=self.base_url, OPENAI_MODEL="m", **extra
        )

    async def _answer(
        self, request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        body = request["body"]
        self.bodies.append(body)
        messages = body["messages"]
        last = _text(messages[-1])
        words = f"heard {len(messages)}: {last}".split(" ")
        pieces = [word + " " for word in words[:-1]] + [words[-1]]
        await start_chunked(writer)
        for index, piece in enumerate(pieces):
            await send_chunk(writer, _event({"content": piece}))
            if index == 0 and "break" in last:
                writer.transport.abort()
                return False
            if index == 0 and "slow" in last and not await self._held(reader):
                self.hung_up.set()
                return False
        await send_chunk(writer, _event({}, "stop"))
        usage = {"prompt_tokens": 5, "completion_tokens": len(pieces), "total_tokens": 9}
        await send_chunk(writer, f"data: {json.dumps({'choices': [], 'usage': usage})}\n\n")
        await send_chunk(writer, "data: [DONE]\n\n")
        await end_chunks(writer)
        return True

    async def _held(self, reader: asyncio.StreamReader) -> bool:
        """Wait for ``release``; False when the client hung up first."""
        gone = asyncio.ensure_future(reader.read(1))
        try:
            while not self.release.is_set():
                done, _ = await asyncio.wait({gone}, timeout=0.02)
                if done:
                    return False
            return True
        finally:
            gone.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await gone


def _text(message: dict[str, Any]) -> str:
    content = message.get("content") or ""
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content)
    return str(content)


def _event(delta: dict[str, Any], finish: str | None = None) -> str:
    chunk = {
        "id": "chatcmpl-cli",
        "object": "chat.completion.chunk",
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(chunk)}\n\n"
