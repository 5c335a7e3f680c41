"""Streams over ``httpx.MockTransport``: deltas, tool-call assembly, usage, in-band errors,
and streams that break or end early."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from aether.errors import (
    AuthenticationError,
    BadRequestError,
    ContextLengthError,
    NotFoundError,
    ProviderError,
    RateLimitError,
    ServerError,
    StreamInterruptedError,
)
from aether.http import RAW_ARGUMENTS_KEY
from aether.llm.contracts import LLMRequest, LLMStreamChunk, Message, ToolCall
from aether_anthropic import AnthropicProvider
from aether_anthropic._response import THINKING_KEY
from aether_anthropic._streaming import StreamAssembler

KEY = "secret-anthropic-key-4321"
START_USAGE = {
    "input_tokens": 10,
    "cache_creation_input_tokens": 0,
    "cache_read_input_tokens": 0,
    "output_tokens": 1,
}


def event(data: dict[str, Any], name: str | None = None) -> bytes:
    head = f"event: {name or data['type']}\n".encode()
    return head + b"data: " + json.dumps(data).encode() + b"\n\n"


def start(usage: dict[str, Any] | None = None) -> bytes:
    message: dict[str, Any] = {
        "id": "msg_s",
        "type": "message",
        "role": "assistant",
        "model": "claude-streamed",
        "content": [],
        "stop_reason": None,
        "usage": usage or START_USAGE,
    }
    return event({"type": "message_start", "message": message})


def block_start(index: int, block: dict[str, Any]) -> bytes:
    return event({"type": "content_block_start", "index": index, "content_block": block})


def delta(index: int, **body: Any) -> bytes:
    return event({"type": "content_block_delta", "index": index, "delta": body})


def block_stop(index: int) -> bytes:
    return event({"type": "content_block_stop", "index": index})


def end(stop: str = "end_turn", usage: dict[str, Any] | None = None) -> list[bytes]:
    return [
        event(
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop, "stop_sequence": None},
                "usage": usage or {"output_tokens": 7},
            }
        ),
        event({"type": "message_stop"}),
    ]


def text_block(index: int, *pieces: str) -> list[bytes]:
    deltas = [delta(index, type="text_delta", text=piece) for piece in pieces]
    return [block_start(index, {"type": "text", "text": ""}), *deltas, block_stop(index)]


def serving(body: bytes | AsyncIterator[bytes], seen: list[httpx.Request] | None = None) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return AnthropicProvider(api_key=KEY, http_client=client)


def ask() -> LLMRequest:
    return LLMRequest(messages=[Message(role="user", content="hi")])


async def drain(provider: AnthropicProvider, into: list[LLMStreamChunk] | None = None) -> Any:
    chunks = into if into is not None else []
    async for chunk in provider.stream(ask()):
        chunks.append(chunk)
    return chunks


async def test_text_and_thinking_deltas_are_passed_on_apart() -> None:
    thinking = [
        block_start(0, {"type": "thinking", "thinking": "", "signature": ""}),
        event({"type": "ping"}),
        delta(0, type="thinking_delta", thinking="Short "),
        delta(0, type="thinking_delta", thinking="answer."),
        delta(0, type="signature_delta", signature="EqsD"),
        block_stop(0),
    ]
    seen: list[httpx.Request] = []
    body = b"".join([start(), *thinking, *text_block(1, "Hel", "lo"), *end()])
    chunks = await drain(serving(body, seen))
    assert [(c.reasoning_text, c.text) for c in chunks] == [
        ("Short ", ""),
        ("answer.", ""),
        ("", "Hel"),
        ("", "lo"),
        ("", ""),
    ]
    assert all(c.model == "claude-streamed" and c.response_id == "msg_s" for c in chunks)
    last = chunks[-1]
    assert (last.finish_reason, last.input_tokens, last.output_tokens) == ("stop", 10, 7)
    sent = json.loads(seen[0].content)
    assert sent["stream"] is True
    assert seen[0].headers["accept"] == "text/event-stream"


async def test_parallel_tool_calls_are_assembled_per_block_index() -> None:
    body = b"".join(
        [
            start(),
            *text_block(0, "Checking."),
            block_start(1, {"type": "tool_use", "id": "toolu_a", "name": "weather", "input": {}}),
            delta(1, type="input_json_delta", partial_json=""),
            delta(1, type="input_json_delta", partial_json='{"city": '),
            block_start(2, {"type": "tool_use", "id": "toolu_b", "name": "time", "input": {}}),
            # Fragments of two open blocks interleaved: each belongs to its own index.
            delta(2, type="input_json_delta", partial_json='{"zone": "CET"}'),
            delta(1, type="input_json_delta", partial_json='"Paris"}'),
            block_stop(2),
            block_stop(1),
            *end("tool_use", {"output_tokens": 40}),
        ]
    )
    chunks = await drain(serving(body))
    assert "".join(c.text for c in chunks) == "Checking."
    assert [call for c in chunks for call in c.tool_calls] == [
        ToolCall(id="toolu_b", name="time", arguments={"zone": "CET"}),
        ToolCall(id="toolu_a", name="weather", arguments={"city": "Paris"}),
    ]
    # Each fragment as it came, indexed by its call's place among the calls (not the block's);
    # the first of a call names it, as a call's first fragment does in core's contract.
    assert [(f.index, f.id, f.name, f.arguments) for c in chunks for f in c.tool_call_deltas] == [
        (0, "toolu_a", "weather", ""),
        (0, None, None, '{"city": '),
        (1, "toolu_b", "time", ""),
        (1, None, None, '{"zone": "CET"}'),
        (0, None, None, '"Paris"}'),
    ]
    (zone_done,) = [
        i for i, c in enumerate(chunks) if c.tool_calls and c.tool_calls[0].id == "toolu_b"
    ]
    assert all(f.index != 1 for c in chunks[zone_done:] for f in c.tool_call_deltas), (
        "a call is whole only after its last fragment"
    )
    last = chunks[-1]
    assert (last.tool_calls, last.finish_reason, last.output_tokens) == ([], "tool_calls", 40)
    assert all(c.finish_reason is None and c.input_tokens == 0 for c in chunks[:-1])


@pytest.mark.parametrize(
    ("start_input", "fragments", "arguments", "streamed"),
    [
        ({}, [""], {}, ""),
        ({}, [], {}, ""),
        # Arguments given whole at the start are handed out as one fragment too.
        ({"given": True}, [], {"given": True}, '{"given": true}'),
        ({"given": True}, [""], {"given": True}, '{"given": true}'),
        ({}, ['{"a": [1, ', "2]}"], {"a": [1, 2]}, '{"a": [1, 2]}'),
        ({}, ['{"a": "tru'], {RAW_ARGUMENTS_KEY: '{"a": "tru'}, '{"a": "tru'),
    ],
)
async def test_tool_arguments(
    start_input: dict[str, Any], fragments: list[str], arguments: dict[str, Any], streamed: str
) -> None:
    body = b"".join(
        [
            start(),
            block_start(
                0, {"type": "tool_use", "id": "toolu_1", "name": "f", "input": start_input}
            ),
            *[delta(0, type="input_json_delta", partial_json=f) for f in fragments],
            block_stop(0),
            *end("tool_use"),
        ]
    )
    chunks = await drain(serving(body))
    assert [call for c in chunks for call in c.tool_calls] == [
        ToolCall(id="toolu_1", name="f", arguments=arguments)
    ]
    assert "".join(f.arguments for c in chunks for f in c.tool_call_deltas) == streamed


async def test_usage_of_message_start_is_updated_by_message_delta() -> None:
    body = b"".join(
        [
            start({"input_tokens": 4, "cache_read_input_tokens": 0, "output_tokens": 1}),
            *text_block(0, "ok"),
            *end(
                usage={
                    "input_tokens": 5,
                    "cache_read_input_tokens": 900,
                    "cache_creation_input_tokens": 60,
                    "output_tokens": 33,
                    "output_tokens_details": {"thinking_tokens": 8},
                    "server_tool_use": None,
                }
            ),
        ]
    )
    last = (await drain(serving(body)))[-1]
    assert (last.input_tokens, last.cached_input_tokens, last.cache_write_tokens) == (965, 900, 60)
    assert (last.output_tokens, last.reasoning_tokens) == (33, 8)


async def test_max_tokens_stop_and_unknown_events_are_tolerated() -> None:
    body = b"".join(
        [
            start(),
            event({"type": "a_new_event", "payload": 1}),
            *text_block(0, "cut"),
            delta(0, type="citations_delta", citation={"cited_text": "x"}),
            *end("max_tokens"),
        ]
    )
    chunks = await drain(serving(body))
    assert [c.text for c in chunks] == ["cut", ""]
    assert chunks[-1].finish_reason == "length"


async def test_event_name_stands_in_for_a_missing_type_and_later_events_are_ignored() -> None:
    body = b"".join(
        [
            start(),
            *text_block(0, "done"),
            event(
                {"delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 2}},
                "message_delta",
            ),
            event({}, "message_stop"),
            *text_block(1, "after the end"),
        ]
    )
    chunks = await drain(serving(body))
    assert [c.text for c in chunks] == ["done", ""]
    assert (chunks[-1].finish_reason, chunks[-1].output_tokens) == ("stop", 2)


async def test_overloaded_error_event_is_a_retryable_rate_limit() -> None:
    error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    body = b"".join([start(), *text_block(0, "Hel")[:2], event(error)])
    received: list[LLMStreamChunk] = []
    with pytest.raises(RateLimitError, match="Overloaded") as info:
        await drain(serving(body), received)
    assert [c.text for c in received] == ["Hel"]
    assert (info.value.status_code, info.value.provider) == (None, "anthropic")  # HTTP said 200


async def test_api_error_event_is_a_server_error_with_the_key_masked() -> None:
    error = {"type": "error", "error": {"type": "api_error", "message": f"oops {KEY}"}}
    with pytest.raises(ServerError) as info:
        await drain(serving(b"".join([start(), event(error)])))
    assert KEY not in str(info.value)
    assert "oops ***" in str(info.value)


async def test_error_object_under_another_event_name_is_raised() -> None:
    # Typed by core's decode_event from its "type": "error", whatever the SSE event name.
    error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    with pytest.raises(RateLimitError, match="Overloaded"):
        await drain(serving(b"".join([start(), event(error, "message")])))


async def test_error_event_with_no_data_is_raised() -> None:
    # Used to be skipped as a blank event: an error event must never pass in silence.
    with pytest.raises(ServerError, match="empty error event"):
        await drain(serving(start() + b"event: error\ndata: \n\n" + b"".join(end())))


async def test_stream_that_ends_without_message_stop_is_interrupted() -> None:
    body = b"".join([start(), *text_block(0, "Hel", "lo"), end()[0]])
    received: list[LLMStreamChunk] = []
    with pytest.raises(StreamInterruptedError, match="before message_stop") as info:
        await drain(serving(body), received)
    assert [c.text for c in received] == ["Hel", "lo"]
    assert info.value.chunks_received == 2


async def test_empty_stream_is_interrupted() -> None:
    with pytest.raises(StreamInterruptedError) as info:
        await drain(serving(b""))
    assert info.value.chunks_received == 0


async def test_connection_dropped_mid_body_is_interrupted_with_the_count() -> None:
    async def body() -> AsyncIterator[bytes]:
        yield start() + b"".join(text_block(0, "Hel")[:2])
        yield b'event: content_block_delta\ndata: {"type": "content_bl'
        raise httpx.RemoteProtocolError("peer closed connection without sending complete body")

    received: list[LLMStreamChunk] = []
    with pytest.raises(StreamInterruptedError, match="broke mid-way") as info:
        await drain(serving(body()), received)
    assert [c.text for c in received] == ["Hel"]
    assert info.value.chunks_received == 1
    assert KEY not in str(info.value)


async def test_event_that_is_not_json_is_interrupted() -> None:
    body = b"".join([start(), *text_block(0, "a")[:2]]) + b"event: x\ndata: {nope\n\n"
    with pytest.raises(StreamInterruptedError, match="not JSON") as info:
        await drain(serving(body))
    assert info.value.chunks_received == 1


async def test_event_that_is_not_an_object_is_interrupted() -> None:
    # Refused by core's decode_event before the assembler sees it.
    body = b"".join([start(), *text_block(0, "a")[:2]]) + b"event: x\ndata: [1, 2]\n\n"
    with pytest.raises(StreamInterruptedError, match="not a JSON object") as info:
        await drain(serving(body))
    assert info.value.chunks_received == 1


def test_assembler_hands_out_a_call_whose_block_never_stopped() -> None:
    assembler = StreamAssembler("m")
    block = {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}
    assembler.feed({"type": "content_block_start", "index": 0, "content_block": block})
    assembler.feed(
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "input_json_delta", "partial_json": '{"k": 1}'},
        }
    )
    assembler.feed({"type": "message_delta", "delta": {"stop_reason": "tool_use"}})
    assembler.feed({"type": "message_stop"})
    last = assembler.finish()
    assert last.tool_calls == [ToolCall(id="toolu_1", name="f", arguments={"k": 1})]
    assert last.finish_reason == "tool_calls"


def test_assembler_keeps_signed_thinking_for_the_call_it_preceded() -> None:
    assembler = StreamAssembler("m")
    events: list[dict[str, Any]] = [
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "thinking", "thinking": "", "signature": ""},
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "thinking_delta", "thinking": "Use f."},
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "signature_delta", "signature": "SIG"},
        },
        {"type": "content_block_stop", "index": 0},
        {
            "type": "content_block_start",
            "index": 1,
            "content_block": {"type": "redacted_thinking", "data": "opaque"},
        },
        {"type": "content_block_stop", "index": 1},
        {
            "type": "content_block_start",
            "index": 2,
            "content_block": {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}},
        },
        {"type": "content_block_stop", "index": 2},
    ]
    chunks = [chunk for data in events if (chunk := assembler.feed(data)) is not None]
    (call,) = [call for chunk in chunks for call in chunk.tool_calls]
    assert call.provider_data == {
        THINKING_KEY: [
            {"type": "thinking", "thinking": "Use f.", "signature": "SIG"},
            {"type": "redacted_thinking", "data": "opaque"},
        ]
    }


# --- errors inside a 200 -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "cls"),
    [
        ("overloaded_error", RateLimitError),
        ("rate_limit_error", RateLimitError),
        ("api_error", ServerError),
        ("timeout_error", ServerError),
        ("invalid_request_error", BadRequestError),
        ("authentication_error", AuthenticationError),
        ("permission_error", AuthenticationError),
        ("not_found_error", NotFoundError),
        ("request_too_large", ContextLengthError),
        ("an_error_from_the_future", ServerError),
    ],
)
async def test_error_event_gets_the_class_of_its_type(kind: str, cls: type[ProviderError]) -> None:
    error_event = {"type": "error", "error": {"type": kind, "message": "Something broke"}}
    with pytest.raises(ProviderError) as info:
        await drain(serving(b"".join([start(), event(error_event, "error")])))
    error = info.value
    assert type(error) is cls
    # The exchange itself succeeded (HTTP 200): the class says what the type stands for,
    # and no status is claimed that the server did not send.
    assert (error.status_code, error.provider) == (None, "anthropic")
    assert "Something broke" in error.message


async def test_error_event_keeps_the_request_id_and_types_garbage_as_a_server_failure() -> None:
    error_event = {
        "type": "error",
        "error": {"type": "api_error", "message": "Internal"},
        "request_id": "req_9",
    }
    with pytest.raises(ServerError) as info:
        await drain(serving(b"".join([start(), event(error_event, "error")])))
    assert info.value.request_id == "req_9"
    with pytest.raises(ServerError):
        await drain(serving(start() + b"event: error\ndata: garbage\n\n"))
