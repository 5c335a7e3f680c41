"""A small, fast HTTP/1.1 server on 127.0.0.1 with canned OpenAI, Gemini and Anthropic answers.

    python bench/server.py [--port 0] [--tls-cert server.pem] [--connection-log conns.log]
                           [--delay-ms 0]

Prints ``PORT <n>`` once listening (and ``TLS_PORT <n>`` for the HTTPS listener that
``--tls-cert``, a PEM file holding the key and the certificate chain, adds), then serves until
killed. ``--connection-log`` gets one line per accepted connection, so a benchmark can count
the connections its client opened. ``--delay-ms`` holds every answer back that long, as a
real API's latency would (a client then needs as many connections as calls in flight).

It exists to measure HTTP *clients*, so it does as little as possible per request: a raw
``asyncio.Protocol`` (no stream wrappers), keep-alive, answers pre-encoded once per shape with
only a fixed-width id substituted, so every reply carries a unique id the client checks.

Routes (any prefix may come first; ``/n<N>/`` anywhere in the path asks for N stream chunks,
default 500):

- ``POST .../chat/completions``: OpenAI Chat Completions; an event stream when the body has
  ``"stream":true``, else one JSON completion.
- ``POST .../models/<model>:generateContent`` / ``:streamGenerateContent``: Gemini (CRLF events,
  as Gemini sends them).
- ``POST .../messages``: Anthropic Messages, typed events when the body has ``"stream":true``.

Streams use chunked transfer encoding with one HTTP chunk per event, as the real APIs flush
them, and are written in one go: the client's parsing is measured, not network pacing.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import re
import ssl
import sys
from typing import IO

from _canned import ANSWERS, DEFAULT_CHUNKS, ID_SLOT, JSON_TYPE, SSE_TYPE, STREAMS

_ids = itertools.count(1)
_CHUNKS_IN_PATH = re.compile(rb"/n(\d+)/")
_connection_log: IO[str] | None = None
_delay = 0.0


def _plain(body: bytes) -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\ncontent-type: %s\r\ncontent-length: %d\r\n"
        b"x-request-id: req_bench\r\n\r\n%s" % (JSON_TYPE.encode(), len(body), body)
    )


def _chunked(events: list[bytes]) -> bytes:
    head = (
        b"HTTP/1.1 200 OK\r\ncontent-type: %s\r\ntransfer-encoding: chunked\r\n"
        b"cache-control: no-cache\r\nx-request-id: req_bench\r\n\r\n" % SSE_TYPE.encode()
    )
    frames = [b"%x\r\n%s\r\n" % (len(event), event) for event in events]
    return head + b"".join(frames) + b"0\r\n\r\n"


_NOT_FOUND_BODY = b'{"error":{"message":"unknown bench route","type":"not_found"}}'
_NOT_FOUND = (
    b"HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s"
    % (len(_NOT_FOUND_BODY), _NOT_FOUND_BODY)
)
_cache: dict[tuple[str, bool, int], tuple[bytes, bytes]] = {}


def _streaming(body: bytes) -> bool:
    return b'"stream":true' in body or b'"stream": true' in body


def _route(target: bytes, body: bytes) -> tuple[str, bool] | None:
    """(wire format, streamed?) of a request, or None for an unknown path."""
    if target.endswith(b"/chat/completions"):
        return "openai", _streaming(body)
    if target.endswith(b":streamGenerateContent"):
        return "gemini", True
    if target.endswith(b":generateContent"):
        return "gemini", False
    if target.endswith(b"/messages"):
        return "anthropic", _streaming(body)
    return None


def answer(path: bytes, body: bytes) -> bytes:
    """The bytes to send for one request (a unique id substituted)."""
    target = path.split(b"?", 1)[0]
    route = _route(target, body)
    if route is None:
        return _NOT_FOUND
    fmt, streamed = route
    found = _CHUNKS_IN_PATH.search(target)
    chunks = int(found.group(1)) if found else DEFAULT_CHUNKS
    key = (fmt, streamed, chunks if streamed else 0)
    parts = _cache.get(key)
    if parts is None:
        built = _chunked(STREAMS[fmt](chunks)) if streamed else _plain(ANSWERS[fmt]())
        # Split around the first slot: a JSON answer then costs one join, no search.
        if built.count(ID_SLOT) == 1:
            head, _, tail = built.partition(ID_SLOT)
            parts = _cache[key] = (head, tail)
        else:
            parts = _cache[key] = (built, b"")
    uid = b"%010d" % next(_ids)
    head, tail = parts
    if tail:
        return head + uid + tail
    return head.replace(ID_SLOT, uid)


class _Connection(asyncio.Protocol):
    """One keep-alive connection: parse request heads, wait for the body, answer in order."""

    __slots__ = ("_buf", "_transport")

    def __init__(self) -> None:
        self._buf = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        if _connection_log is not None:
            _connection_log.write("c\n")

    def data_received(self, data: bytes) -> None:
        buf = self._buf + data if self._buf else data
        transport = self._transport
        assert transport is not None
        while True:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                break
            head = buf[:end]
            lower = head.lower()
            length = 0
            at = lower.find(b"\r\ncontent-length:")
            if at >= 0:
                stop = lower.find(b"\r\n", at + 2)
                length = int(lower[at + 17 : stop if stop >= 0 else len(lower)])
            elif b"chunked" in lower:
                transport.write(b"HTTP/1.1 411 Length Required\r\ncontent-length: 0\r\n\r\n")
                transport.close()
                return
            total = end + 4 + length
            if len(buf) < total:
                break
            path = head[head.find(b" ") + 1 : head.find(b" HTTP/")]
            if _delay:
                asyncio.get_running_loop().call_later(
                    _delay, _write, transport, answer(path, buf[end + 4 : total])
                )
            else:
                transport.write(answer(path, buf[end + 4 : total]))
            buf = buf[total:]
        self._buf = buf


def _write(transport: asyncio.Transport, data: bytes) -> None:
    if not transport.is_closing():
        transport.write(data)


async def serve(port: int, tls_cert: str | None) -> None:
    loop = asyncio.get_running_loop()
    servers = [await loop.create_server(_Connection, "127.0.0.1", port, backlog=2048)]
    print(f"PORT {servers[0].sockets[0].getsockname()[1]}", flush=True)
    if tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(tls_cert)
        secure = await loop.create_server(_Connection, "127.0.0.1", 0, backlog=2048, ssl=context)
        servers.append(secure)
        print(f"TLS_PORT {secure.sockets[0].getsockname()[1]}", flush=True)
    await asyncio.gather(*(server.serve_forever() for server in servers))


def main() -> None:
    global _connection_log, _delay
    parser = argparse.ArgumentParser(description="Canned LLM API answers on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--tls-cert", help="PEM with key and chain: adds an HTTPS listener")
    parser.add_argument("--connection-log", help="file that gets a line per connection")
    parser.add_argument("--delay-ms", type=float, default=0.0, help="latency of every answer")
    args = parser.parse_args()
    _delay = args.delay_ms / 1000
    if args.connection_log:
        _connection_log = open(args.connection_log, "a", buffering=1)  # noqa: SIM115
    try:
        asyncio.run(serve(args.port, args.tls_cert))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
