"""The Echo plugin runs Aether's plugin kit: provider, tool pack and packaging suites."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx
from aether_example_echo import EchoProvider

from aether.llm.contracts import ToolCall
from aether.testing import (
    CannedUsage,
    PackagingConformance,
    ProviderConformance,
    ToolPackConformance,
    WireFormat,
    sse_event,
)


def _usage(usage: CannedUsage) -> dict[str, int]:
    return {"in": usage.input_tokens, "out": usage.output_tokens}


def _call(call: ToolCall) -> dict[str, Any]:
    return {"id": call.id, "name": call.name, "args": call.arguments}


class EchoWire(WireFormat):
    """What the Echo API sends back, for each situation the kit simulates."""

    def text_response(self, text: str, usage: CannedUsage) -> Any:
        return {"id": "r1", "model": "echo-1", "text": text, "stop": "end", "usage": _usage(usage)}

    def tool_call_response(self, calls: Sequence[ToolCall], usage: CannedUsage) -> Any:
        wire_calls = [_call(c) for c in calls]
        return {"id": "r2", "calls": wire_calls, "stop": "calls", "usage": _usage(usage)}

    def stream_response(self, deltas: Sequence[str], usage: CannedUsage) -> list[bytes]:
        pieces = [sse_event({"delta": d}) for d in deltas]
        return [*pieces, sse_event({"stop": "end", "usage": _usage(usage)})]

    def stream_tool_call_response(
        self, calls: Sequence[ToolCall], usage: CannedUsage
    ) -> list[bytes]:
        pieces = [sse_event({"call": _call(c)}) for c in calls]
        return [*pieces, sse_event({"stop": "calls", "usage": _usage(usage)})]


class TestEchoProvider(ProviderConformance):
    wire = EchoWire()

    def make_provider(self, http_client: httpx.AsyncClient, api_key: str) -> EchoProvider:
        return EchoProvider(api_key, http_client=http_client)


class TestEchoTools(ToolPackConformance):
    distribution = "aether-example-echo"
    refusals = (("shout", {"text": "hi", "times": 99}), ("shout", {"text": "x" * 5000}))


class TestEchoPackaging(PackagingConformance):
    distribution = "aether-example-echo"
