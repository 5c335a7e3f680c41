"""Replay every recorded real OpenAI exchange through the provider (httpx.MockTransport).

The records live in ``tests/recorded/openai``. The assertions compare against each record's
``expect`` generically, never against known values, so a new record is checked the same way.
"""

from __future__ import annotations

import json
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
    StreamInterruptedError,
)
from aether.http import RAW_ARGUMENTS_KEY, parse_tool_arguments
from aether.llm.contracts import LLMStreamChunk, ToolCall
from aether_openai import OpenAIProvider
from aether_openai._mapping import finish_reason_from_wire
from aether_openai._request import build_payload
from tests.openai._wire import request_from_record, request_problems
from tests.support.conformance import record_files

RECORDS = record_files("openai")


def test_corpus_is_present() -> None:
    assert len(RECORDS) >= 20, f"expected the recorded OpenAI traffic, found {len(RECORDS)}"


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
            # expect.text is message.content (null: no content); a refusal is carried apart.
            assert response.text == _expected_text(expect)
            assert response.refusal == _expected_refusal(expect)
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


def _expected_text(expect: dict[str, Any]) -> str:
    text = expect.get("text")
    return text if isinstance(text, str) else ""  # null content: no text


def _expected_refusal(expect: dict[str, Any]) -> str | None:
    return expect.get("refusal") or None  # the corpus has the key only when there is one


def _joined_refusal(chunks: list[LLMStreamChunk]) -> str | None:
    return "".join(c.refusal or "" for c in chunks) or None


async def _check_stream(provider: OpenAIProvider, request: Any, expect: dict[str, Any]) -> None:
    chunks: list[LLMStreamChunk] = []
    failure: ProviderError | None = None
    try:
        async for chunk in provider.stream(request):
            chunks.append(chunk)
    except ProviderError as exc:
        failure = exc
    if "stream_error" in expect or expect.get("saw_done") is False:
        await _check_broken_stream(chunks, failure, expect)
        return
    assert failure is None, failure
    assert chunks, "a stream yields at least one chunk"
    last = chunks[-1]
    assert all(c.finish_reason is None for c in chunks[:-1])
    assert all(not c.tool_calls for c in chunks[:-1]), "tool calls only arrive whole, at the end"
    assert "".join(c.text for c in chunks) == _expected_text(expect)
    assert _joined_refusal(chunks) == _expected_refusal(expect)
    assert last.tool_calls == _expected_calls(expect)
    assert last.finish_reason == finish_reason_from_wire(
        expect["finish_reason"], has_tool_calls=bool(expect["tool_calls"])
    )
    assert last.model == expect["model"]
    assert last.response_id == expect["response_id"]
    _check_usage(last, expect["usage"])


async def _check_broken_stream(
    chunks: list[LLMStreamChunk], failure: ProviderError | None, expect: dict[str, Any]
) -> None:
    """An in-band error or a missing ``[DONE]`` is raised as a typed error, never a quiet end."""
    assert failure is not None, "a broken stream must raise, not end as if complete"
    assert failure.provider == "openai"
    assert "sk-test-conformance" not in str(failure)
    # What was delivered before the failure is the text the server had sent.
    assert "".join(c.text for c in chunks) == _expected_text(expect)
    assert all(c.finish_reason is None for c in chunks), "no chunk may pose as the last one"
    error = expect.get("stream_error")
    if isinstance(error, dict) and "error" in error and isinstance(error["error"], dict):
        error = error["error"]
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        assert error["message"] in str(failure)
    if "stream_error" not in expect:
        assert isinstance(failure, StreamInterruptedError)


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


STREAMED_TOOLS = [p for p in RECORDS if "stream_tools" in _load(p)["kind"]]


def _wire_arguments(body_text: str) -> dict[int, str]:
    """Each call's argument text as the recorded stream carried it, joined per index."""
    texts: dict[int, str] = {}
    for line in body_text.splitlines():
        if not line.startswith("data: {"):
            continue
        for choice in json.loads(line[len("data: ") :]).get("choices") or ():
            for fragment in (choice.get("delta") or {}).get("tool_calls") or ():
                piece = (fragment.get("function") or {}).get("arguments") or ""
                texts[fragment["index"]] = texts.get(fragment["index"], "") + piece
    return texts


@pytest.mark.parametrize("path", STREAMED_TOOLS, ids=[p.stem for p in STREAMED_TOOLS])
async def test_streamed_tool_call_fragments_join_into_each_call(path: Path) -> None:
    record = _load(path)
    request = request_from_record(record["request"]["json"])
    async with _provider(record, []) as provider:
        chunks = [chunk async for chunk in provider.stream(request)]
    calls = chunks[-1].tool_calls
    assert calls == _expected_calls(record["expect"])
    assert not chunks[-1].tool_call_deltas, "the last chunk carries the whole calls"
    joined: dict[int, str] = {}
    ids: dict[int, list[str]] = {}
    names: dict[int, list[str]] = {}
    for chunk in chunks[:-1]:
        for fragment in chunk.tool_call_deltas:
            joined[fragment.index] = joined.get(fragment.index, "") + fragment.arguments
            if fragment.id is not None:
                ids.setdefault(fragment.index, []).append(fragment.id)
            if fragment.name is not None:
                names.setdefault(fragment.index, []).append(fragment.name)
    # The fragments arrived before the whole calls, and joined they are each call's text.
    assert joined == _wire_arguments(record["response"]["body_text"])
    assert len(joined) == len(calls)
    for index, call in zip(sorted(joined), calls, strict=True):
        assert parse_tool_arguments(joined[index]) == call.arguments
        assert ids[index] == [call.id]  # told once, on the fragment that brought it
        assert names[index][-1] == call.name
