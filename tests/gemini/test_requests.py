"""Every recorded Gemini request, said through Aether: the body sent equals the one recorded.

The expressions and the normalisation are in ``_recorded_requests``. Each request goes through
the provider's real HTTP path (``complete`` for ``generateContent``, ``stream`` for
``streamGenerateContent``, the JSON-array records included: their bodies are the same), and
the body that left is compared with the recorded one on every field that carries meaning.
Run with ``-s`` to see the coverage table by kind tag.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import httpx
import pytest

from aether.errors import ConfigurationError
from aether.llm.contracts import LLMRequest, Message
from aether.llm.parts import DocumentPart
from aether_gemini import GeminiProvider

from ._recorded_requests import (
    EXPRESSIONS,
    UNCOVERED,
    answer_schema_field,
    normalise,
    schema_fields,
    without,
)
from ._records import load, model_of, record_files

RECORDS = {path.stem: path for path in record_files()}
_ANSWER = {
    "candidates": [
        {"content": {"role": "model", "parts": [{"text": "ok"}]}, "finishReason": "STOP"}
    ]
}


async def _sent(record: dict[str, Any], request: LLMRequest) -> httpx.Request:
    """The HTTP request the provider sends for ``request``, the way the record was made."""
    seen: list[httpx.Request] = []

    def answer(sent: httpx.Request) -> httpx.Response:
        seen.append(sent)
        if sent.url.params.get("alt") == "sse":
            event = b"data: " + json.dumps(_ANSWER).encode() + b"\r\n\r\n"
            return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=event)
        return httpx.Response(200, json=_ANSWER)

    client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    async with GeminiProvider(api_key="k", http_client=client) as gemini:
        if ":streamGenerateContent" in record["request"]["path"]:
            _ = [chunk async for chunk in gemini.stream(request)]
        else:
            await gemini.complete(request)
    (sent,) = seen
    return sent


def test_every_record_is_expressed_or_says_why_not() -> None:
    assert set(EXPRESSIONS) | set(UNCOVERED) == set(RECORDS)
    assert not set(EXPRESSIONS) & set(UNCOVERED)


@pytest.mark.parametrize("name", sorted(EXPRESSIONS))
async def test_the_body_sent_is_the_body_recorded(name: str) -> None:
    record = load(RECORDS[name])
    recorded = record["request"]["json"]
    expression = EXPRESSIONS[name]
    request = expression.build(recorded)
    assert request.model == model_of(record)
    sent = await _sent(record, request)
    assert sent.url.path == record["request"]["path"].split("?")[0]
    body = json.loads(sent.content)
    assert normalise(body) == without(normalise(recorded), expression.recorded_only)
    # Which field carries a tool's schema is Aether's rule per model, asserted here.
    if request.tools:
        legacy = request.model is not None and request.model.startswith(
            ("gemini-1.5", "gemini-2.0")
        )
        assert schema_fields(body) == {"parameters" if legacy else "parametersJsonSchema"}
    # So is the answer's: whole JSON Schema from Gemini 2.0 on, as these records were sent.
    if request.output is not None:
        assert body["generationConfig"]["responseMimeType"] == "application/json"
        assert answer_schema_field(body) == "responseJsonSchema"


async def test_a_video_is_refused_clearly_not_sent_as_a_document() -> None:
    record = load(RECORDS["013"])
    video = DocumentPart(url="https://youtu.be/lCdaVNyHtjU", media_type="video/mp4")
    request = LLMRequest(messages=[Message(role="user", content=[video])], model=model_of(record))
    with pytest.raises(
        ConfigurationError,
        match=r"DocumentPart\(media_type='video/mp4'\), but that part holds application/\*",
    ):
        await _sent(record, request)


def test_coverage_by_kind(capsys: pytest.CaptureFixture[str]) -> None:
    total: Counter[str] = Counter()
    covered: Counter[str] = Counter()
    for name, path in RECORDS.items():
        for kind in load(path)["kind"]:
            total[kind] += 1
            covered[kind] += name in EXPRESSIONS
    width = max(map(len, total))
    lines = [
        f"{'kind'.ljust(width)}  covered",
        *(f"{kind.ljust(width)}  {covered[kind]}/{total[kind]}" for kind in sorted(total)),
    ]
    lines.append(f"records said through Aether: {len(EXPRESSIONS)}/{len(RECORDS)}")
    lines += [f"not expressible: {name}: {why}" for name, why in sorted(UNCOVERED.items())]
    lines += [f"{name}: {e.note}" for name, e in sorted(EXPRESSIONS.items()) if e.note]
    with capsys.disabled():
        print("\nGemini recorded requests said through Aether\n" + "\n".join(lines))
    # Every kind of traffic recorded is said through Aether at least once.
    assert [kind for kind in total if not covered[kind]] == []
