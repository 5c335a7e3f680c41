"""Prompt caching to Chat Completions: the cache key, explicit breakpoints where the model takes
them, and a one-time warning where a cache mark has no effect."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from aether.errors import ConfigurationError
from aether.llm.contracts import LLMRequest, Message, ToolCall, ToolSpec
from aether.llm.models import ModelTraits
from aether.llm.parts import ContentPart, ImagePart, TextPart
from aether_openai import MODELS
from aether_openai._request import build_payload
from tests.openai._wire import request_problems

MARK = {"mode": "explicit"}
LONG = "Reference text. " * 50


def body(messages: list[Message], model: str, **fields: Any) -> dict[str, Any]:
    payload = build_payload(LLMRequest(messages=messages, **fields), model=model, stream=False)
    assert request_problems(payload) == []
    return payload


def test_the_cache_key_is_prompt_cache_key() -> None:
    sent = body([Message(role="user", content="hi")], "gpt-4o", cache={"key": "tenant-7"})
    assert sent["prompt_cache_key"] == "tenant-7"


def test_a_gemini_cache_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="names a Gemini cache") as info:
        body([Message(role="user", content="hi")], "gpt-4o", cache={"cached_content": "c/1"})
    assert "cache={'key': '...'}" in str(info.value)


def test_a_text_part_cache_mark_is_a_breakpoint_where_the_model_takes_one() -> None:
    parts: list[ContentPart] = [TextPart(text=LONG, cache=True), TextPart(text="Say OK")]
    sent = body([Message(role="user", content=parts)], "gpt-5.6-sol")
    assert sent["messages"][0]["content"] == [
        {"type": "text", "text": LONG, "prompt_cache_breakpoint": MARK},
        {"type": "text", "text": "Say OK"},
    ]


def test_a_marked_system_message_keeps_its_parts_for_the_breakpoint() -> None:
    parts: list[ContentPart] = [TextPart(text=LONG, cache=True), TextPart(text="Be brief.")]
    sent = body(
        [Message(role="system", content=parts), Message(role="user", content="hi")], "gpt-6-sol"
    )
    assert sent["messages"][0]["content"][0]["prompt_cache_breakpoint"] == MARK


def test_a_cache_mark_is_told_once_and_left_out_where_the_model_caches_alone(
    told: Callable[[], list[str]],
) -> None:
    parts: list[ContentPart] = [TextPart(text=LONG, cache=True), TextPart(text="Say OK")]
    for _ in range(3):
        sent = body([Message(role="user", content=parts)], "gpt-4o")
    assert sent["messages"][0]["content"] == [
        {"type": "text", "text": LONG},
        {"type": "text", "text": "Say OK"},
    ]
    (note,) = told()
    assert "'gpt-4o'" in note and "caches prompt prefixes on its own" in note
    system = Message(role="system", content=parts)
    assert body([system], "o3")["messages"][0]["content"] == LONG + "Say OK"
    assert len(told()) == 2  # once per model


def test_an_assistant_cache_mark_is_told_and_left_out(told: Callable[[], list[str]]) -> None:
    assistant = Message(role="assistant", content=[TextPart(text="Earlier.", cache=True)])
    sent = body([Message(role="user", content="hi"), assistant], "gpt-5.6-sol")
    assert sent["messages"][1] == {"role": "assistant", "content": "Earlier."}
    assert "assistant message" in told()[0]


def conversation() -> list[Message]:
    return [
        Message(role="system", content=LONG),
        Message(role="user", content=[TextPart(text="Look:"), ImagePart(url="https://x/a.png")]),
        Message(role="assistant", tool_calls=[ToolCall(id="c1", name="f", arguments={})]),
        Message(role="tool", content="result", tool_call_id="c1"),
        Message(role="assistant", content="Prefill"),
    ]


def test_cache_system_and_messages_are_breakpoints_on_the_model_that_takes_them() -> None:
    sent = body(conversation(), "gpt-5.6-terra", cache={"system": True, "messages": True})
    messages = sent["messages"]
    assert messages[0]["content"] == [
        {"type": "text", "text": LONG, "prompt_cache_breakpoint": MARK}
    ]
    # The last message that can carry one: assistant output takes no breakpoint.
    assert messages[3]["content"] == [
        {"type": "text", "text": "result", "prompt_cache_breakpoint": MARK}
    ]
    assert "prompt_cache_breakpoint" not in messages[1]["content"][-1]
    assert messages[4] == {"role": "assistant", "content": "Prefill"}


def test_cache_messages_marks_the_last_part_of_a_user_message() -> None:
    sent = body(conversation()[:2], "gpt-5.6-sol", cache={"messages": True})
    assert sent["messages"][1]["content"][-1] == {
        "type": "image_url",
        "image_url": {"url": "https://x/a.png"},
        "prompt_cache_breakpoint": MARK,
    }
    assert "prompt_cache_breakpoint" not in str(sent["messages"][0])


def test_cache_tools_is_told_and_left_out(told: Callable[[], list[str]]) -> None:
    tools = [ToolSpec(name="f")]
    sent = body(conversation()[:2], "gpt-5.6-sol", cache={"tools": True}, tools=tools)
    assert "prompt_cache_breakpoint" not in str(sent)
    assert "cache={'tools': True} has no effect" in told()[0]


def test_cache_settings_are_told_once_where_the_model_caches_alone(
    told: Callable[[], list[str]],
) -> None:
    cache: Any = {"system": True, "messages": True, "key": "k"}
    for _ in range(2):
        sent = body(conversation(), "gpt-4.1", cache=cache)
    assert "prompt_cache_breakpoint" not in str(sent)
    assert sent["prompt_cache_key"] == "k"  # the key is still sent
    (note,) = told()
    assert "cache={'system': True, 'messages': True}" in note and "'gpt-4.1'" in note


def test_plain_model_traits_registered_take_no_breakpoint(told: Callable[[], list[str]]) -> None:
    MODELS.register("acme-cache", ModelTraits())
    try:
        parts: list[ContentPart] = [TextPart(text="x", cache=True)]
        sent = body([Message(role="user", content=parts)], "acme-cache-1")
    finally:
        MODELS._rows.pop("acme-cache")
    assert sent["messages"][0]["content"] == [{"type": "text", "text": "x"}]
    assert "OpenAIModelTraits(cache_breakpoints=True)" in told()[0]
