"""A tiny HTTP/1.1 server on 127.0.0.1 for end-to-end tests, and the writes its answers use.

It runs on the test's own event loop (``asyncio.start_server``) and keeps connections alive,
so pool reuse can be observed. What it answers is the test's: a ``respond`` coroutine gets
each request (already read) and the stream to write to, and returns whether the connection
may serve another request (False after closing it, hanging up or aborting mid-body).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "LoopbackServer",
    "Request",
    "Respond",
    "end_chunks",
    "send_chunk",
    "send_json",
    "start_chunked",
]

Request = dict[str, Any]
"""``{"method", "path", "headers" (lower-case names), "body" (parsed JSON, else bytes)}``."""

Respond = Callable[[Request, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[bool]]


class LoopbackServer:
    """Start with ``await server.start()``; ``server.root`` is ``http://127.0.0.1:<port>``."""

    def __init__(self, respond: Respond) -> None:
        self.respond = respond
        self.requests: list[Request] = []
        self.connections = 0
        self.open_connections = 0
        self.root = ""
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> Self:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.root = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        self.open_connections += 1
        try:
            while True:
                request = await _read_request(reader)
                self.requests.append(request)
                if not await self.respond(request, reader, writer):
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.open_connections -= 1
            self._tasks.discard(task)
            writer.close()


async def _read_request(reader: asyncio.StreamReader) -> Request:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {
        k.strip().lower(): v.strip()
        for k, v in (line.split(":", 1) for line in lines[1:] if ":" in line)
    }
    raw = await reader.readexactly(int(headers.get("content-length", "0")))
    try:
        body: Any = json.loads(raw)
    except ValueError:
        body = raw
    return {"method": method, "path": path, "headers": headers, "body": body}


def _head(status: int, headers: Mapping[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} X", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def send_json(
    writer: asyncio.StreamWriter,
    status: int,
    payload: Any,
    headers: Mapping[str, str] | None = None,
) -> None:
    """A whole JSON answer (``payload`` as bytes is sent as it is)."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    head = {"content-type": "application/json", **(headers or {})}
    writer.write(_head(status, {**head, "content-length": str(len(body))}) + body)
    await writer.drain()


async def start_chunked(
    writer: asyncio.StreamWriter,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> None:
    """The head of a chunked answer (an event stream unless ``headers`` say otherwise)."""
    head = {"content-type": "text/event-stream", **(headers or {})}
    writer.write(_head(status, {**head, "transfer-encoding": "chunked"}))
    await writer.drain()


async def send_chunk(writer: asyncio.StreamWriter, data: bytes | str) -> None:
    raw = data.encode() if isinstance(data, str) else data
    writer.write(b"%x\r\n%s\r\n" % (len(raw), raw))
    await writer.drain()


async def end_chunks(writer: asyncio.StreamWriter) -> None:
    writer.write(b"0\r\n\r\n")
    await writer.drain()
