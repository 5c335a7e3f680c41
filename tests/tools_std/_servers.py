"""Small HTTP/1.1 servers on 127.0.0.1 for ``http_get`` tests, run on the test's event loop.

``Site`` answers by path:

* ``/text``: ``hello from the site``, ``text/plain``.
* ``/host``: the ``Host`` header it received.
* ``/redirect?to=URL``: a 302 to ``URL``; ``/loop``: a 302 to itself.
* ``/drip``: a text body of one byte per second, forever.
* ``/huge``: 5 MB of ``a`` (with Content-Length).
* ``/png``: a PNG header and binary bytes, ``image/png``.
* ``/unlabelled-binary``: NUL-laden bytes with no ``Content-Type``.
* ``/latin1``: ``café`` in Latin-1 declared as ``charset=iso-8859-1``; ``/bad-utf8``: invalid
  UTF-8 declared as UTF-8.
* ``/gzip-bomb``: 2 MB of zeros gzip-compressed (a few KB on the wire).

``Canary`` accepts connections and only counts them: a refused URL must leave it at zero.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    path: str
    headers: dict[str, str]


@dataclass
class Site:
    server: asyncio.Server | None = None
    requests: list[Request] = field(default_factory=list)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)

    async def close(self) -> None:
        assert self.server is not None
        self.server.close()
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.tasks.add(task)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            line, *header_lines = head.decode("latin-1").split("\r\n")
            headers = {}
            for header in header_lines:
                if header:
                    name, _, value = header.partition(":")
                    headers[name.strip().lower()] = value.strip()
            target = line.split(" ")[1]
            self.requests.append(Request(target, headers))
            await self._answer(target, headers, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            pass  # closed by the fixture mid-answer (the drip); end quietly
        finally:
            self.tasks.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _answer(
        self, target: str, headers: dict[str, str], writer: asyncio.StreamWriter
    ) -> None:
        parts = urlsplit(target)
        path = parts.path
        if path == "/redirect":
            to = parse_qs(parts.query)["to"][0]
            await _respond(writer, 302, b"", extra={"Location": to})
        elif path == "/loop":
            await _respond(writer, 302, b"", extra={"Location": "/loop"})
        elif path == "/host":
            await _respond(writer, 200, headers.get("host", "").encode())
        elif path == "/drip":
            writer.write(_head(200, None, "text/plain"))
            while True:
                writer.write(b"x")
                await writer.drain()
                await asyncio.sleep(1.0)
        elif path == "/huge":
            size = 5_000_000
            writer.write(_head(200, size, "text/plain"))
            for _ in range(size // 50_000):
                writer.write(b"a" * 50_000)
                await writer.drain()
        elif path == "/png":
            await _respond(writer, 200, b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "image/png")
        elif path == "/unlabelled-binary":
            await _respond(writer, 200, b"\x00\x01\x02binary\x00" * 10, None)
        elif path == "/latin1":
            await _respond(writer, 200, "café".encode("latin-1"), "text/plain; charset=iso-8859-1")
        elif path == "/bad-utf8":
            await _respond(writer, 200, b"ok \xff\xfe done", "text/plain; charset=utf-8")
        elif path == "/gzip-bomb":
            body = gzip.compress(b"\x20" * 2_000_000)
            await _respond(writer, 200, body, "text/plain", extra={"Content-Encoding": "gzip"})
        else:
            await _respond(writer, 200, b"hello from the site")


def _head(status: int, length: int | None, content_type: str | None, **extra: str) -> bytes:
    lines = [f"HTTP/1.1 {status} {'OK' if status == 200 else 'Found'}", "Connection: close"]
    if content_type is not None:
        lines.append(f"Content-Type: {content_type}")
    if length is not None:
        lines.append(f"Content-Length: {length}")
    lines += [f"{name}: {value}" for name, value in extra.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _respond(
    writer: asyncio.StreamWriter,
    status: int,
    body: bytes,
    content_type: str | None = "text/plain; charset=utf-8",
    *,
    extra: dict[str, str] | None = None,
) -> None:
    writer.write(_head(status, len(body), content_type, **(extra or {})) + body)
    await writer.drain()


@dataclass
class Canary:
    """Counts every connection made to it; answers nothing useful."""

    server: asyncio.Server | None = None
    connections: int = 0

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)

    async def close(self) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nCANARY")
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        writer.close()
