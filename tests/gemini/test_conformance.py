"""Every recorded Gemini interaction replayed through the provider; result == ``expect``."""

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
    RateLimitError,
    ResponseBlockedError,
    ServerError,
    UnexpectedResponseError,
)
from aether.llm.contracts import LLMRequest, LLMResponse, LLMStreamChunk, Message, ToolCall
from aether_gemini import GeminiProvider
from aether_gemini._streaming import StreamState

from ._recorded_requests import EXPRESSIONS, normalise, without
from ._records import API_KEY, load, model_of, record_files, replay_transport

RECORDS = record_files()

# Recorded tools for gemini-2.0 use schemas its OpenAPI dialect only approximates; the
# provider says so with a warning, which is tested in test_schema.
pytestmark = pytest.mark.filterwarnings("ignore::aether_gemini._schema.GeminiSchemaWarning")

# Our own reading of Gemini's finishReason values, independent of the provider's table.
EXPECTED_FINISH = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
}
ERROR_CLASSES: dict[int, type[ProviderError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: AuthenticationError,
    404: NotFoundError,
    429: RateLimitError,
}


def test_the_corpus_is_there() -> None:
    assert len(RECORDS) >= 20


_FALLBACK = [{"role": "user", "parts": [{"text": "hi"}]}]


def _name(record: dict[str, Any]) -> str:
    return str(record["file"])  # set by test_replay: the record's file name, without .json


def _request(record: dict[str, Any]) -> LLMRequest:
    """The recorded request in Aether's terms (test_requests); "hi" where Aether cannot say it."""
    expression = EXPRESSIONS.get(_name(record))
    if expression is not None:
        return expression.build(record["request"]["json"])
    return LLMRequest(messages=[Message(role="user", content="hi")], model=model_of(record))


def _provider(record: dict[str, Any], seen: list[httpx.Request]) -> GeminiProvider:
    client = httpx.AsyncClient(transport=replay_transport(record, seen))
    # Recorded thought signatures ride on the rebuilt calls (ToolCall.provider_data), so
    # sending them back is checked too, with a provider that never saw the earlier response.
    return GeminiProvider(api_key=API_KEY, http_client=client)


def _expected_finish(expect: dict[str, Any]) -> str | None:
    if expect.get("tool_calls"):
        return "tool_calls"
    raw = expect.get("finish_reason")
    return None if raw is None else EXPECTED_FINISH.get(raw, "other")


def _expected_usage(expect: dict[str, Any]) -> dict[str, int]:
    usage = expect.get("usage") or {}
    reasoning = usage.get("reasoning_tokens", 0)
    return {
        "input_tokens": usage.get("input_tokens", 0),
        # The corpus leaves thoughts out of output; Aether bills them as output.
        "output_tokens": usage.get("output_tokens", 0) + reasoning,
        "reasoning_tokens": reasoning,
        "cached_input_tokens": usage.get("cached_tokens", 0),
    }


def _usage_of(result: LLMResponse | LLMStreamChunk) -> dict[str, int]:
    return {
        "input_tokens": result.input_tokens,
        "output_tokens": result.output_tokens,
        "reasoning_tokens": result.reasoning_tokens,
        "cached_input_tokens": result.cached_input_tokens,
    }


def _assert_calls(calls: list[ToolCall], expect: dict[str, Any]) -> None:
    expected = expect.get("tool_calls") or []
    assert [(c.name, c.arguments) for c in calls] == [(e["name"], e["arguments"]) for e in expected]
    for call, e in zip(calls, expected, strict=True):
        if e["id"] is not None:
            assert call.id == e["id"]
    assert len({c.id for c in calls}) == len(calls), "tool call ids must be unique"


def _is_empty_answer(expect: dict[str, Any]) -> bool:
    return (
        not expect.get("text")
        and not expect.get("tool_calls")
        and expect.get("finish_reason") != "MAX_TOKENS"
    )


def _check_wire(record: dict[str, Any], seen: list[httpx.Request], *, sse: bool) -> None:
    assert len(seen) == 1
    sent = seen[0]
    assert sent.method == record["request"]["method"]
    recorded_path = record["request"]["path"].split("?")[0]
    if recorded_path.endswith(":streamGenerateContent") is sse:  # errors replay both ways
        assert sent.url.path == recorded_path
    assert sent.headers["x-goog-api-key"] == API_KEY
    assert API_KEY not in str(sent.url)
    assert (sent.url.params.get("alt") == "sse") is sse
    body = json.loads(sent.content)
    expression = EXPRESSIONS.get(_name(record))
    if expression is None:
        assert body["contents"] == _FALLBACK
        return
    recorded = normalise(record["request"]["json"])
    assert normalise(body) == without(recorded, expression.recorded_only)


@pytest.mark.parametrize("path", RECORDS, ids=lambda p: p.name)
async def test_replay(path: Path) -> None:
    record = {**load(path), "file": path.stem}
    expect = record["expect"]
    if expect.get("stream_format") == "json_array":
        await _replay_json_array(record)
    elif expect["status"] >= 400:
        await _replay_error(record)
    elif expect["stream"]:
        await _replay_stream(record)
    else:
        await _replay_complete(record)


async def _replay_complete(record: dict[str, Any]) -> None:
    expect = record["expect"]
    seen: list[httpx.Request] = []
    async with _provider(record, seen) as provider:
        if _is_empty_answer(expect):
            with pytest.raises(ResponseBlockedError) as info:
                await provider.complete(_request(record))
            assert info.value.reason == expect["finish_reason"]
            return
        response = await provider.complete(_request(record))
    _check_wire(record, seen, sse=False)
    assert response.text == expect["text"]
    assert response.reasoning_text == expect.get("reasoning_text", "")
    _assert_calls(response.tool_calls, expect)
    assert response.finish_reason == _expected_finish(expect)
    assert _usage_of(response) == _expected_usage(expect)
    assert response.model == expect["model"]
    assert response.response_id == expect["response_id"]


def _assert_stream(chunks: list[LLMStreamChunk], expect: dict[str, Any]) -> None:
    assert chunks, "a stream yields at least one chunk"
    *content, last = chunks
    assert "".join(c.text for c in chunks) == expect["text"]
    assert "".join(c.reasoning_text for c in chunks) == expect.get("reasoning_text", "")
    calls = [call for c in chunks for call in c.tool_calls]
    _assert_calls(calls, expect)
    _assert_fragments(chunks, calls)
    assert [c.finish_reason for c in content] == [None] * len(content)
    assert last.finish_reason == _expected_finish(expect)
    assert _usage_of(last) == _expected_usage(expect)
    assert all(c.input_tokens == 0 and c.output_tokens == 0 for c in content)
    assert last.model == expect["model"]
    assert last.response_id == expect["response_id"]


def _assert_fragments(chunks: list[LLMStreamChunk], calls: list[ToolCall]) -> None:
    """Each call, arriving whole, is also its one fragment, on the chunk that carries it."""
    for chunk in chunks:
        assert [(d.id, d.name) for d in chunk.tool_call_deltas] == [
            (c.id, c.name) for c in chunk.tool_calls
        ]
    fragments = [d for c in chunks for d in c.tool_call_deltas]
    assert [d.index for d in fragments] == list(range(len(calls)))
    assert [json.loads(d.arguments) for d in fragments] == [c.arguments for c in calls]


async def _replay_stream(record: dict[str, Any]) -> None:
    seen: list[httpx.Request] = []
    async with _provider(record, seen) as provider:
        chunks = [chunk async for chunk in provider.stream(_request(record))]
    _check_wire(record, seen, sse=True)
    _assert_stream(chunks, record["expect"])


async def _replay_json_array(record: dict[str, Any]) -> None:
    """The provider always asks for SSE; these bodies are checked at the parser level.

    Without ``alt=sse`` Gemini streams one JSON array of the same response objects an SSE
    stream carries one per event, so the stream parser must read them the same way. Served
    over HTTP for an SSE request, such a body is refused with a clear error.
    """
    expect = record["expect"]
    state = StreamState(model_of(record))
    chunks = [
        chunk
        for body in json.loads(record["response"]["body_text"])
        if (chunk := state.feed(body)) is not None
    ]
    chunks.append(state.finish())
    _assert_stream(chunks, expect)

    seen: list[httpx.Request] = []
    async with _provider(record, seen) as provider:
        with pytest.raises(UnexpectedResponseError, match="instead of server-sent") as info:
            _ = [chunk async for chunk in provider.stream(_request(record))]
    _check_wire(record, seen, sse=True)
    assert info.value.status_code == record["response"]["status"]
    assert "unexpected status" not in str(info.value)


async def _call(provider: GeminiProvider, request: LLMRequest, *, streaming: bool) -> None:
    if streaming:
        _ = [chunk async for chunk in provider.stream(request)]
    else:
        await provider.complete(request)


async def _replay_error(record: dict[str, Any]) -> None:
    expect = record["expect"]
    status = expect["status"]
    expected_class = ERROR_CLASSES.get(status, ServerError if status >= 500 else BadRequestError)
    for streaming in (False, True):
        seen: list[httpx.Request] = []
        async with _provider(record, seen) as provider:
            with pytest.raises(ProviderError) as info:
                await _call(provider, _request(record), streaming=streaming)
        error = info.value
        _check_wire(record, seen, sse=streaming)
        assert type(error) is expected_class
        assert error.status_code == status
        assert error.provider == "gemini"
        assert expect["error"]["message"] in str(error)
        assert API_KEY not in str(error)
        retry_after = record["response"]["headers"].get("retry-after")
        if retry_after is not None:
            assert error.retry_after == float(retry_after)
