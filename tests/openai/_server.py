"""Canned Chat Completions on a loopback server (tests.support.loopback), for end-to-end tests.

It picks its answer from the request's ``model``:
``text``, ``tools`` (two parallel calls), ``weather`` (a ``get_weather`` call for Paris, then,
once the conversation holds its result, that result as the answer), ``structured`` (the JSON
of :data:`CITY`, as a model answering in a response schema gives it), ``refuse`` (a refusal,
:data:`REFUSAL`, instead of an answer), ``disconnect`` (half a stream, then the socket is
closed), ``hang`` (one event, then silence), anything else: a text answer.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tests.support.loopback import (
    LoopbackServer,
    Request,
    end_chunks,
    send_chunk,
    send_json,
    start_chunked,
)

CITY = {"city": "Mexico City", "country": "Mexico", "population": None}
REFUSAL = "I'm sorry, I can't help with that."


def _pieces(text: str, size: int = 9) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


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
    if model == "structured":
        pieces = _pieces(json.dumps(CITY))
        return [_chunk({"content": piece}) for piece in pieces] + [_chunk({}, "stop")]
    if model == "refuse":
        pieces = _pieces(REFUSAL)
        return [_chunk({"refusal": piece}) for piece in pieces] + [_chunk({}, "stop")]
    return [
        _chunk({"role": "assistant", "content": ""}),
        _chunk({"content": "Hello"}),
        _chunk({"content": " there"}),
        _chunk({}, "stop"),
    ]


def _completion(model: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": "Hello there"}
    finish = "stop"
    if model == "weather" and messages[-1]["role"] == "tool":
        message = {"role": "assistant", "content": f"Answer: {messages[-1]['content']}"}
    elif model == "weather":
        message = {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_w",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                }
            ],
        }
        finish = "tool_calls"
    elif model == "structured":
        message = {"role": "assistant", "content": json.dumps(CITY), "refusal": None}
    elif model == "refuse":
        message = {"role": "assistant", "content": None, "refusal": REFUSAL}
    elif model == "tools":
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


class CannedServer(LoopbackServer):
    """Start with ``await server.start()``; ``server.base_url`` is the ``/v1`` root."""

    def __init__(self) -> None:
        super().__init__(self._answer)

    @property
    def base_url(self) -> str:
        return f"{self.root}/v1"

    async def _answer(
        self, request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        body = request["body"]
        model = body.get("model", "")
        if request["path"] != "/v1/chat/completions":
            await send_json(writer, 404, {"error": {"message": "no such route"}})
            return True
        if not body.get("stream"):
            await send_json(writer, 200, _completion(model, body["messages"]))
            return True
        await start_chunked(writer)
        events = [f"data: {json.dumps(e)}\n\n" for e in _events(model)]
        if model == "disconnect":
            await send_chunk(writer, events[0] + events[1] + 'data: {"id": "chatcm')
            writer.transport.abort()  # the connection dies mid-event
            return False
        if model == "hang":
            await send_chunk(writer, events[0] + events[1])
            await reader.read()  # silence until the client goes away
            return False
        for event in events:
            await send_chunk(writer, event)
        usage = {"id": "chatcmpl-e2e", "choices": [], "usage": _USAGE}
        await send_chunk(writer, f"data: {json.dumps(usage)}\n\n")
        await send_chunk(writer, "data: [DONE]\n\n")
        await end_chunks(writer)
        return True
