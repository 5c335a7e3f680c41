"""Every recorded Anthropic interaction replayed through the provider; result == ``expect``.

The expected values are worked out here from ``expect`` alone (our own reading of the wire
format), never from the provider's tables, so a wrong mapping fails.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from aether.errors import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ContextLengthError,
    NotFoundError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    ServerError,
    StreamInterruptedError,
)
from aether.http import RAW_ARGUMENTS_KEY
from aether.llm.contracts import LLMRequest, LLMResponse, LLMStreamChunk, Message, ToolCall
from aether_anthropic import DEFAULT_MAX_TOKENS, AnthropicProvider
from aether_anthropic._response import THINKING_KEY

from ._records import API_KEY, load, record_files, recorded_path, replay_transport

RECORDS = record_files()
STREAMS = [path for path in RECORDS if load(path)["expect"].get("stream")]

# Our own reading of Anthropic's stop_reason values, independent of the provider's table.
EXPECTED_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
    "pause_turn": "other",
}
# Anthropic's documented status for each error type (for errors sent inside a stream).
ERROR_TYPE_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "overloaded_error": 529,
}
CONTEXT_MESSAGES = re.compile(r"prompt is too long|context limit|context window", re.IGNORECASE)


def test_the_corpus_is_there() -> None:
    assert RECORDS, "no records"
    assert all(load(path)["provider"] == "anthropic" for path in RECORDS)


def test_the_finish_reason_mapping_is_the_documented_one() -> None:
    from aether_anthropic._response import finish_reason_from_wire

    for raw, reason in EXPECTED_FINISH.items():
        assert finish_reason_from_wire(raw) == reason, raw
    assert finish_reason_from_wire("end_turn", has_tool_calls=True) == "tool_calls"
    assert finish_reason_from_wire("max_tokens", has_tool_calls=True) == "length"
    assert finish_reason_from_wire("a_reason_from_the_future") == "other"


# --- what the records say ----------------------------------------------------------------


def _request() -> LLMRequest:
    return LLMRequest(messages=[Message(role="user", content="hi")], model="claude-replay")


def _provider(record: dict[str, Any], seen: list[httpx.Request]) -> AnthropicProvider:
    client = httpx.AsyncClient(transport=replay_transport(record, seen))
    return AnthropicProvider(api_key=API_KEY, http_client=client)


def _expected_finish(expect: dict[str, Any]) -> str | None:
    raw = expect.get("finish_reason")
    if raw is None:
        return "tool_calls" if expect.get("tool_calls") else None
    reason = EXPECTED_FINISH.get(raw, "other")
    return "tool_calls" if reason == "stop" and expect.get("tool_calls") else reason


def _count(value: Any) -> int:
    return value if isinstance(value, int) else 0


def _expected_usage(expect: dict[str, Any]) -> dict[str, int]:
    """Aether's counts: input includes the cache reads and writes Anthropic leaves out."""
    usage = expect.get("usage") or {}
    read = _count(usage.get("cached_tokens"))
    written = _count(usage.get("cache_creation_input_tokens"))
    raw = expect.get("usage_raw") or {}
    details = raw.get("output_tokens_details") or {}
    expected = {
        "input_tokens": _count(usage.get("input_tokens")) + read + written,
        "output_tokens": _count(usage.get("output_tokens")),
        "cached_input_tokens": read,
        "cache_write_tokens": written,
        "reasoning_tokens": _count(details.get("thinking_tokens")),
    }
    if raw:  # the normalised usage and the raw object must tell the same story
        assert expected["input_tokens"] == (
            _count(raw.get("input_tokens"))
            + _count(raw.get("cache_read_input_tokens"))
            + _count(raw.get("cache_creation_input_tokens"))
        )
        assert expected["output_tokens"] == _count(raw.get("output_tokens"))
    return expected


def _usage_of(result: LLMResponse | LLMStreamChunk) -> dict[str, int]:
    return {
        "input_tokens": result.input_tokens,
        "output_tokens": result.output_tokens,
        "cached_input_tokens": result.cached_input_tokens,
        "cache_write_tokens": result.cache_write_tokens,
        "reasoning_tokens": result.reasoning_tokens,
    }


def _expected_calls(expect: dict[str, Any]) -> list[ToolCall]:
    calls = []
    for call in expect.get("tool_calls") or []:
        arguments = call["arguments"]
        if arguments is None:  # not a JSON object: the text is kept, not dropped
            arguments = {RAW_ARGUMENTS_KEY: call["arguments_raw"]}
        calls.append(ToolCall(id=call["id"], name=call["name"], arguments=arguments))
    return calls


def _assert_calls(calls: list[ToolCall], expect: dict[str, Any]) -> None:
    """The calls as recorded; signed thinking written before them rides on the first one."""
    assert [c.model_copy(update={"provider_data": {}}) for c in calls] == _expected_calls(expect)
    if calls and expect.get("reasoning_text"):
        assert calls[0].provider_data.get(THINKING_KEY), "the call lost the thinking before it"


def _check_wire(record: dict[str, Any], seen: list[httpx.Request], *, stream: bool) -> None:
    assert len(seen) == 1, "one call, one request: the provider must not retry"
    sent = seen[0]
    assert sent.method == record["request"]["method"]
    assert sent.url.path == recorded_path(record)
    assert sent.headers["x-api-key"] == API_KEY
    assert sent.headers["anthropic-version"] == "2023-06-01"
    assert API_KEY not in str(sent.url)
    body = json.loads(sent.content)
    assert body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]
    assert body["model"] == "claude-replay"
    assert body["max_tokens"] == DEFAULT_MAX_TOKENS
    assert body.get("stream", False) is stream


# --- replay --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", RECORDS, ids=lambda p: p.name)
async def test_replay(path: Path) -> None:
    record = load(path)
    expect = record["expect"]
    if expect["status"] >= 400:
        await _replay_error(record)
    elif expect["stream"]:
        await _replay_stream(record)
    else:
        await _replay_complete(record)


async def _replay_complete(record: dict[str, Any]) -> None:
    expect = record["expect"]
    seen: list[httpx.Request] = []
    async with _provider(record, seen) as provider:
        response = await provider.complete(_request())
    _check_wire(record, seen, stream=False)
    assert response.text == (expect.get("text") or "")
    assert response.reasoning_text == expect.get("reasoning_text", "")
    _assert_calls(response.tool_calls, expect)
    assert response.finish_reason == _expected_finish(expect)
    assert _usage_of(response) == _expected_usage(expect)
    assert response.model == expect["model"]
    assert response.response_id == expect["response_id"]


def _stream_is_whole(record: dict[str, Any]) -> bool:
    return "message_stop" in record["response"]["body_text"]


async def _replay_stream(record: dict[str, Any]) -> None:
    expect = record["expect"]
    seen: list[httpx.Request] = []
    chunks: list[LLMStreamChunk] = []
    async with _provider(record, seen) as provider:
        if _error_event(record) or not _stream_is_whole(record):
            await _expect_stream_failure(provider, record, chunks)
            _check_wire(record, seen, stream=True)
            return
        chunks = [chunk async for chunk in provider.stream(_request())]
    _check_wire(record, seen, stream=True)
    _assert_stream(chunks, expect)


def _assert_stream(chunks: list[LLMStreamChunk], expect: dict[str, Any]) -> None:
    assert chunks, "a stream yields at least one chunk"
    *content, last = chunks
    assert "".join(c.text for c in chunks) == (expect.get("text") or "")
    assert "".join(c.reasoning_text for c in chunks) == expect.get("reasoning_text", "")
    _assert_calls([call for c in chunks for call in c.tool_calls], expect)
    assert [c.finish_reason for c in content] == [None] * len(content)
    assert last.finish_reason == _expected_finish(expect)
    assert _usage_of(last) == _expected_usage(expect)
    assert all(c.input_tokens == 0 and c.output_tokens == 0 for c in content), (
        "usage is counted once, on the last chunk"
    )
    assert last.model == expect["model"]
    assert last.response_id == expect["response_id"]


def _recorded_events(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The JSON objects of the recorded stream's events, read independently of the provider."""
    events = []
    for frame in re.split(r"\r?\n\r?\n", record["response"]["body_text"]):
        data = "\n".join(
            line[5:].lstrip() for line in frame.splitlines() if line.startswith("data:")
        )
        try:
            event = json.loads(data) if data.strip() else None
        except ValueError:
            continue
        if isinstance(event, dict):
            events.append(event)
    return events


def _error_event(record: dict[str, Any]) -> dict[str, Any]:
    """The error object of an ``error`` event in the recorded body, read independently."""
    for event in _recorded_events(record):
        if event.get("type") == "error":
            error = event.get("error")
            return error if isinstance(error, dict) else {"type": "api_error"}
    return {}


async def _expect_stream_failure(
    provider: AnthropicProvider, record: dict[str, Any], chunks: list[LLMStreamChunk]
) -> None:
    """A stream carrying an ``error`` event, or cut before ``message_stop``, must raise."""
    expect = record["expect"]
    with pytest.raises(ProviderError) as info:
        await _collect(provider, chunks)
    assert all(c.finish_reason is None for c in chunks), "a failed stream looked finished"
    assert (expect.get("text") or "").startswith("".join(c.text for c in chunks))
    error = info.value
    assert error.provider == "anthropic"
    assert API_KEY not in str(error)
    detail = _error_event(record)
    if not detail:
        assert isinstance(error, StreamInterruptedError)
        assert error.chunks_received == len(chunks)
        return
    status = ERROR_TYPE_STATUS.get(str(detail.get("type")), 500)
    assert type(error) is _error_class(status, str(detail.get("message", "")))
    if isinstance(detail.get("message"), str):
        assert detail["message"] in str(error), "Anthropic's own message must reach the user"
    noted = expect.get("stream_error")
    if isinstance(noted, dict) and isinstance(noted.get("message"), str):
        assert noted["message"] in str(error)


async def _collect(provider: AnthropicProvider, into: list[LLMStreamChunk]) -> None:
    async for chunk in provider.stream(_request()):
        into.append(chunk)


async def _call(provider: AnthropicProvider, *, streaming: bool) -> None:
    if streaming:
        await _collect(provider, [])
    else:
        await provider.complete(_request())


def _error_class(status: int, message: str) -> type[ProviderError]:
    if status in (400, 413) and CONTEXT_MESSAGES.search(message):
        return ContextLengthError
    classes: dict[int, type[ProviderError]] = {
        401: AuthenticationError,
        403: AuthenticationError,
        404: NotFoundError,
        408: ProviderTimeoutError,
        409: ConflictError,
        413: ContextLengthError,
        429: RateLimitError,
        529: RateLimitError,  # overloaded: retryable, waiting helps
    }
    if status in classes:
        return classes[status]
    return ServerError if status >= 500 else BadRequestError


async def _replay_error(record: dict[str, Any]) -> None:
    expect = record["expect"]
    status = expect["status"]
    detail = expect.get("error") or {}
    message = detail["message"] if isinstance(detail.get("message"), str) else ""
    headers = {k.lower(): v for k, v in record["response"]["headers"].items()}
    for streaming in (False, True):
        seen: list[httpx.Request] = []
        async with _provider(record, seen) as provider:
            with pytest.raises(ProviderError) as info:
                await _call(provider, streaming=streaming)
        _check_wire(record, seen, stream=streaming)
        error = info.value
        assert type(error) is _error_class(status, message)
        assert error.status_code == status
        assert error.provider == "anthropic"
        if message:
            assert message in str(error), "Anthropic's own message must reach the user"
        assert API_KEY not in str(error)
        request_id = headers.get("request-id") or detail.get("request_id")
        if request_id:
            assert error.request_id == request_id
        if "retry-after" in headers:
            assert error.retry_after == float(headers["retry-after"])


# --- the same streams, cut into the small pieces a real network delivers -------------------


def _trickle(record: dict[str, Any], size: int) -> httpx.MockTransport:
    response = record["response"]
    body = response["body_text"].encode("utf-8")

    async def pieces() -> AsyncIterator[bytes]:
        for start in range(0, len(body), size):
            yield body[start : start + size]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(response["status"], headers=response["headers"], content=pieces())

    return httpx.MockTransport(handler)


@pytest.mark.parametrize("path", STREAMS, ids=lambda p: p.name)
async def test_stream_replay_in_small_pieces(path: Path) -> None:
    record = load(path)
    client = httpx.AsyncClient(transport=_trickle(record, 7))
    chunks: list[LLMStreamChunk] = []
    async with AnthropicProvider(api_key=API_KEY, http_client=client) as provider:
        if _error_event(record) or not _stream_is_whole(record):
            await _expect_stream_failure(provider, record, chunks)
            return
        chunks = [chunk async for chunk in provider.stream(_request())]
    _assert_stream(chunks, record["expect"])


# --- tool calls as they stream --------------------------------------------------------------

STREAMED_CALLS = [path for path in STREAMS if "stream_tools" in load(path)["kind"]]


def _recorded_fragments(record: dict[str, Any]) -> list[str]:
    """Every non-empty ``partial_json`` of the recorded stream, in order."""
    return [
        event["delta"]["partial_json"]
        for event in _recorded_events(record)
        if event.get("type") == "content_block_delta"
        and event["delta"].get("type") == "input_json_delta"
        and event["delta"]["partial_json"]
    ]


@pytest.mark.parametrize("path", STREAMED_CALLS, ids=lambda p: p.name)
async def test_tool_call_fragments_add_up_to_each_call(path: Path) -> None:
    record = load(path)
    async with _provider(record, []) as provider:
        chunks = [chunk async for chunk in provider.stream(_request())]
    calls = [call for chunk in chunks for call in chunk.tool_calls]
    assert calls, "a stream_tools record streams tool calls"
    _assert_calls(calls, record["expect"])
    fragments = [fragment for chunk in chunks for fragment in chunk.tool_call_deltas]
    assert [f.arguments for f in fragments if f.arguments] == _recorded_fragments(record), (
        "each fragment is passed on as it arrived"
    )
    for position, call in enumerate(calls):
        first, *rest = [f for f in fragments if f.index == position]
        assert (first.id, first.name, first.arguments) == (call.id, call.name, "")
        assert all(f.id is None and f.name is None for f in rest), "only the first names it"
        assert json.loads("".join(f.arguments for f in rest) or "{}") == call.arguments
        whole = next(i for i, chunk in enumerate(chunks) if call in chunk.tool_calls)
        assert all(f.index != position for c in chunks[whole:] for f in c.tool_call_deltas), (
            "the call is handed out whole after its last fragment"
        )
