"""What a rich call puts on the wire, read by a real HTTP server on 127.0.0.1.

Media (video with its part's ``provider_options`` too), reasoning, ``provider_options`` and
headers, the defaults of a bare call, and a tool whose schema uses ``$ref``: each sent through
the ``Aether`` client and the provider's own HTTP client (httpx, or aiohttp with
``--http-transport=aiohttp``), then read back as the server received it.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from aether import Aether
from aether.llm.parts import DocumentPart, ImagePart, VideoPart
from aether.tools import make_tool
from aether_gemini import GeminiProvider
from tests.support.loopback import (
    LoopbackServer,
    Request,
    end_chunks,
    send_chunk,
    send_json,
    start_chunked,
)

KEY = "e2e-key-0002"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF\n"
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(range(48))


def _answer(*parts: dict[str, Any]) -> dict[str, Any]:
    return {
        "candidates": [
            {"content": {"role": "model", "parts": list(parts)}, "finishReason": "STOP"}
        ],
        "usageMetadata": {"promptTokenCount": 4, "candidatesTokenCount": 2},
    }


class FakeGemini(LoopbackServer):
    """Answers each request with the next of ``answers`` (as events for ``alt=sse``)."""

    def __init__(self) -> None:
        super().__init__(self._respond)
        self.answers: list[dict[str, Any]] = []

    async def _respond(
        self, request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        answer = self.answers.pop(0) if self.answers else _answer({"text": "done"})
        if not request["path"].endswith("?alt=sse"):
            await send_json(writer, 200, answer)
            return True
        await start_chunked(writer)
        for part in answer["candidates"][0]["content"]["parts"]:
            event = _answer(part)
            del event["candidates"][0]["finishReason"]
            await send_chunk(writer, b"data: " + json.dumps(event).encode() + b"\r\n\r\n")
        await send_chunk(writer, b"data: " + json.dumps(_answer()).encode() + b"\r\n\r\n")
        await end_chunks(writer)
        return True

    def client(self, **settings: Any) -> Aether:
        return Aether(GeminiProvider(api_key=KEY, base_url=f"{self.root}/v1beta", **settings))


@pytest.fixture
async def server(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeGemini]:
    for name in ("AETHER_DEFAULT_TEMPERATURE", "GEMINI_MODEL", "GEMINI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    fake = await FakeGemini().start()
    yield fake
    await fake.stop()


async def test_every_default_in_place(server: FakeGemini) -> None:
    async with server.client() as client:
        assert await client.ask("hi") == "done"
    (sent,) = server.requests
    assert sent["path"] == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert sent["headers"]["x-goog-api-key"] == KEY
    assert sent["headers"]["content-type"].startswith("application/json")
    # The configured default temperature (0.7), and nothing else Aether was not asked for.
    assert sent["body"] == {
        "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
        "generationConfig": {"temperature": 0.7},
    }


async def test_an_image_and_a_pdf_travel_inline_and_a_url_by_reference(
    server: FakeGemini, tmp_path: Path
) -> None:
    picture = tmp_path / "chart.png"
    picture.write_bytes(PNG)
    prompt = [
        "Compare the chart with the report.",
        ImagePart.from_path(picture),
        DocumentPart(data=PDF, media_type="application/pdf", filename="report.pdf"),
        ImagePart(url="https://example.com/photos/cat.jpg"),
    ]
    async with server.client() as client:
        await client.ask(prompt, model="gemini-3-flash-preview")
    (sent,) = server.requests
    text, image, document, linked = sent["body"]["contents"][0]["parts"]
    assert text == {"text": "Compare the chart with the report."}
    assert image["inlineData"]["mimeType"] == "image/png"
    assert base64.b64decode(image["inlineData"]["data"]) == PNG
    assert document["inlineData"]["mimeType"] == "application/pdf"
    assert base64.b64decode(document["inlineData"]["data"]) == PDF
    assert linked == {
        "fileData": {"mimeType": "image/jpeg", "fileUri": "https://example.com/photos/cat.jpg"}
    }
    # Gemini 3 keeps its own temperature: the configured default is not sent to it.
    assert "generationConfig" not in sent["body"]


async def test_a_video_file_travels_inline_and_a_clip_of_a_link_with_its_metadata(
    server: FakeGemini, tmp_path: Path
) -> None:
    clip = tmp_path / "launch"
    clip.write_bytes(MP4)
    window = {"videoMetadata": {"startOffset": "5s", "endOffset": "20s", "fps": 2}}
    prompt: list[str | VideoPart] = [
        "What differs between the two launches?",
        VideoPart.from_path(clip),
        VideoPart(
            url="https://youtu.be/lCdaVNyHtjU", media_type="video/mp4", provider_options=window
        ),
    ]
    async with server.client() as client:
        assert await client.ask(prompt, model="gemini-2.5-flash") == "done"
    (sent,) = server.requests
    _, inline, linked = sent["body"]["contents"][0]["parts"]
    assert inline["inlineData"]["mimeType"] == "video/mp4"
    assert base64.b64decode(inline["inlineData"]["data"]) == MP4
    assert linked == {
        "fileData": {"mimeType": "video/mp4", "fileUri": "https://youtu.be/lCdaVNyHtjU"},
        "videoMetadata": {"startOffset": "5s", "endOffset": "20s", "fps": 2},
    }


async def test_reasoning_settings_reach_the_body_and_thoughts_come_back(
    server: FakeGemini,
) -> None:
    server.answers = [
        _answer({"text": "Weighing it up.", "thought": True}, {"text": "Yes."}),
        _answer({"text": "Sure."}),
    ]
    level = {"reasoning": {"effort": "low", "include_thoughts": True}}
    budget = {"reasoning": {"budget_tokens": 2048}, "temperature": 0.2}
    async with server.client() as client:
        chunks = [
            c async for c in client.stream("Is it?", model="gemini-3-flash-preview", settings=level)
        ]
        answer = await client.complete("And?", model="gemini-2.5-pro", settings=budget)
    assert "".join(c.reasoning_text for c in chunks) == "Weighing it up."
    assert "".join(c.text for c in chunks) == "Yes."
    assert answer.text == "Sure."
    first, second = (r["body"]["generationConfig"] for r in server.requests)
    assert first == {"thinkingConfig": {"thinkingLevel": "LOW", "includeThoughts": True}}
    assert second == {"temperature": 0.2, "thinkingConfig": {"thinkingBudget": 2048}}


async def test_provider_options_merge_into_the_body_and_headers_travel(
    server: FakeGemini,
) -> None:
    safety = [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}]
    settings: Any = {
        "temperature": 0.3,
        "seed": 7,
        "provider_options": {
            "safetySettings": safety,
            "generationConfig": {"responseModalities": ["TEXT"], "topK": 5},
        },
        "extra_headers": {"x-request-tag": "e2e", "x-goog-api-key": "not-this-one"},
    }
    async with server.client() as client:
        await client.ask("hi", settings=settings)
    (sent,) = server.requests
    assert sent["body"]["safetySettings"] == safety
    assert sent["body"]["generationConfig"] == {
        "temperature": 0.3,
        "seed": 7,
        "responseModalities": ["TEXT"],
        "topK": 5,
    }
    assert sent["headers"]["x-request-tag"] == "e2e"
    assert sent["headers"]["x-goog-api-key"] == KEY  # a call cannot replace the key


class Point(BaseModel):
    x: int
    y: int


class Stroke(BaseModel):
    points: list[Point]


async def test_a_tool_with_refs_reaches_the_body_whole_and_runs(server: FakeGemini) -> None:
    drawn: list[Stroke] = []

    def draw(stroke: Stroke, label: str | None = None) -> str:
        """Draw a stroke."""
        drawn.append(stroke)
        return "drawn"

    tool = make_tool(draw)
    assert "$ref" in json.dumps(tool.spec.parameters)  # pydantic nests models by reference
    call = {"name": "draw", "args": {"stroke": {"points": [{"x": 1, "y": 2}]}}}
    server.answers = [_answer({"functionCall": call}), _answer({"text": "Done drawing."})]
    async with server.client() as client:
        assert await client.ask("Draw", tools=[tool]) == "Done drawing."
    assert drawn == [Stroke(points=[Point(x=1, y=2)])]
    first, second = (r["body"] for r in server.requests)
    (declaration,) = first["tools"][0]["functionDeclarations"]
    assert declaration == {
        "name": "draw",
        "description": "Draw a stroke.",
        "parametersJsonSchema": tool.spec.parameters,  # $defs, $ref, anyOf, additionalProperties
    }
    assert second["contents"][-1]["parts"] == [
        {"functionResponse": {"name": "draw", "response": {"result": "drawn"}}}
    ]
