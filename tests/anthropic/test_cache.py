"""Prompt-cache breakpoints, and where system messages go (a cache concern: the prefix)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from aether.config import forget_warnings
from aether.errors import ConfigurationError
from aether.llm.contracts import LLMRequest, Message, ToolCall, ToolSpec
from aether.llm.parts import ContentPart, ImagePart, TextPart
from aether_anthropic._mapping import build_payload

EPHEMERAL = {"type": "ephemeral"}


def body(messages: list[Message], model: str = "claude-sonnet-4-5", **fields: Any) -> Any:
    request = LLMRequest(messages=messages, **fields)
    return build_payload(request, model=model, max_tokens=4096, stream=False)


def user(*parts: TextPart | ImagePart | str) -> Message:
    content: list[ContentPart] = [
        TextPart(text=part) if isinstance(part, str) else part for part in parts
    ]
    return Message(role="user", content=content)


def system(text: str) -> Message:
    return Message(role="system", content=text)


def marked(sent: dict[str, Any]) -> int:
    """How many blocks of the body carry cache_control."""

    def count(node: Any) -> int:
        if isinstance(node, list):
            return sum(map(count, node))
        if isinstance(node, dict):
            return ("cache_control" in node) + sum(map(count, node.values()))
        return 0

    return count(sent)


def test_a_text_part_marks_its_own_block() -> None:
    sent = body([user(TextPart(text="long manual", cache=True), "question")])
    assert sent["messages"][0]["content"] == [
        {"type": "text", "text": "long manual", "cache_control": EPHEMERAL},
        {"type": "text", "text": "question"},
    ]


def test_system_is_a_string_until_a_breakpoint_needs_blocks() -> None:
    rules = [system("Be terse."), system("Answer in French."), user("hi")]
    assert body(rules)["system"] == "Be terse.\n\nAnswer in French."
    assert body(rules, cache={"system": True})["system"] == [
        {"type": "text", "text": "Be terse."},
        {"type": "text", "text": "Answer in French.", "cache_control": EPHEMERAL},
    ]
    cached_part = Message(role="system", content=[TextPart(text="Rules.", cache=True)])
    assert body([cached_part, user("hi")])["system"] == [
        {"type": "text", "text": "Rules.", "cache_control": EPHEMERAL}
    ]


def test_cache_tools_marks_the_last_tool_sent() -> None:
    tools = [ToolSpec(name="a"), ToolSpec(name="b"), ToolSpec(name="c")]
    sent = body([user("hi")], tools=tools, cache={"tools": True})
    assert [("cache_control" in tool) for tool in sent["tools"]] == [False, False, True]
    only = body([user("hi")], tools=tools, allowed_tools=["a", "b"], cache={"tools": True})
    assert [tool.get("cache_control") for tool in only["tools"]] == [None, EPHEMERAL]


def test_cache_messages_marks_the_last_block_of_the_last_message() -> None:
    sent = body(
        [user("a"), Message(role="assistant", content="b"), user("c", ImagePart(file_id="f"))],
        cache={"messages": True},
    )
    assert sent["messages"][-1]["content"][-1] == {
        "type": "image",
        "source": {"type": "file", "file_id": "f"},
        "cache_control": EPHEMERAL,
    }
    assert marked(sent) == 1


def test_cache_messages_after_tool_results_marks_the_last_result() -> None:
    call = ToolCall(id="toolu_1", name="f")
    sent = body(
        [
            user("go"),
            Message(role="assistant", tool_calls=[call]),
            Message(role="tool", tool_call_id="toolu_1", content="ok"),
        ],
        cache={"messages": True},
    )
    assert sent["messages"][-1]["content"] == [
        {
            "type": "tool_result",
            "tool_use_id": "toolu_1",
            "content": "ok",
            "cache_control": EPHEMERAL,
        }
    ]


def test_settings_with_nothing_to_mark_mark_nothing() -> None:
    sent = body([user("hi")], cache={"system": True, "tools": True})
    assert marked(sent) == 0
    assert "system" not in sent and "tools" not in sent


def test_a_part_already_marked_is_not_marked_twice() -> None:
    sent = body([user(TextPart(text="x", cache=True))], cache={"messages": True})
    assert marked(sent) == 1


def test_all_four_at_once_and_a_fifth_is_refused() -> None:
    messages = [system("rules"), user(TextPart(text="doc", cache=True), "ask")]
    everything: Any = {"system": True, "tools": True, "messages": True}
    sent = body(messages, tools=[ToolSpec(name="t")], cache=everything)
    assert marked(sent) == 4
    messages[1] = user(TextPart(text="doc", cache=True), TextPart(text="more", cache=True), "ask")
    with pytest.raises(
        ConfigurationError,
        match=r"at most 4 cache breakpoints.*marks 5: tools\[0\], system\[0\], messages\[0\]",
    ):
        body(messages, tools=[ToolSpec(name="t")], cache=everything)


def test_marks_inside_a_tool_result_count() -> None:
    call = ToolCall(id="toolu_1", name="f")
    result = Message(
        role="tool",
        tool_call_id="toolu_1",
        content=[TextPart(text=str(i), cache=True) for i in range(5)],
    )
    with pytest.raises(ConfigurationError, match=r"messages\[2\]\.content\[0\]\.content\[4\]"):
        body([user("go"), Message(role="assistant", tool_calls=[call]), result])


def test_other_providers_cache_settings_are_said_once_and_not_sent(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    forget_warnings()
    with caplog.at_level(logging.WARNING, logger="aether.anthropic"):
        for _ in range(2):
            sent = body(
                [user("hi")], cache={"key": "tenant-1", "cached_content": "cachedContents/x"}
            )
            assert marked(sent) == 0 and "key" not in str(sent)
    said = [record.getMessage() for record in caplog.records]
    assert len(said) == 2
    assert "OpenAI's prompt_cache_key" in said[0] and "Gemini's cachedContent" in said[1]


# --- system messages mid-conversation ------------------------------------------------------


def test_later_system_messages_join_the_prompt_on_most_models() -> None:
    sent = body([system("A."), user("hi"), system("B.")])
    assert sent["system"] == "A.\n\nB."
    assert [turn["role"] for turn in sent["messages"]] == ["user"]


def test_opus_4_8_takes_them_in_place_so_the_cached_prefix_stays() -> None:
    sent = body(
        [
            system("A."),
            user("hi"),
            Message(role="assistant", content="yo"),
            system("B."),
            system("C."),
            user("next"),
        ],
        model="claude-opus-4-8",
        cache={"messages": True},
    )
    assert sent["system"] == "A."
    assert sent["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "hi"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "yo"}]},
        {
            "role": "system",
            "content": [{"type": "text", "text": "B."}, {"type": "text", "text": "C."}],
        },
        {"role": "user", "content": [{"type": "text", "text": "next", "cache_control": EPHEMERAL}]},
    ]
