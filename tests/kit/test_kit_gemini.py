"""aether-gemini runs the plugin author's kit: the provider suite and the packaging checks."""

from __future__ import annotations

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
from aether_gemini import GeminiProvider

MODEL = "gemini-2.5-flash"


def _usage(usage: CannedUsage, *, final: bool = True) -> dict[str, int]:
    # Gemini repeats usageMetadata on every streamed chunk; only the last one is complete.
    output = usage.output_tokens if final else 0
    return {
        "promptTokenCount": usage.input_tokens,
        "candidatesTokenCount": output,
        "totalTokenCount": usage.input_tokens + output,
    }


def _answer(parts: list[dict[str, Any]], usage: dict[str, int], finish: str | None) -> Any:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    return {
        "candidates": [candidate],
        "usageMetadata": usage,
        "modelVersion": MODEL,
        "responseId": "kit-response",
    }


def _call_part(call: ToolCall) -> dict[str, Any]:
    return {"functionCall": {"id": call.id, "name": call.name, "args": call.arguments}}


class GenerateContentWire(WireFormat):
    """Gemini's ``generateContent`` answers, whole and streamed (``alt=sse``)."""

    def text_response(self, text: str, usage: CannedUsage) -> Any:
        return _answer([{"text": text}], _usage(usage), "STOP")

    def tool_call_response(self, calls: Sequence[ToolCall], usage: CannedUsage) -> Any:
        return _answer([_call_part(c) for c in calls], _usage(usage), "STOP")

    def stream_response(self, deltas: Sequence[str], usage: CannedUsage) -> list[bytes]:
        pieces = [
            sse_event(_answer([{"text": d}], _usage(usage, final=False), None)) for d in deltas
        ]
        return [*pieces, sse_event(_answer([], _usage(usage), "STOP"))]

    def stream_tool_call_response(
        self, calls: Sequence[ToolCall], usage: CannedUsage
    ) -> list[bytes]:
        partial = _usage(usage, final=False)
        pieces = [sse_event(_answer([_call_part(c)], partial, None)) for c in calls]
        return [*pieces, sse_event(_answer([], _usage(usage), "STOP"))]


class TestGeminiProviderKit(ProviderConformance):
    wire = GenerateContentWire()

    def make_provider(self, http_client: httpx.AsyncClient, api_key: str) -> GeminiProvider:
        return GeminiProvider(api_key=api_key, http_client=http_client)


class TestGeminiPackagingKit(PackagingConformance):
    distribution = "aether-gemini"
