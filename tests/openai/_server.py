"""A tiny HTTP/1.1 server on 127.0.0.1 serving canned Chat Completions, for end-to-end tests.

It runs on the test's own event loop (``asyncio.start_server``), keeps connections alive so
pool reuse can be observed, and picks its answer from the request's ``model``:
``text``, ``tools`` (two parallel calls), ``disconnect`` (half a stream, then the socket is
closed), ``hang`` (one event, then silence), anything else: a text answer.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any


def _chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-e2e",
        "object": "chat.completion.chunk",
        "model": "e2e-model",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        "usage": None,
    }


_USAGE = {
    "prompt_tokens": 11,
    "completion_tokens": 3,
    "total_tokens": 14,
    "prompt_tokens_details": {"cached_tokens": 2},
    "completion_tokens_details": {"reasoning_tokens": 1},
}


def _events(model: str) -> list[dict[str, Any]]:
    if model == "tools":
        return [
            _chunk({"role": "assistant", "content": None}),
            _chunk(
                {
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "add", "arguments": '{"a": 1,'},
                        }
                    ]
                }
            ),
            _chunk(
                {
                    "tool_calls": [
                        {
                            "index": 1,
                            "id": "call_2",
                            "type": "function",
                            "function": {"name": "mul", "arguments": '{"a": 2}'},
                        }
                    ]
                }
            ),
            _chunk({"tool_calls": [{"index": 0, "function": {"arguments": ' "b": 2}'}}]}),
            _chunk({}, "tool_calls"),
        ]
    return [
        _chunk({"role": "assistant", "content": ""}),
        _chunk({"content": "Hello"}),
        _chunk({"content": " there"}),
        _chunk({}, "stop"),
    ]


def _completion(model: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": "Hello there"}
    finish = "stop"
    if model == "tools":
        message = {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "add", "arguments": '{"a": 1, "b": 2}'},
                }
            ],
        }
        finish = "tool_calls"
    return {
        "id": "chatcmpl-e2e",
        "object": "chat.completion",
        "model": "e2e-model",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": _USAGE,
    }


class CannedServer:
    """Start with ``await server.start()``; ``server.base_url`` is the ``/v1`` root."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.connections = 0
        self.open_connections = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.base_url = ""

    async def start(self) -> CannedServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}/v1"
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
            while await self._one(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.open_connections -= 1
            self._tasks.discard(task)
            writer.close()

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = {
            k.strip().lower(): v.strip()
            for k, v in (line.split(":", 1) for line in lines[1:] if ":" in line)
        }
        body = json.loads(await reader.readexactly(int(headers.get("content-length", "0"))))
        self.requests.append({"method": method, "path": path, "headers": headers, "body": body})
        model = body.get("model", "")
        if path != "/v1/chat/completions":
            await self._send(writer, 404, b'{"error": {"message": "no such route"}}')
            return True
        if not body.get("stream"):
            await self._send(writer, 200, json.dumps(_completion(model)).encode())
            return True
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            b"transfer-encoding: chunked\r\n\r\n"
        )
        events = [f"data: {json.dumps(e)}\n\n" for e in _events(model)]
        if model == "disconnect":
            await self._chunked(writer, events[0] + events[1] + 'data: {"id": "chatcm')
            writer.transport.abort()  # the connection dies mid-event
            return False
        if model == "hang":
            await self._chunked(writer, events[0] + events[1])
            await reader.read()  # silence until the client goes away
            return False
        for event in events:
            await self._chunked(writer, event)
        usage = {"id": "chatcmpl-e2e", "choices": [], "usage": _USAGE}
        await self._chunked(writer, f"data: {json.dumps(usage)}\n\n")
        await self._chunked(writer, "data: [DONE]\n\n")
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        return True

    @staticmethod
    async def _chunked(writer: asyncio.StreamWriter, text: str) -> None:
        data = text.encode()
        writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        await writer.drain()

    @staticmethod
    async def _send(writer: asyncio.StreamWriter, status: int, body: bytes) -> None:
        writer.write(
            f"HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\n\r\n".encode()
            + body
        )
        await writer.drain()
