"""Tools that return content parts: the parts reach a provider that takes them in a tool
result, and a note takes their place for one that does not, without an error mid-loop.

The three bundled providers run over ``httpx.MockTransport``: the first answer calls the tool,
the second is text, and the body of the second request is what the tool's result became.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from aether.events import TOOL_COMPLETE, EventBus, ToolComplete
from aether.extensions.llm.fake import FakeProvider
from aether.llm import ProviderCapabilities
from aether.llm.contracts import LLMProvider, LLMRequest, Message, ToolCall
from aether.llm.parts import AudioPart, DocumentPart, ImagePart, TextPart, VideoPart
from aether.tools import Tool, dispatch_tool, make_tool, run_tool_loop, stream_tool_loop
from aether_anthropic import AnthropicProvider
from aether_gemini import GeminiProvider
from aether_openai import OpenAIProvider
from tests.tools.test_loop import BOTH_LOOPS, answer, calls

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(24))
IMAGE = ImagePart(data=PNG, media_type="image/png")
NOTE = "[image (image/png, 32 bytes) not shown: it cannot be sent in a tool result here]"


def snapshot() -> ImagePart:
    """Take a screenshot."""
    return IMAGE


def captioned() -> list[Any]:
    """A caption, the image and a count."""
    return ["Two shots:", IMAGE, {"count": 1}]


# --- the providers over a mock transport -----------------------------------------------------

Bodies = list[dict[str, Any]]


def _scripted(first: dict[str, Any], second: dict[str, Any], bodies: Bodies) -> httpx.AsyncClient:
    answers = [first, second]

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(200, json=answers[len(bodies) - 1])

    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


def anthropic(bodies: Bodies) -> AnthropicProvider:
    def message(content: list[dict[str, Any]], stop: str) -> dict[str, Any]:
        return {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-5",
            "content": content,
            "stop_reason": stop,
            "usage": {"input_tokens": 3, "output_tokens": 2},
        }

    call = {"type": "tool_use", "id": "toolu_1", "name": "snapshot", "input": {}}
    text = {"type": "text", "text": "A chart."}
    client = _scripted(message([call], "tool_use"), message([text], "end_turn"), bodies)
    return AnthropicProvider(api_key="sk-ant-test", http_client=client)


def gemini(bodies: Bodies) -> GeminiProvider:
    def reply(part: dict[str, Any]) -> dict[str, Any]:
        return {
            "candidates": [{"content": {"role": "model", "parts": [part]}, "finishReason": "STOP"}],
            "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 2},
        }

    call = {"functionCall": {"id": "fc_1", "name": "snapshot", "args": {}}}
    client = _scripted(reply(call), reply({"text": "A chart."}), bodies)
    return GeminiProvider(api_key="gm-test", http_client=client)


def openai(bodies: Bodies) -> OpenAIProvider:
    def reply(message: dict[str, Any], finish: str) -> dict[str, Any]:
        choice = {"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish}
        return {"id": "chatcmpl-1", "model": "gpt-4o", "choices": [choice]}

    call = {"id": "call_1", "type": "function", "function": {"name": "snapshot", "arguments": "{}"}}
    first = reply({"content": None, "tool_calls": [call]}, "tool_calls")
    client = _scripted(first, reply({"content": "A chart."}, "stop"), bodies)
    return OpenAIProvider(api_key="sk-test", http_client=client)


async def ask_with(provider: LLMProvider, model: str, tool: Tool) -> str:
    request = LLMRequest(
        model=model,
        messages=[Message(role="user", content="What does the screen show?")],
        tools=[tool.spec],
    )
    answer = await run_tool_loop(provider, request, [tool], events=EventBus(), max_iterations=2)
    return answer.text


async def test_anthropic_gets_the_image_inside_the_tool_result() -> None:
    bodies: Bodies = []
    assert await ask_with(anthropic(bodies), "claude-sonnet-4-5", make_tool(snapshot)) == "A chart."
    result = bodies[1]["messages"][-1]["content"][0]
    assert result["type"] == "tool_result" and result["tool_use_id"] == "toolu_1"
    assert result["content"] == [
        {
            "type": "image",
            "source": {
                "type": "base64",
                "media_type": "image/png",
                "data": base64.b64encode(PNG).decode(),
            },
        }
    ]


async def test_gemini_gets_the_image_as_inline_data_after_the_function_response() -> None:
    bodies: Bodies = []
    assert await ask_with(gemini(bodies), "gemini-2.5-flash", make_tool(snapshot)) == "A chart."
    turn = bodies[1]["contents"][-1]
    assert turn["role"] == "user"
    response, media = turn["parts"]
    assert response["functionResponse"]["name"] == "snapshot"
    assert media == {
        "inlineData": {"mimeType": "image/png", "data": base64.b64encode(PNG).decode()}
    }


async def test_openai_gets_a_note_in_place_of_the_image_and_no_error() -> None:
    bodies: Bodies = []
    assert await ask_with(openai(bodies), "gpt-4o", make_tool(snapshot)) == "A chart."
    sent = bodies[1]["messages"][-1]
    assert sent == {"role": "tool", "tool_call_id": "call_1", "content": NOTE}
    assert base64.b64encode(PNG).decode() not in json.dumps(bodies[1])


# --- the loop: which parts a provider is sent --------------------------------------------------


class Claims(FakeProvider):
    """A scripted provider with the capabilities a test gives it."""

    def __init__(self, capabilities: ProviderCapabilities, responses: list[Any]) -> None:
        super().__init__(responses=responses)
        self.capabilities = capabilities


def everything() -> list[Any]:
    """One part of each kind, between two texts."""
    return [
        "before",
        IMAGE,
        AudioPart(data=b"ID3abc", media_type="audio/mpeg"),
        DocumentPart(url="https://example.com/a.pdf", media_type="application/pdf"),
        VideoPart(file_id="files/v1"),
        TextPart(text="after"),
    ]


def tool_content(provider: FakeProvider) -> Any:
    (message,) = [m for m in provider.calls[1].messages if m.role == "tool"]
    return message.content


@BOTH_LOOPS
async def test_each_part_the_provider_does_not_take_becomes_a_note_in_its_place(
    streamed: bool,
) -> None:
    # Takes images and documents in tool results (as Anthropic): audio and video are notes.
    claims = ProviderCapabilities(image_input=True, document_input=True, media_in_tool_results=True)
    provider = Claims(claims, [calls(("c1", "everything", {})), answer("seen")])
    tools = [make_tool(everything)]
    request = LLMRequest(messages=[Message(role="user", content="go")], tools=[tools[0].spec])
    if streamed:
        source = stream_tool_loop(provider, request, tools, events=EventBus(), max_iterations=2)
        assert "".join([chunk.text async for chunk in source]) == "seen"
    else:
        await run_tool_loop(provider, request, tools, events=EventBus(), max_iterations=2)
    assert tool_content(provider) == [
        TextPart(text="before"),
        IMAGE,
        TextPart(
            text="[audio (audio/mpeg, 6 bytes) not shown: it cannot be sent in a tool result here]"
        ),
        DocumentPart(url="https://example.com/a.pdf", media_type="application/pdf"),
        TextPart(text="[video (file files/v1) not shown: it cannot be sent in a tool result here]"),
        TextPart(text="after"),
    ]


async def test_without_the_capability_every_part_is_a_note_and_the_content_text() -> None:
    # image_input alone: images in user messages, not in tool results.
    provider = Claims(
        ProviderCapabilities(image_input=True), [calls(("c1", "captioned", {})), answer("ok")]
    )
    tool = make_tool(captioned)
    request = LLMRequest(messages=[Message(role="user", content="go")], tools=[tool.spec])
    conversation: list[Message] = []
    await run_tool_loop(
        provider, request, [tool], events=EventBus(), max_iterations=2, conversation=conversation
    )
    assert tool_content(provider) == f'Two shots:\n{NOTE}\n{{"count":1}}'
    # The conversation keeps what the model was sent.
    assert conversation[2].content == tool_content(provider)


async def test_the_capability_is_found_through_the_layers_of_a_stack() -> None:
    from aether.extensions.llm.builder import ProviderConfig, build_provider

    fake = FakeProvider(responses=[calls(("c1", "snapshot", {})), answer("ok")])
    stack = build_provider(ProviderConfig(), provider=fake)
    assert stack is not fake
    tool = make_tool(snapshot)
    request = LLMRequest(messages=[Message(role="user", content="go")], tools=[tool.spec])
    await run_tool_loop(stack, request, [tool], events=EventBus(), max_iterations=2)
    assert tool_content(fake) == [IMAGE]


async def test_plain_results_are_sent_as_the_same_text() -> None:
    def table() -> dict[str, list[int]]:
        """Rows."""
        return {"rows": [1, 2]}

    def listing() -> list[str]:
        """Names."""
        return ["a", "b"]

    provider = FakeProvider(
        responses=[calls(("c1", "table", {}), ("c2", "listing", {})), answer("ok")]
    )
    tools = [make_tool(table), make_tool(listing)]
    request = LLMRequest(
        messages=[Message(role="user", content="go")], tools=[t.spec for t in tools]
    )
    await run_tool_loop(provider, request, tools, events=EventBus(), max_iterations=2)
    sent = [m.content for m in provider.calls[1].messages if m.role == "tool"]
    assert sent == ['{"rows":[1,2]}', '["a","b"]']


# --- dispatch: the result, its text and the tool.complete event ------------------------------


async def test_dispatch_returns_the_parts_and_the_event_shows_their_text() -> None:
    seen: list[ToolComplete] = []
    events = EventBus()
    events.on(TOOL_COMPLETE, seen.append)
    tool = make_tool(captioned)
    result = await dispatch_tool(
        ToolCall(id="c1", name="captioned", arguments={}), [tool], events=events
    )
    assert result.parts == [TextPart(text="Two shots:"), IMAGE, TextPart(text='{"count":1}')]
    assert result.to_message().content == result.parts
    shown = 'Two shots:{"count":1}\n[image (image/png, 32 bytes)]'
    assert result.content == shown  # the text, as before: code reading it keeps working
    assert [event.result for event in seen] == [shown]
    plain = await dispatch_tool(ToolCall(id="c2", name="captioned", arguments={}), [])
    assert plain.parts is None and plain.to_message().content == plain.content


async def test_by_name_dispatch_returns_the_tools_own_value() -> None:
    from aether.tools import register_tool

    register_tool(snapshot)
    assert await dispatch_tool("snapshot") is IMAGE


@pytest.mark.parametrize("tool_fn", [snapshot, captioned])
def test_a_tool_returning_parts_still_has_a_schema(tool_fn: Callable[[], Any]) -> None:
    assert make_tool(tool_fn).parameters["properties"] == {}
