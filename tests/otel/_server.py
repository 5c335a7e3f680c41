"""An OpenAI-compatible server on 127.0.0.1 whose answer is chosen by the request's model.

``text``: an answer with usage (whole or streamed, usage on the last event). ``weather``: a
``get_weather`` call for Paris, then, once the conversation holds its result, that result as
the answer. ``flaky``: 429 on the first request of each conversation, then ``text``.
``broken``: 500 every time. ``busy``: 503 every time. ``hang``: a stream's first words, then
silence. ``echo``: 400 whose error message repeats the request's authorization header (a
server gone wrong).
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

USAGE = {
    "prompt_tokens": 11,
    "completion_tokens": 3,
    "total_tokens": 14,
    "prompt_tokens_details": {"cached_tokens": 2},
    "completion_tokens_details": {"reasoning_tokens": 1},
}
ANSWER_MODEL = "served-model-2025"
RESPONSE_ID = "chatcmpl-otel"


def _message(model: str, messages: list[dict[str, Any]]) -> tuple[dict[str, Any], str]:
    if model == "weather" and messages[-1]["role"] != "tool":
        call = {
            "id": "call_w",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
        }
        return {"role": "assistant", "content": None, "tool_calls": [call]}, "tool_calls"
    if model == "weather":
        return {"role": "assistant", "content": f"Answer: {messages[-1]['content']}"}, "stop"
    return {"role": "assistant", "content": "Hello there"}, "stop"


def _chunk(delta: dict[str, Any], finish: str | None = None, usage: Any = None) -> str:
    event = {
        "id": RESPONSE_ID,
        "object": "chat.completion.chunk",
        "model": ANSWER_MODEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        "usage": usage,
    }
    return f"data: {json.dumps(event)}\n\n"


class OpenAIServer(LoopbackServer):
    """Start with ``await server.start()``; ``server.base_url`` is the ``/v1`` root."""

    def __init__(self) -> None:
        super().__init__(self._answer)
        self.flaked: set[str] = set()

    @property
    def base_url(self) -> str:
        return f"{self.root}/v1"

    async def _answer(
        self, request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        body = request["body"]
        model = body.get("model", "")
        if model == "echo":
            said = request["headers"].get("authorization", "")
            await send_json(writer, 400, {"error": {"message": f"bad request from {said}"}})
            return True
        if model == "broken":
            await send_json(writer, 500, {"error": {"message": "the server fell over"}})
            return True
        if model == "busy":
            await send_json(writer, 503, {"error": {"message": "over capacity"}})
            return True
        first_turn = json.dumps(body["messages"][0])
        if model == "flaky" and first_turn not in self.flaked:
            self.flaked.add(first_turn)
            await send_json(writer, 429, {"error": {"message": "slow down"}})
            return True
        message, finish = _message(model, body["messages"])
        if not body.get("stream"):
            await send_json(
                writer,
                200,
                {
                    "id": RESPONSE_ID,
                    "object": "chat.completion",
                    "model": ANSWER_MODEL,
                    "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                    "usage": USAGE,
                },
            )
            return True
        await start_chunked(writer)
        await send_chunk(writer, _chunk({"role": "assistant", "content": ""}))
        if model == "hang":
            await send_chunk(writer, _chunk({"content": "Hel"}))
            await reader.read()  # silence until the client goes away
            return False
        if message.get("tool_calls"):
            call = dict(message["tool_calls"][0], index=0)
            await send_chunk(writer, _chunk({"tool_calls": [call]}))
        else:
            text = message["content"]
            for piece in (text[:5], text[5:]):
                await send_chunk(writer, _chunk({"content": piece}))
        await send_chunk(writer, _chunk({}, finish) + _chunk({}, None, USAGE))
        await send_chunk(writer, "data: [DONE]\n\n")
        await end_chunks(writer)
        return True
