"""Streaming: deltas, tool-call assembly per index, usage chunk, [DONE], broken streams."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from aether.errors import (
    BadRequestError,
    ProviderError,
    RateLimitError,
    ServerError,
    StreamInterruptedError,
)
from aether.extensions.llm.retrying import RetryingProvider
from aether.http import RAW_ARGUMENTS_KEY
from aether.llm.contracts import LLMRequest, LLMStreamChunk, Message, ToolCall, ToolCallDelta
from aether_openai import OpenAIProvider

REQUEST = LLMRequest(messages=[Message(role="user", content="hi")])


def chunk(
    delta: dict[str, Any] | None = None,
    finish: str | None = None,
    usage: dict[str, Any] | None = None,
    choices: bool = True,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "chatcmpl-9",
        "object": "chat.completion.chunk",
        "model": "gpt-4o-x",
        "usage": usage,
    }
    body["choices"] = (
        [{"index": 0, "delta": delta or {}, "finish_reason": finish}] if choices else []
    )
    return body


def sse(*events: Any, done: bool = True, sep: str = "\n\n") -> bytes:
    parts = [f"data: {json.dumps(e)}{sep}" if not isinstance(e, str) else e for e in events]
    if done:
        parts.append(f"data: [DONE]{sep}")
    return "".join(parts).encode()


def provider_for(body: bytes, seen: list[httpx.Request] | None = None) -> OpenAIProvider:
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    return OpenAIProvider(
        base_url="http://local.test/v1",
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
    )


async def collect(body: bytes) -> list[LLMStreamChunk]:
    return [c async for c in provider_for(body).stream(REQUEST)]


USAGE = {
    "prompt_tokens": 10,
    "completion_tokens": 7,
    "total_tokens": 17,
    "prompt_tokens_details": {"cached_tokens": 4},
    "completion_tokens_details": {"reasoning_tokens": 2},
}


async def test_text_stream_with_usage_chunk() -> None:
    seen: list[httpx.Request] = []
    body = sse(
        chunk({"role": "assistant", "content": ""}),
        chunk({"content": "Hel"}),
        chunk({"content": "lo"}),
        chunk({}, finish="stop"),
        chunk(usage=USAGE, choices=False),
    )
    chunks = [c async for c in provider_for(body, seen).stream(REQUEST)]
    assert [c.text for c in chunks] == ["Hel", "lo", ""]
    last = chunks[-1]
    assert last.finish_reason == "stop"
    assert (last.input_tokens, last.output_tokens) == (10, 7)
    assert (last.cached_input_tokens, last.reasoning_tokens) == (4, 2)
    assert (last.model, last.response_id) == ("gpt-4o-x", "chatcmpl-9")
    sent = json.loads(seen[0].content)
    assert sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True}
    assert seen[0].headers["accept"] == "text/event-stream"


async def test_parallel_tool_calls_interleaved_and_fragmented() -> None:
    body = sse(
        chunk({"role": "assistant", "content": None}),
        chunk(
            {
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "call_a",
                        "type": "function",
                        "function": {"name": "get_", "arguments": ""},
                    }
                ]
            }
        ),
        chunk(
            {
                "tool_calls": [
                    {
                        "index": 1,
                        "id": "call_b",
                        "type": "function",
                        "function": {"name": "lookup", "arguments": '{"q"'},
                    }
                ]
            }
        ),
        chunk(
            {
                "tool_calls": [
                    {"index": 0, "function": {"name": "weather", "arguments": '{"city": "Pa'}}
                ]
            }
        ),
        chunk(
            {
                "tool_calls": [
                    {"index": 0, "function": {"arguments": 'ris"}'}},
                    {"index": 1, "function": {"arguments": ': "x"}'}},
                ]
            }
        ),
        chunk({}, finish="tool_calls"),
        chunk(usage=USAGE, choices=False),
    )
    chunks = await collect(body)
    # No text: a chunk per tool-call event with its fragments as they arrived, then the calls.
    assert [c.text for c in chunks] == [""] * 5
    # The id and name come on the fragments that bring them; a name sent in pieces is whole
    # on its last piece.
    assert [c.tool_call_deltas for c in chunks] == [
        [ToolCallDelta(index=0, id="call_a", name="get_", arguments="")],
        [ToolCallDelta(index=1, id="call_b", name="lookup", arguments='{"q"')],
        [ToolCallDelta(index=0, name="get_weather", arguments='{"city": "Pa')],
        [
            ToolCallDelta(index=0, arguments='ris"}'),
            ToolCallDelta(index=1, arguments=': "x"}'),
        ],
        [],
    ]
    assert all(not c.tool_calls and c.finish_reason is None for c in chunks[:-1])
    assert chunks[-1].tool_calls == [
        ToolCall(id="call_a", name="get_weather", arguments={"city": "Paris"}),
        ToolCall(id="call_b", name="lookup", arguments={"q": "x"}),
    ]
    assert chunks[-1].finish_reason == "tool_calls"


async def test_text_then_tool_call_and_malformed_arguments() -> None:
    body = sse(
        chunk({"content": "Let me check."}),
        chunk(
            {
                "tool_calls": [
                    {"index": 0, "id": "c", "function": {"name": "f", "arguments": '{"a": 1'}}
                ]
            }
        ),
        chunk({}, finish="tool_calls"),
    )
    chunks = await collect(body)
    assert chunks[0].text == "Let me check."
    assert not chunks[0].tool_calls
    assert chunks[-1].tool_calls == [
        ToolCall(id="c", name="f", arguments={RAW_ARGUMENTS_KEY: '{"a": 1'})
    ]
    assert chunks[-1].input_tokens == 0  # no usage chunk was sent


async def test_forced_tool_call_finishing_with_stop() -> None:
    body = sse(
        chunk(
            {"tool_calls": [{"index": 0, "id": "c", "function": {"name": "f", "arguments": "{}"}}]}
        ),
        chunk({}, finish="stop"),
    )
    assert (await collect(body))[-1].finish_reason == "tool_calls"


async def test_length_and_content_filter() -> None:
    assert (await collect(sse(chunk({"content": "a"}, finish="length"))))[-1].finish_reason == (
        "length"
    )
    body = sse(chunk({}, finish="content_filter"))
    assert (await collect(body))[-1].finish_reason == "content_filter"


async def test_done_without_finish_reason_is_other() -> None:
    assert (await collect(sse(chunk({"content": "a"}))))[-1].finish_reason == "other"


async def test_reasoning_and_refusal_deltas() -> None:
    body = sse(
        chunk({"reasoning_content": "hmm"}), chunk({"refusal": "No."}), chunk({}, finish="stop")
    )
    chunks = await collect(body)
    assert chunks[0].reasoning_text == "hmm" and chunks[0].text == ""
    assert chunks[0].refusal is None
    # A refusal is not content: it travels in its own field, never folded into text.
    assert (chunks[1].text, chunks[1].refusal) == ("", "No.")


async def test_azure_prompt_filter_chunk_does_not_blank_id_and_model() -> None:
    azure_first = {
        "id": "",
        "model": "",
        "object": "",
        "choices": [],
        "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": {}}],
    }
    chunks = await collect(sse(azure_first, chunk({"content": "a"}), chunk({}, finish="stop")))
    assert [(c.response_id, c.model) for c in chunks] == [("chatcmpl-9", "gpt-4o-x")] * 2


async def test_only_choice_index_0_is_assembled() -> None:
    def two(zero: dict[str, Any], one: dict[str, Any], finish: str | None = None) -> Any:
        body = chunk()
        body["choices"] = [
            {"index": 1, "delta": one, "finish_reason": finish},
            {"index": 0, "delta": zero, "finish_reason": finish},
        ]
        return body

    call = {"index": 0, "id": "c1", "type": "function", "function": {"name": "f"}}
    other = {"index": 0, "id": "c9", "type": "function", "function": {"name": "g"}}
    body = sse(
        two({"content": "zero"}, {"content": "one"}),
        two({"tool_calls": [call]}, {"tool_calls": [other]}),
        two({}, {}, finish="tool_calls"),
    )
    chunks = await collect(body)
    assert "".join(c.text for c in chunks) == "zero"
    assert chunks[-1].tool_calls == [ToolCall(id="c1", name="f", arguments={})]


async def test_crlf_framing_comments_and_keepalives() -> None:
    body = (
        ": keep-alive\r\n\r\n"
        + sse(chunk({"content": "a"}), chunk({}, finish="stop"), sep="\r\n\r\n").decode()
    ).encode()
    chunks = await collect(body)
    assert [c.text for c in chunks] == ["a", ""]


async def test_stream_without_done_is_interrupted() -> None:
    body = sse(chunk({"content": "partial"}), chunk({}, finish="stop"), done=False)
    got: list[LLMStreamChunk] = []

    async def consume() -> None:
        async for c in provider_for(body).stream(REQUEST):
            got.append(c)

    with pytest.raises(StreamInterruptedError, match=r"\[DONE\]") as info:
        await consume()
    assert [c.text for c in got] == ["partial"]
    assert info.value.chunks_received == 1
    assert info.value.provider == "openai"


async def test_stream_cut_mid_event_is_interrupted() -> None:
    body = sse(chunk({"content": "a"}), done=False) + b'data: {"id": "chatcmpl-9", "cho'
    with pytest.raises(StreamInterruptedError):
        await collect(body)


@pytest.mark.parametrize(
    ("error", "cls", "status"),
    [
        ({"message": "The server had an error", "type": "server_error"}, ServerError, None),
        ({"message": "Slow down", "type": "requests", "code": "rate_limit_exceeded"},
         RateLimitError, None),
        ({"message": "Backend unavailable", "code": 503}, ServerError, 503),
        ({"message": "Bad schema", "type": "invalid_request_error"}, BadRequestError, None),
        ({"message": "Something odd"}, ServerError, None),
    ],
)  # fmt: skip
async def test_in_band_error_event_keeps_its_type(
    error: dict[str, Any], cls: type[ProviderError], status: int | None
) -> None:
    got: list[LLMStreamChunk] = []
    body = sse(chunk({"content": "a"}), {"error": error})

    async def consume() -> None:
        async for c in provider_for(body).stream(REQUEST):
            got.append(c)

    with pytest.raises(ProviderError) as info:
        await consume()
    assert type(info.value) is cls
    assert error["message"] in str(info.value)
    assert info.value.status_code == status
    assert [c.text for c in got] == ["a"]


@pytest.mark.parametrize(
    ("data", "text"),
    [
        ('{"message": "Overloaded, try later", "type": "overloaded_error"}', "Overloaded"),
        ('{"detail": "upstream crashed"}', "upstream crashed"),
        ("Internal server error", "Internal server error"),
    ],
)
async def test_error_event_without_an_error_key_is_raised(data: str, text: str) -> None:
    body = sse(chunk({"content": "a"}), f"event: error\ndata: {data}\n\n")
    with pytest.raises(ProviderError, match=text) as info:
        await collect(body)
    assert isinstance(info.value, (ServerError, RateLimitError))


async def test_in_band_server_error_is_retried_only_before_the_first_chunk() -> None:
    bodies = [
        sse({"error": {"message": "busy", "type": "server_error"}}, done=False),
        sse(chunk({"content": "ok"}), chunk({}, finish="stop")),
    ]
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(
            200, headers={"content-type": "text/event-stream"}, content=bodies.pop(0)
        )

    async def no_wait(_: float) -> None:
        return None

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    provider = OpenAIProvider(base_url="http://local.test/v1", http_client=client)
    retrying = RetryingProvider(provider, sleep=no_wait)
    assert [c.text async for c in retrying.stream(REQUEST)] == ["ok", ""]
    assert calls == 2

    late = sse(chunk({"content": "a"}), {"error": {"message": "busy", "type": "server_error"}})
    with pytest.raises(StreamInterruptedError, match="busy") as info:
        _ = [c async for c in RetryingProvider(provider_for(late), sleep=no_wait).stream(REQUEST)]
    assert info.value.chunks_received == 1
    assert isinstance(info.value.__cause__, ServerError)


async def test_non_json_event() -> None:
    with pytest.raises(StreamInterruptedError, match="not JSON"):
        await collect(b"data: hello\n\n")
    with pytest.raises(StreamInterruptedError, match="not a JSON object"):
        await collect(b"data: [1, 2]\n\n")


async def test_blank_keep_alive_event_is_ignored() -> None:
    body = b"data: \n\n" + sse(chunk({"content": "a"}), chunk({}, finish="stop"))
    assert [c.text for c in await collect(body)] == ["a", ""]


async def test_non_json_event_mid_stream_counts_what_was_delivered() -> None:
    body = sse(chunk({"content": "a"}), done=False) + b"data: {nope\n\n"
    got: list[LLMStreamChunk] = []

    async def consume() -> None:
        async for c in provider_for(body).stream(REQUEST):
            got.append(c)

    with pytest.raises(StreamInterruptedError, match="not JSON") as info:
        await consume()
    assert [c.text for c in got] == ["a"]
    assert info.value.chunks_received == 1


async def test_events_after_done_are_ignored() -> None:
    body = sse(chunk({"content": "a"}), chunk({}, finish="stop")) + sse(
        chunk({"content": "late"}), done=False
    )
    assert [c.text for c in await collect(body)] == ["a", ""]
