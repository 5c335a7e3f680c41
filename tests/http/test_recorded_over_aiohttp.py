"""Every recorded real exchange, served from 127.0.0.1 and read over the aiohttp transport.

The conformance suites (tests/<provider>/test_conformance.py) replay each record through
``httpx.MockTransport`` and check the parse against the record's ``expect``. Here the same
bytes cross a real socket, cut into small chunks so events and JSON are split at arbitrary
points, and are read by the provider's own client with ``AETHER_HTTP_TRANSPORT=aiohttp``:
the result (or the typed error) must be exactly what the MockTransport replay gives.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from aether.errors import ProviderError
from aether.http import TRANSPORT_ENV
from aether.llm.contracts import LLMProvider, LLMRequest, Message
from tests.support.conformance import RECORDED, record_files
from tests.support.loopback import (
    LoopbackServer,
    Request,
    end_chunks,
    send_chunk,
    start_chunked,
)

_CHUNK = 61  # bytes per write: a prime, so boundaries drift across events and UTF-8 runes


_PROVIDERS = {
    "openai": ("aether_openai", "OpenAIProvider"),
    "gemini": ("aether_gemini", "GeminiProvider"),
    "anthropic": ("aether_anthropic", "AnthropicProvider"),
}


def _factory(provider: str) -> Callable[..., LLMProvider] | None:
    """The provider class, or None while its distribution is not installed."""
    module_name, class_name = _PROVIDERS[provider]
    if importlib.util.find_spec(module_name) is None:
        return None
    cls: Callable[..., LLMProvider] = getattr(importlib.import_module(module_name), class_name)
    return cls


_BASES = {"openai": "/v1", "gemini": "/v1beta", "anthropic": ""}
RECORDS = [
    path for provider in _BASES if _factory(provider) is not None for path in record_files(provider)
]


def test_the_corpus_is_there() -> None:
    assert len(RECORDS) >= 50, f"expected the recorded traffic under {RECORDED}"


class RecordServer(LoopbackServer):
    """Answers every request with one recorded response, in chunks of :data:`_CHUNK` bytes."""

    def __init__(self) -> None:
        super().__init__(self._answer)
        self.response: dict[str, Any] = {}

    async def _answer(
        self, request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        response = self.response
        body = response["body_text"].encode("utf-8")
        dropped = {"content-length", "transfer-encoding", "content-encoding"}
        headers = {k: v for k, v in response["headers"].items() if k.lower() not in dropped}
        await start_chunked(writer, response["status"], headers)
        for start in range(0, len(body), _CHUNK):
            await send_chunk(writer, body[start : start + _CHUNK])
        await end_chunks(writer)
        return True


@pytest.fixture
async def server() -> AsyncIterator[RecordServer]:
    recorder = RecordServer()
    await recorder.start()
    yield recorder
    await recorder.stop()


def _load(path: Path) -> dict[str, Any]:
    record: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return record


def _request(record: dict[str, Any]) -> LLMRequest:
    model = (
        record["request"].get("json", {}).get("model")
        or (record["request"]["path"].split("/models/")[-1].split(":")[0])
    )
    return LLMRequest(messages=[Message(role="user", content="hi")], model=model)


async def _outcome(provider: LLMProvider, request: LLMRequest, stream: bool) -> Any:
    """What a caller sees: the dumped response or chunks, or the typed error's identity."""
    try:
        if stream:
            return [chunk.model_dump() async for chunk in provider.stream(request)]
        return (await provider.complete(request)).model_dump()
    except ProviderError as error:
        return {
            "error": type(error).__name__,
            "status": error.status_code,
            "retry_after": error.retry_after,
            "request_id": error.request_id,
            "message": str(error),
        }
    finally:
        close = getattr(provider, "aclose", None)
        if close is not None:
            await close()


def _strip_ids(value: Any) -> Any:
    """Gemini makes up ids for calls the API sent without one: compare everything else."""
    if isinstance(value, dict):
        return {
            k: "<made up>" if k == "id" and str(v).startswith("gemini-call-") else _strip_ids(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_strip_ids(v) for v in value]
    return value


@pytest.mark.parametrize("path", RECORDS, ids=lambda p: f"{p.parent.name}/{p.stem}")
async def test_record_reads_the_same_over_aiohttp(
    path: Path, server: RecordServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = _load(path)
    provider_name = record["provider"]
    make = _factory(provider_name)
    assert make is not None
    stream = bool(record["expect"].get("stream"))
    request = _request(record)

    response = record["response"]

    def handler(_: httpx.Request) -> httpx.Response:
        return httpx.Response(
            response["status"],
            headers=response["headers"],
            content=response["body_text"].encode("utf-8"),
        )

    key = "sk-replay-not-a-key"
    mocked = make(
        api_key=key,
        base_url=f"http://replay.test{_BASES[provider_name]}",
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
    )
    expected = await _outcome(mocked, request, stream)

    server.response = response
    monkeypatch.setenv(TRANSPORT_ENV, "aiohttp")
    over_aiohttp = make(api_key=key, base_url=f"{server.root}{_BASES[provider_name]}")
    assert "transport=aiohttp" in repr(over_aiohttp._http)  # type: ignore[attr-defined]
    got = await _outcome(over_aiohttp, request, stream)

    assert server.requests, "the provider never reached the server"
    assert _strip_ids(got) == _strip_ids(expected)
