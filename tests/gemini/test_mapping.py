"""Aether messages to Gemini ``contents`` and Gemini responses back, unit by unit."""

from __future__ import annotations

from typing import Any

import pytest

from aether.errors import BadRequestError, ResponseBlockedError
from aether.http import RAW_ARGUMENTS_KEY
from aether.llm import check_tool_choice
from aether.llm.contracts import LLMRequest, Message, ToolCall, ToolSpec
from aether_gemini._contents import build_contents as _build_contents
from aether_gemini._mapping import (
    finish_reason,
    new_call_id,
    raise_if_prompt_blocked,
    read_candidate,
    retry_delay,
    usage,
)
from aether_gemini._models import traits_for
from aether_gemini._request import build_payload as _build_payload
from aether_gemini._schema import DeclarationCache

MODEL = "gemini-2.5-flash"


def user(text: str) -> Message:
    return Message(role="user", content=text)


def build_contents(messages: list[Message]) -> tuple[list[dict[str, Any]], Any]:
    return _build_contents(messages, MODEL, traits_for(MODEL))


def build_payload(request: LLMRequest, model: str = MODEL) -> dict[str, Any]:
    return _build_payload(request, model, DeclarationCache())


def test_system_messages_are_joined_into_system_instruction() -> None:
    contents, instruction = build_contents(
        [
            Message(role="system", content="Be terse."),
            user("hi"),
            Message(role="system", content="Answer in French."),
            Message(role="assistant", content="salut"),
        ],
    )
    assert instruction == {"parts": [{"text": "Be terse.\n\nAnswer in French."}]}
    assert contents == [
        {"role": "user", "parts": [{"text": "hi"}]},
        {"role": "model", "parts": [{"text": "salut"}]},
    ]


def test_consecutive_same_role_turns_are_merged_and_empty_ones_skipped() -> None:
    contents, instruction = build_contents(
        [user("a"), user("b"), Message(role="assistant", content=""), user("c")]
    )
    assert instruction is None
    assert contents == [{"role": "user", "parts": [{"text": "a"}, {"text": "b"}, {"text": "c"}]}]


def test_tool_round_trip_goes_in_one_user_turn_in_call_order() -> None:
    synthetic = new_call_id()
    messages = [
        user("weather in Paris and Rome?"),
        Message(
            role="assistant",
            content="Let me check.",
            tool_calls=[
                ToolCall(id=synthetic, name="weather", arguments={"city": "Paris"}),
                ToolCall(
                    id="g-2",
                    name="weather",
                    arguments={"city": "Rome"},
                    provider_data={"thoughtSignature": "sig-2"},
                ),
            ],
        ),
        # Results arrive out of order (parallel dispatch), one as JSON, one as plain text.
        Message(role="tool", tool_call_id="g-2", content='{"temp": 20}'),
        Message(role="tool", tool_call_id=synthetic, content="sunny"),
        user("thanks"),
    ]
    contents, _ = build_contents(messages)
    assert contents[1] == {
        "role": "model",
        "parts": [
            {"text": "Let me check."},
            # Made-up ids stay on our side; Gemini's own ids (and signatures) go back.
            {"functionCall": {"name": "weather", "args": {"city": "Paris"}}},
            {
                "functionCall": {"name": "weather", "args": {"city": "Rome"}, "id": "g-2"},
                "thoughtSignature": "sig-2",
            },
        ],
    }
    assert contents[2] == {
        "role": "user",
        "parts": [
            {"functionResponse": {"name": "weather", "response": {"result": "sunny"}}},
            {"functionResponse": {"name": "weather", "response": {"temp": 20}, "id": "g-2"}},
            {"text": "thanks"},
        ],
    }
    assert len(contents) == 3


def test_tool_message_name_wins_and_unknown_calls_need_a_name() -> None:
    contents, _ = build_contents(
        [user("x"), Message(role="tool", tool_call_id="nope", name="lookup", content="[1, 2]")]
    )
    assert contents[0]["parts"][1] == {
        "functionResponse": {"name": "lookup", "response": {"result": "[1, 2]"}, "id": "nope"}
    }
    with pytest.raises(BadRequestError, match="tool_call_id='nope'"):
        build_contents([user("x"), Message(role="tool", tool_call_id="nope", content="1")])


def _payload(model: str = MODEL, **kwargs: Any) -> dict[str, Any]:
    request = LLMRequest(messages=[user("hi")], **kwargs)
    return build_payload(request, model)


def test_generation_config_and_tools_in_the_openapi_subset_for_gemini_2_0() -> None:
    tool = ToolSpec(
        name="add",
        description="Add",
        parameters={
            "type": "object",
            "title": "AddArgs",
            "properties": {"a": {"type": "integer", "title": "A"}},
            "required": ["a"],
        },
    )
    payload = _payload(
        "gemini-2.0-flash", temperature=0.2, max_tokens=50, stop=["END"], tools=[tool]
    )
    assert payload["generationConfig"] == {
        "temperature": 0.2,
        "maxOutputTokens": 50,
        "stopSequences": ["END"],
    }
    assert payload["tools"] == [
        {
            "functionDeclarations": [
                {
                    "name": "add",
                    "description": "Add",
                    "parameters": {
                        "type": "object",
                        "properties": {"a": {"type": "integer"}},
                        "required": ["a"],
                    },
                }
            ]
        }
    ]
    assert "toolConfig" not in payload
    assert "generationConfig" not in _payload()


@pytest.mark.parametrize(
    ("choice", "config"),
    [
        ("auto", {"mode": "AUTO"}),
        ("none", {"mode": "NONE"}),
        ("required", {"mode": "ANY"}),
        ("add", {"mode": "ANY", "allowedFunctionNames": ["add"]}),
    ],
)
def test_tool_choice(choice: str, config: dict[str, Any]) -> None:
    payload = _payload(tools=[ToolSpec(name="add")], tool_choice=choice)
    assert payload["toolConfig"] == {"functionCallingConfig": config}


@pytest.mark.parametrize("choice", ["auto", "none"])
def test_tool_choice_that_needs_no_tools_is_fine_without_them(choice: str) -> None:
    assert "tools" not in _payload(tool_choice=choice)


@pytest.mark.parametrize(
    ("tools", "choice"),
    [
        ([], "required"),  # would be mode ANY with nothing to call
        ([], "add"),
        ([ToolSpec(name="add")], "sub"),
    ],
)
def test_tool_choice_that_cannot_be_honoured_is_refused_by_the_core_check(
    tools: list[ToolSpec], choice: str
) -> None:
    request = LLMRequest(messages=[user("hi")], tools=tools, tool_choice=choice)
    with pytest.raises(BadRequestError) as core:
        check_tool_choice(request, provider="gemini")
    with pytest.raises(BadRequestError) as info:
        build_payload(request)
    assert info.value.provider == "gemini"
    assert info.value.message == core.value.message


def test_a_conversation_of_only_system_messages_is_rejected() -> None:
    request = LLMRequest(messages=[Message(role="system", content="x")])
    with pytest.raises(BadRequestError, match="no user or assistant content"):
        build_payload(request)


def test_read_candidate_splits_thoughts_and_gives_unique_ids() -> None:
    body = {
        "candidates": [
            {
                "content": {
                    "role": "model",
                    "parts": [
                        {"text": "planning...", "thought": True},
                        {"text": "Sure. "},
                        {"functionCall": {"name": "f", "args": {"n": 1}}},
                        {"functionCall": {"name": "f", "args": {"n": 1}}},
                        {"functionCall": {"name": "g", "id": "abc"}, "thoughtSignature": "s"},
                        {"functionCall": {"name": "h", "args": [1]}},
                    ],
                },
                "finishReason": "STOP",
            }
        ]
    }
    candidate = read_candidate(body)
    assert candidate.text == "Sure. "
    assert candidate.reasoning_text == "planning..."
    ids = [call.id for call in candidate.tool_calls]
    assert len(set(ids)) == 4
    assert ids[2] == "abc"
    assert candidate.tool_calls[2].arguments == {}
    assert candidate.tool_calls[3].arguments == {RAW_ARGUMENTS_KEY: "[1]"}
    # The signature rides on its own call, nowhere else.
    assert [c.provider_data for c in candidate.tool_calls] == [
        {},
        {},
        {"thoughtSignature": "s"},
        {},
    ]
    assert candidate.finish_raw == "STOP"
    assert read_candidate({}).tool_calls == []


@pytest.mark.parametrize(
    ("raw", "calls", "expected"),
    [
        ("STOP", False, "stop"),
        ("MAX_TOKENS", False, "length"),
        ("SAFETY", False, "content_filter"),
        ("RECITATION", False, "content_filter"),
        ("BLOCKLIST", False, "content_filter"),
        ("PROHIBITED_CONTENT", False, "content_filter"),
        ("SPII", False, "content_filter"),
        ("MALFORMED_FUNCTION_CALL", False, "other"),
        ("OTHER", False, "other"),
        ("STOP", True, "tool_calls"),
        (None, False, None),
    ],
)
def test_finish_reason(raw: str | None, calls: bool, expected: str | None) -> None:
    assert finish_reason(raw, has_tool_calls=calls) == expected


def test_usage_counts_thoughts_as_output() -> None:
    metadata = {
        "promptTokenCount": 100,
        "candidatesTokenCount": 20,
        "thoughtsTokenCount": 30,
        "cachedContentTokenCount": 60,
        "totalTokenCount": 150,
    }
    assert usage(metadata) == {
        "input_tokens": 100,
        "output_tokens": 50,
        "reasoning_tokens": 30,
        "cached_input_tokens": 60,
    }
    assert usage(None)["output_tokens"] == 0


def _rate_limited(delay: Any) -> dict[str, Any]:
    return {
        "error": {
            "code": 429,
            "status": "RESOURCE_EXHAUSTED",
            "details": [
                {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": []},
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay},
            ],
        }
    }


@pytest.mark.parametrize(
    ("delay", "seconds"),
    [
        ("12s", 12.0),
        ("1.5s", 1.5),
        ({"seconds": 3, "nanos": 500000000}, 3.5),
        ("soon", None),
        ("-1s", None),
        ("nans", None),
    ],
)
def test_retry_delay_from_body(delay: Any, seconds: float | None) -> None:
    assert retry_delay(_rate_limited(delay)) == seconds
    assert retry_delay([_rate_limited(delay)]) == seconds


def test_retry_delay_absent() -> None:
    assert retry_delay({"error": {"code": 429}}) is None
    assert retry_delay(None) is None


def test_prompt_block_raises_with_reason() -> None:
    raise_if_prompt_blocked({"promptFeedback": {}})
    with pytest.raises(ResponseBlockedError, match=r"PROHIBITED_CONTENT.*not allowed") as info:
        raise_if_prompt_blocked(
            {
                "promptFeedback": {
                    "blockReason": "PROHIBITED_CONTENT",
                    "blockReasonMessage": "not allowed",
                }
            }
        )
    assert info.value.reason == "PROHIBITED_CONTENT"
