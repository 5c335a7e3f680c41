"""Prompts, answers and tool data are recorded only when asked (the conventions' opt-in)."""

from __future__ import annotations

import json

import pytest
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai

import aether_otel
from aether import Aether, ProviderConfig
from aether.llm.contracts import Message
from tests.otel._server import OpenAIServer
from tests.otel.conftest import Recorded

CONTENT_ATTRIBUTES = {
    gen_ai.GEN_AI_INPUT_MESSAGES,
    gen_ai.GEN_AI_OUTPUT_MESSAGES,
    gen_ai.GEN_AI_SYSTEM_INSTRUCTIONS,
    gen_ai.GEN_AI_TOOL_DEFINITIONS,
    gen_ai.GEN_AI_TOOL_CALL_ARGUMENTS,
    gen_ai.GEN_AI_TOOL_CALL_RESULT,
}
PROMPT = [Message(role="system", content="Be brief."), Message(role="user", content="weather?")]


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


async def _tool_round(server: OpenAIServer) -> None:
    config = ProviderConfig(
        provider="openai", base_url=server.base_url, api_key="k", model="weather"
    )
    async with Aether(config=config) as client:
        await client.ask(PROMPT, tools=[get_weather])


def _recorded_text(recorded: Recorded) -> str:
    return " ".join(
        str(value) for span in recorded.spans() for value in (span.attributes or {}).values()
    )


async def test_content_is_off_by_default(recorded: Recorded, server: OpenAIServer) -> None:
    await _tool_round(server)
    for span in recorded.spans():
        assert not CONTENT_ATTRIBUTES & set(span.attributes or {}), span.name
    text = _recorded_text(recorded)
    for words in ("Be brief", "weather?", "sunny in Paris", '"city"'):
        assert words not in text


@pytest.mark.parametrize("how", ["argument", "environment"])
async def test_content_is_recorded_when_asked(
    recorded: Recorded, server: OpenAIServer, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    if how == "argument":
        options = {"capture_content": True}
    else:
        monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
        options = {}
    aether_otel.instrument(
        tracer_provider=recorded.tracer_provider,
        meter_provider=recorded.meter_provider,
        **options,  # type: ignore[arg-type]
    )
    await _tool_round(server)
    first, last = recorded.named("chat")
    attrs = first.attributes or {}
    assert json.loads(str(attrs[gen_ai.GEN_AI_SYSTEM_INSTRUCTIONS])) == [
        {"type": "text", "content": "Be brief."}
    ]
    assert json.loads(str(attrs[gen_ai.GEN_AI_INPUT_MESSAGES])) == [
        {"role": "user", "parts": [{"type": "text", "content": "weather?"}]}
    ]
    assert json.loads(str(attrs[gen_ai.GEN_AI_OUTPUT_MESSAGES])) == [
        {
            "role": "assistant",
            "parts": [
                {
                    "type": "tool_call",
                    "id": "call_w",
                    "name": "get_weather",
                    "arguments": {"city": "Paris"},
                }
            ],
            "finish_reason": "tool_calls",
        }
    ]
    [definition] = json.loads(str(attrs[gen_ai.GEN_AI_TOOL_DEFINITIONS]))
    assert definition["name"] == "get_weather" and definition["type"] == "function"
    later = json.loads(str((last.attributes or {})[gen_ai.GEN_AI_INPUT_MESSAGES]))
    assert later[-1] == {
        "role": "tool",
        "parts": [{"type": "tool_call_response", "id": "call_w", "response": "sunny in Paris"}],
    }
    assert json.loads(str((last.attributes or {})[gen_ai.GEN_AI_OUTPUT_MESSAGES]))[0]["parts"] == [
        {"type": "text", "content": "Answer: sunny in Paris"}
    ]
    tool = recorded.one("execute_tool").attributes or {}
    assert json.loads(str(tool[gen_ai.GEN_AI_TOOL_CALL_ARGUMENTS])) == {"city": "Paris"}
    assert tool[gen_ai.GEN_AI_TOOL_CALL_RESULT] == "sunny in Paris"


async def test_a_streamed_answer_is_recorded_whole(
    recorded: Recorded, server: OpenAIServer
) -> None:
    aether_otel.instrument(
        tracer_provider=recorded.tracer_provider,
        meter_provider=recorded.meter_provider,
        capture_content=True,
    )
    config = ProviderConfig(provider="openai", base_url=server.base_url, api_key="k", model="text")
    async with Aether(config=config) as client:
        assert "".join([p async for p in client.stream_text("hi")]) == "Hello there"
    output = json.loads(str((recorded.one("chat").attributes or {})[gen_ai.GEN_AI_OUTPUT_MESSAGES]))
    assert output == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "Hello there"}],
            "finish_reason": "stop",
        }
    ]
