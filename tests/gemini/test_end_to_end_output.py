"""A native structured answer over a real HTTP server on 127.0.0.1, whole and streamed.

The server reads the answer's schema from the body it received and answers with JSON text,
streamed in pieces that split keys and values, the way Gemini streams a constrained answer.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import BaseModel

from aether.llm.contracts import LLMRequest, Message, OutputSpec
from aether_gemini import GeminiProvider
from tests.support.loopback import (
    LoopbackServer,
    Request,
    end_chunks,
    send_chunk,
    send_json,
    start_chunked,
)

KEY = "e2e-key-0003"
ANSWER = '{"city": "Mexico City", "country": "Mexico", "population_millions": 9.2}'


class City(BaseModel):
    city: str
    country: str
    population_millions: float


def _event(*parts: dict[str, Any], finish: str | None = None) -> bytes:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": list(parts)}}
    if finish:
        candidate["finishReason"] = finish
    event = {"candidates": [candidate], "usageMetadata": {"promptTokenCount": 9}}
    return b"data: " + json.dumps(event).encode() + b"\r\n\r\n"


async def _respond(
    request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> bool:
    generation = request["body"]["generationConfig"]
    if generation.get("responseJsonSchema") != City.model_json_schema():
        await send_json(writer, 400, {"error": {"code": 400, "message": "no schema"}})
        return True
    if not request["path"].endswith("?alt=sse"):
        parts = [{"text": "Mexico, then.", "thought": True}, {"text": ANSWER}]
        candidate = {"content": {"role": "model", "parts": parts}, "finishReason": "STOP"}
        await send_json(writer, 200, {"candidates": [candidate]})
        return True
    await start_chunked(writer)
    await send_chunk(writer, _event({"text": "Mexico, then.", "thought": True}))
    for start in range(0, len(ANSWER), 7):
        await send_chunk(writer, _event({"text": ANSWER[start : start + 7]}))
    await send_chunk(writer, _event({"text": ""}, finish="STOP"))
    await end_chunks(writer)
    return True


@pytest.fixture
async def gemini() -> AsyncIterator[tuple[GeminiProvider, LoopbackServer]]:
    server = await LoopbackServer(_respond).start()
    provider = GeminiProvider(api_key=KEY, base_url=f"{server.root}/v1beta")
    async with provider:
        yield provider, server
    await server.stop()


def _ask() -> LLMRequest:
    output = OutputSpec(name="City", json_schema=City.model_json_schema())
    question = Message(role="user", content="The largest city of Mexico?")
    return LLMRequest(messages=[question], model="gemini-2.5-flash", output=output)


async def test_a_native_structured_answer_whole(
    gemini: tuple[GeminiProvider, LoopbackServer],
) -> None:
    provider, server = gemini
    answer = await provider.complete(_ask())
    assert City.model_validate_json(answer.text) == City(
        city="Mexico City", country="Mexico", population_millions=9.2
    )
    assert answer.reasoning_text == "Mexico, then."  # thinking stays out of the JSON
    (sent,) = server.requests
    assert sent["path"] == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert sent["body"]["generationConfig"]["responseMimeType"] == "application/json"


async def test_a_native_structured_answer_streamed(
    gemini: tuple[GeminiProvider, LoopbackServer],
) -> None:
    provider, server = gemini
    chunks = [chunk async for chunk in provider.stream(_ask())]
    deltas = [chunk.text for chunk in chunks if chunk.text]
    assert len(deltas) > 5  # it really came in pieces
    assert "".join(deltas) == ANSWER
    assert City.model_validate_json("".join(deltas)).country == "Mexico"
    assert "".join(chunk.reasoning_text for chunk in chunks) == "Mexico, then."
    assert chunks[-1].finish_reason == "stop"
    assert server.requests[0]["path"].endswith(":streamGenerateContent?alt=sse")
