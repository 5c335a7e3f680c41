"""Replay every recorded real OpenAI exchange through the provider (httpx.MockTransport).

The corpus lives beside the repository (``../shared/conformance``) or at
``$AETHER_CONFORMANCE_DIR``. Part of it is held back for evaluation, so these assertions
compare against each record's ``expect`` generically, never against known values.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from aether.errors import (
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    ServerError,
)
from aether.http import RAW_ARGUMENTS_KEY
from aether.llm.contracts import LLMStreamChunk, ToolCall
from aether_openai import OpenAIProvider
from aether_openai._mapping import build_payload, finish_reason_from_wire
from tests.openai._wire import request_from_record, request_problems

CORPUS = Path(
    os.environ.get("AETHER_CONFORMANCE_DIR")
    or Path(__file__).resolve().parents[2].parent / "shared" / "conformance"
)
RECORDS = sorted((CORPUS / "openai").glob("*.json"))


def test_corpus_is_present() -> None:
    assert RECORDS, (
        f"No OpenAI conformance records under {CORPUS / 'openai'}: check out the shared "
        f"corpus beside the repository or set AETHER_CONFORMANCE_DIR."
    )


def _load(path: Path) -> dict[str, Any]:
    record: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    assert record["provider"] == "openai"
    return record


def _provider(record: dict[str, Any], seen: list[httpx.Request]) -> OpenAIProvider:
    response = record["response"]
    path = record["request"]["path"].split("?")[0]

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        assert request.method == record["request"]["method"]
        assert request.url.path == path
        return httpx.Response(
            response["status"],
            headers=response["headers"],
            content=response["body_text"].encode("utf-8"),
        )

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return OpenAIProvider(
        api_key="sk-test-conformance",
        base_url="https://api.openai.com/v1",
        http_client=client,
    )


def _expected_calls(expect: dict[str, Any]) -> list[ToolCall]:
    calls = []
    for i, call in enumerate(expect.get("tool_calls") or ()):
        arguments = call["arguments"]
        if arguments is None:
            arguments = {RAW_ARGUMENTS_KEY: call["arguments_raw"]}
        calls.append(ToolCall(id=call["id"] or f"call_{i}", name=call["name"], arguments=arguments))
    return calls


def _check_usage(got: Any, usage: dict[str, Any] | None) -> None:
    usage = usage or {}
    assert got.input_tokens == (usage.get("input_tokens") or 0)
    assert got.output_tokens == (usage.get("output_tokens") or 0)
    assert got.cached_input_tokens == (usage.get("cached_tokens") or 0)
    assert got.reasoning_tokens == (usage.get("reasoning_tokens") or 0)


_ERROR_CLASSES: dict[int, type[ProviderError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: AuthenticationError,
    404: NotFoundError,
    408: ProviderTimeoutError,
    409: BadRequestError,
    413: BadRequestError,
    422: BadRequestError,
    429: RateLimitError,
}


@pytest.mark.parametrize("path", RECORDS, ids=[p.stem for p in RECORDS])
async def test_record(path: Path) -> None:
    record = _load(path)
    expect = record["expect"]
    request = request_from_record(record["request"]["json"])
    stream = bool(record["request"]["json"].get("stream"))
    # The body Aether builds for the same inputs is one the API's own types accept.
    body = build_payload(request, model=request.model or "gpt-4o-mini", stream=stream)
    assert request_problems(body) == []

    seen: list[httpx.Request] = []
    async with _provider(record, seen) as provider:
        if "error" in expect:
            await _check_error(provider, request, stream, record)
        elif stream:
            await _check_stream(provider, request, expect)
        else:
            response = await provider.complete(request)
            assert response.text == (expect["text"] or "")
            assert response.tool_calls == _expected_calls(expect)
            assert response.finish_reason == finish_reason_from_wire(
                expect["finish_reason"], has_tool_calls=bool(expect["tool_calls"])
            )
            assert response.model == expect["model"]
            assert response.response_id == expect["response_id"]
            _check_usage(response, expect["usage"])
    assert len(seen) == 1
    sent = json.loads(seen[0].content)
    assert request_problems(sent) == []
    assert seen[0].headers["authorization"] == "Bearer sk-test-conformance"


async def _check_stream(provider: OpenAIProvider, request: Any, expect: dict[str, Any]) -> None:
    chunks: list[LLMStreamChunk] = [c async for c in provider.stream(request)]
    assert chunks, "a stream yields at least one chunk"
    last = chunks[-1]
    assert all(c.finish_reason is None for c in chunks[:-1])
    assert all(not c.tool_calls for c in chunks[:-1]), "tool calls only arrive whole, at the end"
    assert "".join(c.text for c in chunks) == (expect["text"] or "")
    assert last.tool_calls == _expected_calls(expect)
    assert last.finish_reason == finish_reason_from_wire(
        expect["finish_reason"], has_tool_calls=bool(expect["tool_calls"])
    )
    assert last.model == expect["model"]
    assert last.response_id == expect["response_id"]
    _check_usage(last, expect["usage"])


async def _check_error(
    provider: OpenAIProvider, request: Any, stream: bool, record: dict[str, Any]
) -> None:
    status = record["response"]["status"]
    expected_cls = _ERROR_CLASSES.get(status, ServerError if status >= 500 else ProviderError)

    async def call() -> None:
        if stream:
            _ = [c async for c in provider.stream(request)]
        else:
            await provider.complete(request)

    with pytest.raises(ProviderError) as info:
        await call()
    error = info.value
    assert isinstance(error, expected_cls), (type(error), status)
    assert error.status_code == status
    assert error.provider == "openai"
    message = record["expect"]["error"].get("message")
    if message:
        assert message in str(error)
    headers = {k.lower(): v for k, v in record["response"]["headers"].items()}
    if "retry-after" in headers or "retry-after-ms" in headers:
        assert error.retry_after is not None
    assert "sk-test-conformance" not in str(error)
