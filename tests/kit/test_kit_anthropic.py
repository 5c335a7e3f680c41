"""aether-anthropic runs the plugin author's kit: the provider suite and the packaging checks."""

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
from aether_anthropic import AnthropicProvider

MODEL = "claude-sonnet-4-5"
# The error type Anthropic sends with each status (a status not listed gets api_error).
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
    529: "overloaded_error",
}


def _usage(usage: CannedUsage, output: int) -> dict[str, int]:
    return {
        "input_tokens": usage.input_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": output,
    }


def _message(content: list[dict[str, Any]], stop: str | None, usage: dict[str, int]) -> Any:
    return {
        "id": "msg_kit",
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": usage,
    }


def _event(data: dict[str, Any]) -> bytes:
    return sse_event(data, event=data["type"])


def _tool_use(call: ToolCall) -> dict[str, Any]:
    return {"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments}


class MessagesWire(WireFormat):
    """Anthropic's Messages answers, whole and as typed server-sent events."""

    def text_response(self, text: str, usage: CannedUsage) -> Any:
        content = [{"type": "text", "text": text}]
        return _message(content, "end_turn", _usage(usage, usage.output_tokens))

    def tool_call_response(self, calls: Sequence[ToolCall], usage: CannedUsage) -> Any:
        content = [_tool_use(c) for c in calls]
        return _message(content, "tool_use", _usage(usage, usage.output_tokens))

    def _start(self, usage: CannedUsage) -> list[bytes]:
        # message_start reports the prompt and a first output count; message_delta the final.
        message = _message([], None, _usage(usage, 1))
        return [
            _event({"type": "message_start", "message": message}),
            _event({"type": "ping"}),
        ]

    def _end(self, stop: str, usage: CannedUsage) -> list[bytes]:
        delta = {
            "type": "message_delta",
            "delta": {"stop_reason": stop, "stop_sequence": None},
            "usage": {"output_tokens": usage.output_tokens},
        }
        return [_event(delta), _event({"type": "message_stop"})]

    def stream_response(self, deltas: Sequence[str], usage: CannedUsage) -> list[bytes]:
        block = {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "text", "text": ""},
        }
        pieces = [
            _event(
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "text_delta", "text": d},
                }
            )
            for d in deltas
        ]
        stop = _event({"type": "content_block_stop", "index": 0})
        return [*self._start(usage), _event(block), *pieces, stop, *self._end("end_turn", usage)]

    def stream_tool_call_response(
        self, calls: Sequence[ToolCall], usage: CannedUsage
    ) -> list[bytes]:
        pieces = self._start(usage)
        for index, call in enumerate(calls):
            arguments = json.dumps(call.arguments, ensure_ascii=False)
            half = len(arguments) // 2
            pieces.append(
                _event(
                    {
                        "type": "content_block_start",
                        "index": index,
                        "content_block": {**_tool_use(call), "input": {}},
                    }
                )
            )
            for fragment in (arguments[:half], arguments[half:]):
                pieces.append(
                    _event(
                        {
                            "type": "content_block_delta",
                            "index": index,
                            "delta": {"type": "input_json_delta", "partial_json": fragment},
                        }
                    )
                )
            pieces.append(_event({"type": "content_block_stop", "index": index}))
        return [*pieces, *self._end("tool_use", usage)]

    def error_response(self, status: int, message: str) -> Any:
        kind = ERROR_TYPES.get(status, "api_error")
        return {"type": "error", "error": {"type": kind, "message": message}}


class TestAnthropicProviderKit(ProviderConformance):
    wire = MessagesWire()

    def make_provider(self, http_client: httpx.AsyncClient, api_key: str) -> AnthropicProvider:
        return AnthropicProvider(api_key=api_key, http_client=http_client)


class TestAnthropicPackagingKit(PackagingConformance):
    distribution = "aether-anthropic"
