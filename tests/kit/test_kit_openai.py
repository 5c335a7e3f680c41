"""aether-openai runs the plugin author's kit: the provider suite and the packaging checks."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import httpx

from aether.llm.contracts import ToolCall
from aether.testing import (
    CannedUsage,
    PackagingConformance,
    ProviderConformance,
    WireFormat,
    sse_event,
)
from aether_openai import OpenAIProvider

MODEL = "gpt-4o-mini"


def _usage(usage: CannedUsage) -> dict[str, int]:
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.input_tokens + usage.output_tokens,
    }


def _chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    return sse_event({"id": "chatcmpl-kit", "model": MODEL, "choices": [choice]})


def _wire_call(call: ToolCall) -> dict[str, Any]:
    arguments = json.dumps(call.arguments, ensure_ascii=False)
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": arguments},
    }


class ChatCompletionsWire(WireFormat):
    """OpenAI's Chat Completions answers, whole and streamed."""

    def _completion(self, message: dict[str, Any], finish: str, usage: CannedUsage) -> Any:
        choice = {"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish}
        return {"id": "chatcmpl-kit", "model": MODEL, "choices": [choice], "usage": _usage(usage)}

    def _end(self, finish: str, usage: CannedUsage) -> list[bytes]:
        usage_chunk = {"id": "chatcmpl-kit", "model": MODEL, "choices": [], "usage": _usage(usage)}
        return [_chunk({}, finish), sse_event(usage_chunk), sse_event("[DONE]")]

    def text_response(self, text: str, usage: CannedUsage) -> Any:
        return self._completion({"content": text}, "stop", usage)

    def tool_call_response(self, calls: Sequence[ToolCall], usage: CannedUsage) -> Any:
        message = {"content": None, "tool_calls": [_wire_call(c) for c in calls]}
        return self._completion(message, "tool_calls", usage)

    def stream_response(self, deltas: Sequence[str], usage: CannedUsage) -> list[bytes]:
        return [_chunk({"content": d}) for d in deltas] + self._end("stop", usage)

    def stream_tool_call_response(
        self, calls: Sequence[ToolCall], usage: CannedUsage
    ) -> list[bytes]:
        pieces = []
        for index, call in enumerate(calls):
            arguments = json.dumps(call.arguments, ensure_ascii=False)
            half = len(arguments) // 2
            head = {"index": index, "id": call.id, "type": "function"}
            pieces.append(
                _chunk(
                    {
                        "tool_calls": [
                            {**head, "function": {"name": call.name, "arguments": arguments[:half]}}
                        ]
                    }
                )
            )
            pieces.append(
                _chunk(
                    {"tool_calls": [{"index": index, "function": {"arguments": arguments[half:]}}]}
                )
            )
        return pieces + self._end("tool_calls", usage)


class TestOpenAIProviderKit(ProviderConformance):
    wire = ChatCompletionsWire()

    def make_provider(self, http_client: httpx.AsyncClient, api_key: str) -> OpenAIProvider:
        return OpenAIProvider(api_key=api_key, http_client=http_client)


class TestOpenAIPackagingKit(PackagingConformance):
    distribution = "aether-openai"
