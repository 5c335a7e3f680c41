"""Every HTTP provider of the repository, built the same way, with its wire shapes.

Each :class:`Wire` says how one provider's API answers (a whole answer, a stream's events, a
tool call with given arguments) so one test can drive all four the same way. The Echo
example is imported from its source folder: it is not installed in the development venv.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable
from contextlib import aclosing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from aether.llm.contracts import LLMRequest, LLMResponse, LLMStreamChunk, Message
from aether_anthropic import AnthropicProvider
from aether_gemini import GeminiProvider
from aether_openai import OpenAIProvider

_ECHO_SRC = Path(__file__).resolve().parents[2] / "examples" / "aether-example-echo" / "src"


def _echo_provider(**kwargs: Any) -> Any:
    """The Echo example's provider, imported from its source folder."""
    if str(_ECHO_SRC) not in sys.path:
        sys.path.append(str(_ECHO_SRC))
    return importlib.import_module("aether_example_echo").EchoProvider(**kwargs)


REQUEST = LLMRequest(messages=[Message(role="user", content="hi")], max_tokens=16)


def sse(*events: Any, name: str | None = None) -> bytes:
    """An event stream: each event JSON (bytes or str sent as they are)."""
    out = b""
    for event in events:
        if isinstance(event, bytes):
            data = event
        elif isinstance(event, str):
            data = event.encode()
        else:
            data = json.dumps(event).encode()
        out += (f"event: {name}\n".encode() if name else b"") + b"data: " + data + b"\n\n"
    return out


@dataclass(frozen=True)
class Wire:
    """One provider: how to build it and how its API answers."""

    name: str
    build: Callable[..., Any]
    root: str  # the path under the server's root, e.g. "/v1"
    answer: Callable[[], dict[str, Any]]
    events: Callable[[], list[Any]]  # a whole stream, terminator included
    call: Callable[[Any], dict[str, Any]]  # a whole answer calling a tool with these arguments
    call_events: Callable[[Any], list[Any]]  # the same, streamed
    done: bytes = b""  # sent after the events (OpenAI's [DONE])

    def provider(self, base: str, key: str | None = "sk-test-0000", **kwargs: Any) -> Any:
        return self.build(api_key=key, base_url=base + self.root, **kwargs)

    def mocked(self, handler: Callable[[httpx.Request], httpx.Response]) -> Any:
        client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        return self.build(
            api_key="sk-test-0000", base_url="http://api.test" + self.root, http_client=client
        )


def _openai_call(arguments: Any) -> dict[str, Any]:
    function = {"name": "f", "arguments": arguments}
    message = {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": "c1", "type": "function", "function": function}],
    }
    return {
        "id": "r",
        "model": "m",
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}],
    }


def _openai_call_events(arguments: Any) -> list[Any]:
    delta = {
        "tool_calls": [{"index": 0, "id": "c1", "function": {"name": "f", "arguments": arguments}}]
    }
    return [
        {"choices": [{"index": 0, "delta": delta}]},
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
    ]


def _gemini_call(arguments: Any) -> dict[str, Any]:
    part = {"functionCall": {"name": "f", "args": arguments}}
    return {"candidates": [{"content": {"parts": [part]}, "finishReason": "STOP"}]}


def _anthropic_message(content: list[Any], stop: str = "end_turn") -> dict[str, Any]:
    return {
        "id": "msg",
        "type": "message",
        "role": "assistant",
        "model": "m",
        "content": content,
        "stop_reason": stop,
        "usage": {"input_tokens": 1, "output_tokens": 1},
    }


def _anthropic_events(
    blocks: list[tuple[dict[str, Any], dict[str, Any]]], stop: str = "end_turn"
) -> list[Any]:
    start = {"type": "message_start", "message": {**_anthropic_message([]), "stop_reason": None}}
    out: list[Any] = [start]
    for index, (block, delta) in enumerate(blocks):
        out.append({"type": "content_block_start", "index": index, "content_block": block})
        out.append({"type": "content_block_delta", "index": index, "delta": delta})
        out.append({"type": "content_block_stop", "index": index})
    out.append(
        {"type": "message_delta", "delta": {"stop_reason": stop}, "usage": {"output_tokens": 1}}
    )
    out.append({"type": "message_stop"})
    return out


WIRES = [
    Wire(
        name="openai",
        build=OpenAIProvider,
        root="/v1",
        answer=lambda: {
            "id": "r",
            "model": "m",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "hello"},
                    "finish_reason": "stop",
                }
            ],
        },
        events=lambda: [
            {"choices": [{"index": 0, "delta": {"content": "hello"}}]},
            {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
        ],
        call=_openai_call,
        call_events=_openai_call_events,
        done=b"data: [DONE]\n\n",
    ),
    Wire(
        name="gemini",
        build=GeminiProvider,
        root="/v1beta",
        answer=lambda: {
            "candidates": [{"content": {"parts": [{"text": "hello"}]}, "finishReason": "STOP"}]
        },
        events=lambda: [
            {"candidates": [{"content": {"parts": [{"text": "hello"}]}, "finishReason": "STOP"}]}
        ],
        call=_gemini_call,
        call_events=lambda arguments: [_gemini_call(arguments)],
    ),
    Wire(
        name="anthropic",
        build=AnthropicProvider,
        root="/v1",
        answer=lambda: _anthropic_message([{"type": "text", "text": "hello"}]),
        events=lambda: _anthropic_events(
            [({"type": "text", "text": ""}, {"type": "text_delta", "text": "hello"})]
        ),
        call=lambda arguments: _anthropic_message(
            [{"type": "tool_use", "id": "t1", "name": "f", "input": arguments}], "tool_use"
        ),
        call_events=lambda arguments: _anthropic_events(
            [
                (
                    {"type": "tool_use", "id": "t1", "name": "f", "input": {}},
                    {"type": "input_json_delta", "partial_json": arguments},
                )
            ],
            "tool_use",
        ),
    ),
    Wire(
        name="echo",
        build=_echo_provider,
        root="/v1",
        answer=lambda: {
            "id": "r",
            "model": "echo-1",
            "text": "hello",
            "stop": "end",
            "usage": {"in": 1, "out": 1},
        },
        events=lambda: [{"delta": "hello"}, {"stop": "end", "usage": {"in": 1, "out": 1}}],
        call=lambda arguments: {
            "id": "r",
            "model": "echo-1",
            "text": "",
            "stop": "calls",
            "calls": [{"id": "c1", "name": "f", "args": arguments}],
        },
        call_events=lambda arguments: [
            {"call": {"id": "c1", "name": "f", "args": arguments}},
            {"stop": "calls"},
        ],
    ),
]
WIRE_IDS = [wire.name for wire in WIRES]


async def call(provider: Any, *, stream: bool) -> LLMResponse | list[LLMStreamChunk]:
    """One call, whole or streamed to the end."""
    if not stream:
        response: LLMResponse = await provider.complete(REQUEST)
        return response
    async with aclosing(provider.stream(REQUEST)) as chunks:
        return [chunk async for chunk in chunks]


async def run(provider: Any, *, stream: bool) -> LLMResponse | list[LLMStreamChunk]:
    """One call, then the provider is closed."""
    try:
        return await call(provider, stream=stream)
    finally:
        await provider.aclose()
