"""Aether messages to Anthropic Messages JSON and Anthropic answers back, unit by unit."""

from __future__ import annotations

from typing import Any

import pytest

from aether.errors import BadRequestError, ConfigurationError
from aether.http import RAW_ARGUMENTS_KEY
from aether.llm import check_tool_choice
from aether.llm.contracts import LLMRequest, Message, ToolCall, ToolSpec
from aether_anthropic._mapping import build_payload, tool_choice_to_wire, tool_to_wire
from aether_anthropic._messages import build_messages
from aether_anthropic._models import claude_traits
from aether_anthropic._response import (
    THINKING_KEY,
    read_content,
    response_from_wire,
    thinking_to_replay,
    tool_call_from_wire,
    usage_from_wire,
)


def user(text: str) -> Message:
    return Message(role="user", content=text)


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "text": value}


def conversation(messages: list[Message]) -> tuple[Any, list[dict[str, Any]]]:
    """``(system, messages)`` of the body, as sent."""
    built = build_messages(messages, model="claude-x", traits=claude_traits("claude-x"))
    return built.system_field(), built.turns


def payload(**request: Any) -> dict[str, Any]:
    request.setdefault("messages", [user("hi")])
    return build_payload(LLMRequest(**request), model="claude-x", max_tokens=4096, stream=False)


# --- messages ------------------------------------------------------------------------------


def test_system_messages_are_hoisted_and_joined() -> None:
    system, messages = conversation(
        [
            Message(role="system", content="Be terse."),
            user("hi"),
            Message(role="system", content="Answer in French."),
            Message(role="assistant", content="salut"),
            user("ok"),
        ]
    )
    assert system == "Be terse.\n\nAnswer in French."
    assert messages == [
        {"role": "user", "content": [text("hi")]},
        {"role": "assistant", "content": [text("salut")]},
        {"role": "user", "content": [text("ok")]},
    ]


def test_no_system_message_means_no_system_field() -> None:
    assert conversation([user("hi")])[0] is None
    assert "system" not in payload()


def test_consecutive_same_role_turns_are_merged_and_empty_ones_dropped() -> None:
    _, messages = conversation(
        [user("a"), user(""), user("b"), Message(role="assistant", content=""), user("c")]
    )
    assert messages == [{"role": "user", "content": [text("a"), text("b"), text("c")]}]


def test_parallel_tool_calls_and_their_results_in_one_user_turn() -> None:
    calls = [
        ToolCall(id="toolu_1", name="weather", arguments={"city": "Paris"}),
        ToolCall(id="toolu_2", name="weather", arguments={"city": "Rome"}),
    ]
    _, messages = conversation(
        [
            user("weather in Paris and Rome?"),
            Message(role="assistant", content="Let me check.", tool_calls=calls),
            Message(role="tool", tool_call_id="toolu_2", content='{"temp": 20}', name="weather"),
            Message(role="tool", tool_call_id="toolu_1", content="sunny"),
            user("and tomorrow?"),
        ]
    )
    assert messages == [
        {"role": "user", "content": [text("weather in Paris and Rome?")]},
        {
            "role": "assistant",
            "content": [
                text("Let me check."),
                {
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "weather",
                    "input": {"city": "Paris"},
                },
                {"type": "tool_use", "id": "toolu_2", "name": "weather", "input": {"city": "Rome"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_2", "content": '{"temp": 20}'},
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"},
                text("and tomorrow?"),
            ],
        },
    ]


def test_tool_results_go_before_text_in_a_merged_user_turn() -> None:
    call = ToolCall(id="toolu_1", name="f")
    _, messages = conversation(
        [
            user("go"),
            Message(role="assistant", tool_calls=[call]),
            user("(the tool may be slow)"),
            Message(role="tool", tool_call_id="toolu_1", content="done"),
        ]
    )
    assert [block["type"] for block in messages[2]["content"]] == ["tool_result", "text"]


def test_a_pure_tool_call_turn_and_an_empty_result() -> None:
    call = ToolCall(id="toolu_1", name="ping")
    _, messages = conversation(
        [
            user("ping"),
            Message(role="assistant", tool_calls=[call]),
            Message(role="tool", tool_call_id="toolu_1"),
        ]
    )
    assert messages[1]["content"] == [
        {"type": "tool_use", "id": "toolu_1", "name": "ping", "input": {}}
    ]
    assert messages[2]["content"] == [{"type": "tool_result", "tool_use_id": "toolu_1"}]


def test_malformed_arguments_go_back_as_kept() -> None:
    call = ToolCall(id="toolu_1", name="f", arguments={RAW_ARGUMENTS_KEY: '{"a": 1'})
    _, messages = conversation([user("x"), Message(role="assistant", tool_calls=[call])])
    assert messages[1]["content"][0]["input"] == {RAW_ARGUMENTS_KEY: '{"a": 1'}


def test_a_tool_message_needs_its_call_id() -> None:
    with pytest.raises(BadRequestError, match="tool_call_id"):
        conversation([user("x"), Message(role="tool", content="42")])


def test_a_prefill_loses_its_trailing_whitespace() -> None:
    _, messages = conversation([user("list"), Message(role="assistant", content="1. \n")])
    assert messages[-1] == {"role": "assistant", "content": [text("1.")]}
    _, only_space = conversation([user("list"), Message(role="assistant", content="  ")])
    assert only_space == [{"role": "user", "content": [text("list")]}]
    # Whitespace inside the conversation is the user's business.
    _, kept = conversation([user("a"), Message(role="assistant", content="b \n"), user("c")])
    assert kept[1]["content"] == [text("b \n")]


def test_kept_thinking_goes_back_in_front_of_its_calls() -> None:
    first = {"type": "thinking", "thinking": "need two calls", "signature": "sig-1"}
    second = {"type": "redacted_thinking", "data": "opaque"}
    calls = [
        ToolCall(id="toolu_1", name="f", provider_data={THINKING_KEY: [first]}),
        ToolCall(id="toolu_2", name="g", provider_data={THINKING_KEY: [second, "not a block"]}),
    ]
    _, messages = conversation(
        [user("x"), Message(role="assistant", content="On it.", tool_calls=calls)]
    )
    assert messages[1]["content"] == [
        first,
        text("On it."),
        {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}},
        second,
        {"type": "tool_use", "id": "toolu_2", "name": "g", "input": {}},
    ]


# --- payload -------------------------------------------------------------------------------


def test_payload_fields() -> None:
    tool = ToolSpec(
        name="add",
        description="Add two integers.",
        parameters={"type": "object", "properties": {"a": {"type": "integer"}}},
    )
    body = payload(
        messages=[Message(role="system", content="Be brief."), user("1+1?")],
        temperature=0.2,
        max_tokens=50,
        stop=["END", "STOP"],
        tools=[tool],
        tool_choice="add",
    )
    assert body == {
        "model": "claude-x",
        "max_tokens": 50,
        "messages": [{"role": "user", "content": [text("1+1?")]}],
        "system": "Be brief.",
        "temperature": 0.2,
        "stop_sequences": ["END", "STOP"],
        "tools": [
            {
                "name": "add",
                "input_schema": {"type": "object", "properties": {"a": {"type": "integer"}}},
                "description": "Add two integers.",
            }
        ],
        "tool_choice": {"type": "tool", "name": "add"},
    }


def test_max_tokens_defaults_and_stream_flag() -> None:
    request = LLMRequest(messages=[user("hi")])
    whole = build_payload(request, model="m", max_tokens=1234, stream=False)
    streamed = build_payload(request, model="m", max_tokens=1234, stream=True)
    assert whole["max_tokens"] == streamed["max_tokens"] == 1234
    assert "stream" not in whole
    assert streamed["stream"] is True
    assert "temperature" not in whole and "stop_sequences" not in whole and "tools" not in whole


def test_a_conversation_without_content_is_refused_before_sending() -> None:
    with pytest.raises(BadRequestError, match="non-system message"):
        payload(messages=[Message(role="system", content="only rules")])


def test_tool_without_description() -> None:
    assert tool_to_wire(ToolSpec(name="now")) == {
        "name": "now",
        "input_schema": {"type": "object", "properties": {}},
    }


def test_a_strict_tool_asks_for_strict_inputs() -> None:
    schema = {"type": "object", "properties": {}, "additionalProperties": False}
    assert tool_to_wire(ToolSpec(name="now", parameters=schema, strict=True)) == {
        "name": "now",
        "input_schema": schema,
        "strict": True,
    }


def test_a_strict_tools_schema_is_rewritten_to_what_the_grammar_takes() -> None:
    loose = {
        "type": "object",
        "properties": {"n": {"type": "integer", "minimum": 1}},
        "required": ["n"],
    }
    strict = tool_to_wire(ToolSpec(name="pick", parameters=loose, strict=True))["input_schema"]
    assert strict == {
        "type": "object",
        "properties": {"n": {"type": "integer", "description": "{minimum: 1}"}},
        "required": ["n"],
        "additionalProperties": False,
    }
    assert tool_to_wire(ToolSpec(name="pick", parameters=loose))["input_schema"] == loose
    free = {"type": "object", "properties": {"meta": {"type": "object"}}}
    with pytest.raises(ConfigurationError, match=r"strict tool 'tag'.*strict=False"):
        tool_to_wire(ToolSpec(name="tag", parameters=free, strict=True))


TOOLS = [ToolSpec(name="search"), ToolSpec(name="fetch"), ToolSpec(name="delete")]


def test_allowed_tools_sends_only_those_in_declared_order() -> None:
    body = payload(tools=TOOLS, allowed_tools=["delete", "search"], tool_choice="required")
    assert [tool["name"] for tool in body["tools"]] == ["search", "delete"]
    assert body["tool_choice"] == {"type": "any"}
    named = payload(tools=TOOLS, allowed_tools=["fetch"], tool_choice="fetch")
    assert named["tool_choice"] == {"type": "tool", "name": "fetch"}
    everything = payload(tools=TOOLS, allowed_tools=None)
    assert len(everything["tools"]) == 3


def test_allowing_no_tool_keeps_them_declared_and_chooses_none() -> None:
    # Earlier calls in the conversation stay valid: the tools are there, none may be called.
    body = payload(tools=TOOLS, allowed_tools=[])
    assert len(body["tools"]) == 3
    assert body["tool_choice"] == {"type": "none"}


@pytest.mark.parametrize(
    ("allowed", "choice", "error"),
    [
        (["search", "drop"], None, "allowed_tools names 'drop', not among"),
        (["search"], "fetch", "tool_choice names 'fetch', which allowed_tools"),
        ([], "required", r"allowed_tools=\[\] allows no tool"),
    ],
)
def test_allowed_tools_that_cannot_be_honoured_are_refused(
    allowed: list[str], choice: str | None, error: str
) -> None:
    with pytest.raises(BadRequestError, match=error):
        payload(tools=TOOLS, allowed_tools=allowed, tool_choice=choice)


@pytest.mark.parametrize(
    ("choice", "wire"),
    [
        ("auto", {"type": "auto"}),
        ("required", {"type": "any"}),
        ("none", {"type": "none"}),
        ("add", {"type": "tool", "name": "add"}),
        (None, None),
    ],
)
def test_tool_choice(choice: str | None, wire: dict[str, Any] | None) -> None:
    assert tool_choice_to_wire(choice, [ToolSpec(name="add")]) == wire


@pytest.mark.parametrize("choice", ["auto", "none"])
def test_tool_choice_without_tools_that_needs_none_is_left_out(choice: str) -> None:
    assert tool_choice_to_wire(choice, []) is None
    body = payload(tool_choice=choice)
    assert "tool_choice" not in body and "tools" not in body


@pytest.mark.parametrize(
    ("tools", "choice"),
    [
        ([], "required"),
        ([], "add"),
        ([ToolSpec(name="add")], "sub"),
    ],
)
def test_tool_choice_that_cannot_be_honoured_is_refused_by_the_core_check(
    tools: list[ToolSpec], choice: str
) -> None:
    request = LLMRequest(messages=[user("hi")], tools=tools, tool_choice=choice)
    with pytest.raises(BadRequestError) as core:
        check_tool_choice(request, provider="anthropic")
    with pytest.raises(BadRequestError) as info:
        payload(tools=tools, tool_choice=choice)
    assert info.value.provider == "anthropic"
    assert info.value.message == core.value.message


# --- answers -------------------------------------------------------------------------------


def test_usage_counts_cached_prompt_tokens_as_input() -> None:
    usage = usage_from_wire(
        {
            "input_tokens": 5,
            "cache_read_input_tokens": 100,
            "cache_creation_input_tokens": 40,
            "cache_creation": {"ephemeral_5m_input_tokens": 40},
            "output_tokens": 30,
            "output_tokens_details": {"thinking_tokens": 12},
            "service_tier": "standard",
        }
    )
    assert usage == {
        "input_tokens": 145,
        "output_tokens": 30,
        "cached_input_tokens": 100,
        "cache_write_tokens": 40,
        "reasoning_tokens": 12,
    }


@pytest.mark.parametrize("raw", [None, "12", [], {"input_tokens": None, "output_tokens": True}])
def test_usage_that_is_missing_or_odd_counts_zero(raw: Any) -> None:
    assert set(usage_from_wire(raw).values()) == {0}


def test_content_blocks_split_into_text_reasoning_and_calls() -> None:
    signed = {"type": "thinking", "thinking": "Two lookups.", "signature": "sig"}
    content = read_content(
        [
            signed,
            {"type": "redacted_thinking", "data": "opaque"},
            text("Looking "),
            {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {}},
            {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": []},
            text("it up."),
            {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"x": 1}},
            {"type": "thinking", "thinking": " Then g.", "signature": "sig-2"},
            {"type": "tool_use", "id": "toolu_2", "name": "g", "input": {}},
            {"type": "a_block_from_the_future"},
            "not a block",
        ]
    )
    assert content.text == "Looking it up."
    assert content.reasoning_text == "Two lookups. Then g."
    # Each call carries the signed thinking written just before it, to be sent back with it.
    assert content.tool_calls == [
        ToolCall(
            id="toolu_1",
            name="f",
            arguments={"x": 1},
            provider_data={THINKING_KEY: [signed, {"type": "redacted_thinking", "data": "opaque"}]},
        ),
        ToolCall(
            id="toolu_2",
            name="g",
            arguments={},
            provider_data={
                THINKING_KEY: [{"type": "thinking", "thinking": " Then g.", "signature": "sig-2"}]
            },
        ),
    ]


def test_unsigned_thinking_is_not_kept_for_replay() -> None:
    assert thinking_to_replay({"type": "thinking", "thinking": "hm", "signature": ""}) is None
    assert thinking_to_replay({"type": "redacted_thinking"}) is None
    assert read_content([{"type": "thinking", "thinking": "hm"}]).reasoning_text == "hm"


@pytest.mark.parametrize(
    ("arguments", "parsed"),
    [
        ({"a": 1}, {"a": 1}),
        ('{"a": 1}', {"a": 1}),
        ("", {}),
        (None, {}),
        ('{"a": 1', {RAW_ARGUMENTS_KEY: '{"a": 1'}),
        ("[1, 2]", {RAW_ARGUMENTS_KEY: "[1, 2]"}),
        ([1, 2], {RAW_ARGUMENTS_KEY: "[1, 2]"}),
    ],
)
def test_tool_call_arguments(arguments: Any, parsed: dict[str, Any]) -> None:
    assert tool_call_from_wire("toolu_1", "f", arguments).arguments == parsed


def test_tool_call_without_an_id_gets_one_by_position() -> None:
    call = tool_call_from_wire(None, None, {}, position=3)
    assert (call.id, call.name) == ("toolu_3", "")


def test_whole_response() -> None:
    body = {
        "id": "msg_1",
        "model": "claude-answered",
        "content": [text("Hi"), {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}],
        "stop_reason": "tool_use",
        "usage": {"input_tokens": 3, "cache_read_input_tokens": 2, "output_tokens": 4},
    }
    response = response_from_wire(body, model="claude-asked")
    assert (response.text, response.finish_reason) == ("Hi", "tool_calls")
    assert (response.model, response.response_id) == ("claude-answered", "msg_1")
    assert (response.input_tokens, response.cached_input_tokens, response.output_tokens) == (
        5,
        2,
        4,
    )
    assert response.tool_calls == [ToolCall(id="toolu_1", name="f", arguments={})]
    bare = response_from_wire({"content": [], "stop_reason": None}, model="claude-asked")
    assert (bare.text, bare.model, bare.response_id, bare.finish_reason) == (
        "",
        "claude-asked",
        None,
        None,
    )
