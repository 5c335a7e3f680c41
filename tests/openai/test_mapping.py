"""Aether contracts to and from the Chat Completions wire format."""

from __future__ import annotations

from typing import Any

import pytest

from aether.errors import BadRequestError, ResponseBlockedError
from aether.http import RAW_ARGUMENTS_KEY
from aether.llm import check_tool_choice
from aether.llm.contracts import LLMRequest, Message, ToolCall, ToolSpec
from aether_openai._mapping import (
    finish_reason_from_wire,
    response_from_wire,
    text_from_wire,
    usage_from_wire,
)
from aether_openai._request import build_payload, message_to_wire, target_of
from aether_openai._tools import tool_choice_to_wire, tool_to_wire
from tests.openai._wire import request_problems

WEATHER = ToolSpec(
    name="get_weather",
    description="Weather for a city.",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}},
)
GPT = target_of("gpt-4o")


def test_system_user_assistant_messages() -> None:
    assert message_to_wire(Message(role="system", content="be brief"), GPT) == {
        "role": "system",
        "content": "be brief",
    }
    assert message_to_wire(Message(role="user", content="hi"), GPT) == {
        "role": "user",
        "content": "hi",
    }
    assert message_to_wire(Message(role="assistant", content="hello"), GPT) == {
        "role": "assistant",
        "content": "hello",
    }


def test_assistant_tool_calls_round_trip_arguments() -> None:
    message = Message(
        role="assistant",
        tool_calls=[
            ToolCall(id="call_1", name="get_weather", arguments={"city": "Zürich"}),
            ToolCall(id="call_2", name="broken", arguments={RAW_ARGUMENTS_KEY: '{"city": '}),
        ],
    )
    assert message_to_wire(message, GPT) == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city":"Zürich"}'},
            },
            {
                "id": "call_2",
                "type": "function",
                "function": {"name": "broken", "arguments": '{"city": '},
            },
        ],
    }


def test_tool_result_message() -> None:
    wire = message_to_wire(
        Message(role="tool", content="21C", tool_call_id="call_1", name="w"), GPT
    )
    assert wire == {"role": "tool", "tool_call_id": "call_1", "content": "21C"}


def test_tool_result_without_id_is_rejected() -> None:
    with pytest.raises(BadRequestError, match="tool_call_id"):
        message_to_wire(Message(role="tool", content="x"), GPT)


def test_tool_definition() -> None:
    assert tool_to_wire(WEATHER) == {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city.",
            "parameters": WEATHER.parameters,
        },
    }
    assert "description" not in tool_to_wire(ToolSpec(name="x"))["function"]


@pytest.mark.parametrize(
    ("choice", "wire"),
    [
        ("auto", "auto"),
        ("none", "none"),
        ("required", "required"),
        ("get_weather", {"type": "function", "function": {"name": "get_weather"}}),
    ],
)
def test_tool_choice(choice: str, wire: Any) -> None:
    assert tool_choice_to_wire(choice) == wire


def full_request(**overrides: Any) -> LLMRequest:
    fields: dict[str, Any] = {
        "messages": [
            Message(role="system", content="sys"),
            Message(role="user", content="weather?"),
            Message(
                role="assistant",
                tool_calls=[ToolCall(id="c1", name="get_weather", arguments={"city": "Oslo"})],
            ),
            Message(role="tool", content="cold", tool_call_id="c1"),
        ],
        "temperature": 0.2,
        "max_tokens": 50,
        "stop": ["END"],
        "tools": [WEATHER],
        "tool_choice": "get_weather",
    }
    fields.update(overrides)
    return LLMRequest(**fields)


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("field", ["max_completion_tokens", "max_tokens"])
def test_payload_is_accepted_by_the_official_types(stream: bool, field: Any) -> None:
    body = build_payload(full_request(), model="gpt-4o", stream=stream, max_tokens_field=field)
    assert request_problems(body) == []
    assert body["model"] == "gpt-4o"
    assert body["temperature"] == 0.2
    assert body[field] == 50
    assert body["stop"] == ["END"]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert len(body["messages"]) == 4
    if stream:
        assert body["stream"] is True
        assert body["stream_options"] == {"include_usage": True}
    else:
        assert "stream" not in body


def test_minimal_payload_omits_unset_fields() -> None:
    body = build_payload(
        LLMRequest(messages=[Message(role="user", content="hi")]), model="m", stream=False
    )
    assert body == {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    assert request_problems(body) == []


@pytest.mark.parametrize("choice", ["auto", "none"])
def test_tool_choice_without_tools_that_needs_none_is_left_out(choice: str) -> None:
    body = build_payload(full_request(tools=[], tool_choice=choice), model="m", stream=False)
    assert "tool_choice" not in body and "tools" not in body


@pytest.mark.parametrize(
    ("tools", "choice"),
    [
        ([], "required"),
        ([], "get_weather"),
        ([WEATHER], "get_forecast"),  # not among the tools: refused here, not by the API
    ],
)
def test_tool_choice_that_cannot_be_honoured_is_refused_by_the_core_check(
    tools: list[ToolSpec], choice: str
) -> None:
    request = full_request(tools=tools, tool_choice=choice)
    with pytest.raises(BadRequestError) as core:
        check_tool_choice(request, provider="openai")
    with pytest.raises(BadRequestError) as info:
        build_payload(request, model="m", stream=False)
    assert info.value.provider == "openai"
    assert info.value.message == core.value.message


@pytest.mark.parametrize(
    ("raw", "calls", "expected"),
    [
        ("stop", False, "stop"),
        ("stop", True, "tool_calls"),  # forced tool_choice answers "stop"
        ("length", False, "length"),
        ("tool_calls", True, "tool_calls"),
        ("function_call", True, "tool_calls"),
        ("content_filter", False, "content_filter"),
        ("eos", False, "other"),
        (None, False, None),
    ],
)
def test_finish_reasons(raw: str | None, calls: bool, expected: str | None) -> None:
    assert finish_reason_from_wire(raw, has_tool_calls=calls) == expected


def test_usage_with_details() -> None:
    assert usage_from_wire(
        {
            "prompt_tokens": 100,
            "completion_tokens": 40,
            "total_tokens": 140,
            "prompt_tokens_details": {"cached_tokens": 64, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 32},
        }
    ) == {
        "input_tokens": 100,
        "output_tokens": 40,
        "cached_input_tokens": 64,
        "reasoning_tokens": 32,
    }
    assert usage_from_wire({"prompt_tokens": 3, "completion_tokens": None}) == {
        "input_tokens": 3,
        "output_tokens": 0,
    }
    assert usage_from_wire(None) == {}


def test_text_from_wire_shapes() -> None:
    assert text_from_wire("a") == "a"
    assert text_from_wire(None) == ""
    assert text_from_wire([{"type": "text", "text": "a"}, {"type": "image"}, {"text": "b"}]) == "ab"


def completion(message: dict[str, Any], finish: str | None = "stop", **extra: Any) -> Any:
    return {
        "id": "chatcmpl-1",
        "model": "gpt-4o-2024",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 2},
        **extra,
    }


def test_response_text() -> None:
    response = response_from_wire(completion({"role": "assistant", "content": "Hi!"}))
    assert response.text == "Hi!"
    assert response.finish_reason == "stop"
    assert (response.model, response.response_id) == ("gpt-4o-2024", "chatcmpl-1")
    assert (response.input_tokens, response.output_tokens) == (5, 2)


def test_response_parallel_tool_calls_and_bad_arguments() -> None:
    response = response_from_wire(
        completion(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "a",
                        "type": "function",
                        "function": {"name": "f", "arguments": '{"x": 1}'},
                    },
                    {"id": "b", "type": "function", "function": {"name": "g", "arguments": "[1]"}},
                    {"type": "function", "function": {"name": "h", "arguments": ""}},
                ],
            },
            finish="tool_calls",
        )
    )
    assert response.text == ""
    assert response.tool_calls == [
        ToolCall(id="a", name="f", arguments={"x": 1}),
        ToolCall(id="b", name="g", arguments={RAW_ARGUMENTS_KEY: "[1]"}),
        ToolCall(id="call_2", name="h", arguments={}),
    ]
    assert response.finish_reason == "tool_calls"


def test_response_refusal_and_reasoning() -> None:
    response = response_from_wire(
        completion(
            {
                "role": "assistant",
                "content": None,
                "refusal": "I can't help with that.",
                "reasoning_content": "thinking...",
            }
        )
    )
    # The refusal is carried apart: text is message.content only (null here).
    assert response.text == ""
    assert response.refusal == "I can't help with that."
    assert response.reasoning_text == "thinking..."


def test_response_text_beside_a_null_refusal() -> None:
    response = response_from_wire(
        completion({"role": "assistant", "content": "Hello", "refusal": None})
    )
    assert response.text == "Hello"
    assert response.refusal is None


def test_only_choice_index_0_is_read() -> None:
    data = completion({"role": "assistant", "content": "zero"})
    zero = data["choices"][0]
    one = {**zero, "index": 1, "message": {"role": "assistant", "content": "one"}}
    data["choices"] = [one, zero]
    assert response_from_wire(data).text == "zero"
    data["choices"] = [one]
    with pytest.raises(ResponseBlockedError) as info:
        response_from_wire(data)
    assert info.value.reason == "no_choices"


def test_response_without_choices() -> None:
    with pytest.raises(ResponseBlockedError) as info:
        response_from_wire({"id": "x", "choices": []})
    assert info.value.reason == "no_choices"
