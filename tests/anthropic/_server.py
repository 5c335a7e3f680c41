"""A tiny HTTP/1.1 server on 127.0.0.1 speaking just enough of the Messages API for e2e tests.

It runs on the test's own event loop (``asyncio.start_server``) and keeps connections alive,
so pool reuse can be observed. Only ``POST /v1/messages`` with the right ``x-api-key`` is
answered; the request's ``model`` picks the answer:

* ``tools``: a ``tool_use`` of ``add`` while the last user turn holds no ``tool_result``,
  then a text answer quoting the result;
* ``disconnect`` (streamed): two events, half of a third, then the socket is dropped;
* anything else: the text ``Hello there``, whole or as typed events.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

KEY = "e2e-anthropic-key-0001"
MODEL = "claude-e2e"
USAGE = {
    "input_tokens": 11,
    "cache_creation_input_tokens": 3,
    "cache_read_input_tokens": 20,
    "output_tokens": 1,
}


def _message(content: list[dict[str, Any]], stop: str | None, usage: dict[str, Any]) -> Any:
    return {
        "id": "msg_e2e",
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": usage,
    }


def _tool_result(body: dict[str, Any]) -> str | None:
    last = body["messages"][-1]
    for block in last["content"] if last["role"] == "user" else []:
        if block.get("type") == "tool_result":
            return str(block.get("content", ""))
    return None


def _answer(body: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    if body.get("model") == "tools":
        result = _tool_result(body)
        if result is None:
            call = {"type": "tool_use", "id": "toolu_e2e_1", "name": "add", "input": {"a": 2}}
            return [{"type": "text", "text": "Adding."}, call], "tool_use"
        return [{"type": "text", "text": f"The sum is {result}."}], "end_turn"
    return [{"type": "text", "text": "Hello there"}], "end_turn"


def _events(content: list[dict[str, Any]], stop: str) -> list[str]:
    def event(name: str, data: dict[str, Any]) -> str:
        return f"event: {name}\ndata: {json.dumps(data)}\n\n"

    frames = [
        event("message_start", {"type": "message_start", "message": _message([], None, USAGE)})
    ]
    frames.append(event("ping", {"type": "ping"}))
    for index, block in enumerate(content):
        if block["type"] == "text":
            start = {"type": "text", "text": ""}
            words = block["text"].split(" ")
            deltas = [
                {"type": "text_delta", "text": word if i == 0 else " " + word}
                for i, word in enumerate(words)
            ]
        else:
            start = {**block, "input": {}}
            arguments = json.dumps(block["input"])
            deltas = [
                {"type": "input_json_delta", "partial_json": arguments[:3]},
                {"type": "input_json_delta", "partial_json": arguments[3:]},
            ]
        frames.append(
            event(
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": start},
            )
        )
        frames += [
            event(
                "content_block_delta", {"type": "content_block_delta", "index": index, "delta": d}
            )
            for d in deltas
        ]
        frames.append(event("content_block_stop", {"type": "content_block_stop", "index": index}))
    final = {"output_tokens": 9, "cache_read_input_tokens": 20}
    frames.append(
        event(
            "message_delta",
            {"type": "message_delta", "delta": {"stop_reason": stop}, "usage": final},
        )
    )
    frames.append(event("message_stop", {"type": "message_stop"}))
    return frames


class MessagesServer:
    """Start with ``await server.start()``; ``server.base_url`` is the server root."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.base_url = ""

    async def start(self) -> MessagesServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"
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
        try:
            while await self._one(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
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
        if path != "/v1/messages":
            error = {"type": "not_found_error", "message": f"No route {path}"}
            await self._send(writer, 404, {"type": "error", "error": error})
            return True
        if headers.get("x-api-key") != KEY:
            error = {"type": "authentication_error", "message": "invalid x-api-key"}
            await self._send(writer, 401, {"type": "error", "error": error}, "req_e2e_401")
            return True
        content, stop = _answer(body)
        if not body.get("stream"):
            usage = {**USAGE, "output_tokens": 9}
            await self._send(writer, 200, _message(content, stop, usage))
            return True
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\n"
            b"request-id: req_e2e_stream\r\ntransfer-encoding: chunked\r\n\r\n"
        )
        frames = _events(content, stop)
        if body.get("model") == "disconnect":
            await self._chunked(writer, frames[0] + frames[2] + frames[3] + frames[4][:30])
            writer.transport.abort()  # the connection dies mid-event
            return False
        for frame in frames:
            # Each event split in two writes, so the client must join network chunks.
            await self._chunked(writer, frame[:9])
            await self._chunked(writer, frame[9:])
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        return True

    @staticmethod
    async def _chunked(writer: asyncio.StreamWriter, text: str) -> None:
        data = text.encode()
        writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        await writer.drain()

    @staticmethod
    async def _send(
        writer: asyncio.StreamWriter, status: int, payload: Any, request_id: str = "req_e2e"
    ) -> None:
        body = json.dumps(payload).encode()
        writer.write(
            f"HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n"
            f"request-id: {request_id}\r\ncontent-length: {len(body)}\r\n\r\n".encode()
            + body
        )
        await writer.drain()
