"""The canned OpenAI, Gemini and Anthropic answers every bench server sends, as bodies.

One source for both servers: ``bench/server.py`` frames them itself (one HTTP chunk per
stream event, as the real APIs flush them), and ``bench/_nginx.py`` writes them into nginx's
configuration and files. Every answer holds :data:`ID_SLOT` where the reply's id goes; each
server puts a unique value there, so a client that did not really fetch and parse a reply
cannot pass the checks in ``bench/_http_clients.py``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

ID_SLOT = b"@@@@@@@@@@"
"""Placeholder for the reply's unique id (Python server: 10 digits; nginx: ``$request_id``)."""
TEXT = "Hello from the bench server."
MODEL_OPENAI = "gpt-4o-mini"
MODEL_GEMINI = "gemini-2.0-flash"
MODEL_ANTHROPIC = "claude-3-5-haiku-latest"
DEFAULT_CHUNKS = 500
JSON_TYPE = "application/json"
SSE_TYPE = "text/event-stream; charset=utf-8"


def piece(index: int) -> str:
    """The text of stream chunk ``index`` (the client checks the concatenation)."""
    return f"tok{index} "


def stream_text(chunks: int) -> str:
    """The whole text a stream of ``chunks`` chunks must add up to."""
    return "".join(piece(i) for i in range(chunks))


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


_OPENAI_USAGE = {
    "prompt_tokens": 12,
    "completion_tokens": 7,
    "total_tokens": 19,
    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
    "completion_tokens_details": {
        "reasoning_tokens": 0,
        "audio_tokens": 0,
        "accepted_prediction_tokens": 0,
        "rejected_prediction_tokens": 0,
    },
}


def openai_json() -> bytes:
    """A Chat Completion as the API sends it (fields, nulls and usage details included)."""
    return _dumps(
        {
            "id": "chatcmpl-" + ID_SLOT.decode(),
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": "gpt-4o-mini-2024-07-18",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": TEXT, "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": _OPENAI_USAGE,
            "service_tier": "default",
            "system_fingerprint": "fp_bench",
        }
    )


def openai_events(chunks: int) -> list[bytes]:
    """Role chunk, ``chunks`` text deltas, finish chunk, usage-only chunk, ``[DONE]``."""

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "id": "chatcmpl-" + ID_SLOT.decode(),
            "object": "chat.completion.chunk",
            "created": 1_700_000_000,
            "model": "gpt-4o-mini-2024-07-18",
            "service_tier": "default",
            "system_fingerprint": "fp_bench",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
            "usage": None,
        }

    bodies = [chunk({"role": "assistant", "content": "", "refusal": None})]
    bodies += [chunk({"content": piece(i)}) for i in range(chunks)]
    bodies.append(chunk({}, "stop"))
    usage = chunk({})
    usage["choices"] = []
    usage["usage"] = {**_OPENAI_USAGE, "completion_tokens": chunks}
    bodies.append(usage)
    events = [b"data: " + _dumps(body) + b"\n\n" for body in bodies]
    return [*events, b"data: [DONE]\n\n"]


def _gemini_event(text: str, finish: str | None, tokens: int) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"parts": [{"text": text}], "role": "model"}}
    if finish:
        candidate["finishReason"] = finish
    return {
        "candidates": [candidate],
        "usageMetadata": {
            "promptTokenCount": 12,
            "candidatesTokenCount": tokens,
            "totalTokenCount": 12 + tokens,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 12}],
        },
        "modelVersion": MODEL_GEMINI,
        "responseId": ID_SLOT.decode(),
    }


def gemini_json() -> bytes:
    """A ``generateContent`` answer."""
    return _dumps(_gemini_event(TEXT, "STOP", 7))


def gemini_events(chunks: int) -> list[bytes]:
    """``chunks`` events of one text part each; the last has ``finishReason``. CRLF framing."""
    return [
        b"data: "
        + _dumps(_gemini_event(piece(i), "STOP" if i == chunks - 1 else None, i + 1))
        + b"\r\n\r\n"
        for i in range(chunks)
    ]


def _anthropic_usage(output: int) -> dict[str, Any]:
    return {
        "input_tokens": 12,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": output,
    }


def _anthropic_message() -> dict[str, Any]:
    return {
        "id": "msg_" + ID_SLOT.decode(),
        "type": "message",
        "role": "assistant",
        "model": MODEL_ANTHROPIC,
        "content": [{"type": "text", "text": TEXT}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": _anthropic_usage(7),
    }


def anthropic_json() -> bytes:
    """A Messages answer."""
    return _dumps(_anthropic_message())


def anthropic_events(chunks: int) -> list[bytes]:
    """message_start, a text block of ``chunks`` deltas (with a ping), message_delta/stop."""

    def event(name: str, data: dict[str, Any]) -> bytes:
        return b"event: %s\ndata: %s\n\n" % (name.encode(), _dumps(data))

    message = {**_anthropic_message(), "content": [], "stop_reason": None}
    message["usage"] = _anthropic_usage(1)
    block = {"type": "text", "text": ""}
    start = {"type": "content_block_start", "index": 0, "content_block": block}
    events = [
        event("message_start", {"type": "message_start", "message": message}),
        event("content_block_start", start),
        event("ping", {"type": "ping"}),
    ]
    events += [
        event(
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": piece(i)},
            },
        )
        for i in range(chunks)
    ]
    events += [
        event("content_block_stop", {"type": "content_block_stop", "index": 0}),
        event(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": chunks},
            },
        ),
        event("message_stop", {"type": "message_stop"}),
    ]
    return events


ANSWERS: dict[str, Callable[[], bytes]] = {
    "openai": openai_json,
    "gemini": gemini_json,
    "anthropic": anthropic_json,
}
"""The whole (non-streamed) answer of each wire format."""

STREAMS: dict[str, Callable[[int], list[bytes]]] = {
    "openai": openai_events,
    "gemini": gemini_events,
    "anthropic": anthropic_events,
}
"""The events of a stream of N text chunks, per wire format."""
