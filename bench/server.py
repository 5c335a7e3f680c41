"""A small, fast HTTP/1.1 server on 127.0.0.1 with canned OpenAI, Gemini and Anthropic answers.

    python bench/server.py [--port 0]     # prints "PORT <n>" once listening, serves until killed

It exists to measure HTTP *clients*, so it does as little as possible per request: a raw
``asyncio.Protocol`` (no stream wrappers), keep-alive, answers pre-encoded once per shape with
only a fixed-width id substituted, so every reply carries a unique id the client checks.

Routes (any prefix may come first; ``/n<N>/`` anywhere in the path asks for N stream chunks,
default 500):

- ``POST .../chat/completions``: OpenAI Chat Completions; an event stream when the body has
  ``"stream":true``, else one JSON completion.
- ``POST .../models/<model>:generateContent`` / ``:streamGenerateContent``: Gemini (CRLF events,
  as Gemini sends them).
- ``POST .../messages``: Anthropic Messages, typed events when the body has ``"stream":true``.

Streams use chunked transfer encoding with one HTTP chunk per event, as the real APIs flush
them, and are written in one go: the client's parsing is measured, not network pacing.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import re
import sys
from typing import Any

ID_SLOT = b"@@@@@@@@@@"
"""Placeholder replaced by a 10-digit counter in every answer (same width: lengths hold)."""
TEXT = "Hello from the bench server."
MODEL_OPENAI = "gpt-4o-mini"
MODEL_GEMINI = "gemini-2.0-flash"
MODEL_ANTHROPIC = "claude-3-5-haiku-latest"
DEFAULT_CHUNKS = 500

_ids = itertools.count(1)
_CHUNKS_IN_PATH = re.compile(rb"/n(\d+)/")


def piece(index: int) -> str:
    """The text of stream chunk ``index`` (the client checks the concatenation)."""
    return f"tok{index} "


def stream_text(chunks: int) -> str:
    """The whole text a stream of ``chunks`` chunks must add up to."""
    return "".join(piece(i) for i in range(chunks))


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _plain(body: bytes, content_type: bytes = b"application/json") -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\ncontent-type: %s\r\ncontent-length: %d\r\n"
        b"x-request-id: req_bench\r\n\r\n%s" % (content_type, len(body), body)
    )


def _chunked(events: list[bytes]) -> bytes:
    head = (
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\n"
        b"transfer-encoding: chunked\r\ncache-control: no-cache\r\nx-request-id: req_bench\r\n\r\n"
    )
    frames = [b"%x\r\n%s\r\n" % (len(event), event) for event in events]
    return head + b"".join(frames) + b"0\r\n\r\n"


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
    return _plain(
        _dumps(
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
    )


def openai_stream(chunks: int) -> bytes:
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
    return _chunked([*events, b"data: [DONE]\n\n"])


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
    return _plain(_dumps(_gemini_event(TEXT, "STOP", 7)))


def gemini_stream(chunks: int) -> bytes:
    """``chunks`` events of one text part each; the last has ``finishReason``. CRLF framing."""
    events = [
        b"data: "
        + _dumps(_gemini_event(piece(i), "STOP" if i == chunks - 1 else None, i + 1))
        + b"\r\n\r\n"
        for i in range(chunks)
    ]
    return _chunked(events)


def _anthropic_usage(output: int) -> dict[str, Any]:
    return {
        "input_tokens": 12,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": output,
    }


def anthropic_json() -> bytes:
    """A Messages answer."""
    return _plain(
        _dumps(
            {
                "id": "msg_" + ID_SLOT.decode(),
                "type": "message",
                "role": "assistant",
                "model": MODEL_ANTHROPIC,
                "content": [{"type": "text", "text": TEXT}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": _anthropic_usage(7),
            }
        )
    )


def anthropic_stream(chunks: int) -> bytes:
    """message_start, a text block of ``chunks`` deltas (with a ping), message_delta/stop."""

    def event(name: str, data: dict[str, Any]) -> bytes:
        return b"event: %s\ndata: %s\n\n" % (name.encode(), _dumps(data))

    message = json.loads(anthropic_json().split(b"\r\n\r\n", 1)[1])
    message.update(content=[], stop_reason=None, usage=_anthropic_usage(1))
    events = [
        event("message_start", {"type": "message_start", "message": message}),
        event(
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
        ),
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
    return _chunked(events)


_NOT_FOUND_BODY = b'{"error":{"message":"unknown bench route","type":"not_found"}}'
_NOT_FOUND = (
    b"HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s"
    % (
        len(_NOT_FOUND_BODY),
        _NOT_FOUND_BODY,
    )
)
_cache: dict[tuple[str, int], tuple[bytes, bytes]] = {}
_BUILDERS = {
    "openai-json": lambda n: openai_json(),
    "openai-sse": openai_stream,
    "gemini-json": lambda n: gemini_json(),
    "gemini-sse": gemini_stream,
    "anthropic-json": lambda n: anthropic_json(),
    "anthropic-sse": anthropic_stream,
}


def _streaming(body: bytes) -> bool:
    return b'"stream":true' in body or b'"stream": true' in body


def answer(path: bytes, body: bytes) -> bytes:
    """The bytes to send for one request (a unique id substituted)."""
    target = path.split(b"?", 1)[0]
    if target.endswith(b"/chat/completions"):
        shape = "openai-sse" if _streaming(body) else "openai-json"
    elif target.endswith(b":streamGenerateContent"):
        shape = "gemini-sse"
    elif target.endswith(b":generateContent"):
        shape = "gemini-json"
    elif target.endswith(b"/messages"):
        shape = "anthropic-sse" if _streaming(body) else "anthropic-json"
    else:
        return _NOT_FOUND
    found = _CHUNKS_IN_PATH.search(target)
    chunks = int(found.group(1)) if found else DEFAULT_CHUNKS
    key = (shape, chunks)
    parts = _cache.get(key)
    if parts is None:
        built = _BUILDERS[shape](chunks)
        # Split around the first slot: a JSON answer then costs one join, no search.
        if built.count(ID_SLOT) == 1:
            head, _, tail = built.partition(ID_SLOT)
            parts = _cache[key] = (head, tail)
        else:
            parts = _cache[key] = (built, b"")
    uid = b"%010d" % next(_ids)
    head, tail = parts
    if tail:
        return head + uid + tail
    return head.replace(ID_SLOT, uid)


class _Connection(asyncio.Protocol):
    """One keep-alive connection: parse request heads, wait for the body, answer in order."""

    __slots__ = ("_buf", "_transport")

    def __init__(self) -> None:
        self._buf = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        buf = self._buf + data if self._buf else data
        transport = self._transport
        assert transport is not None
        while True:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                break
            head = buf[:end]
            lower = head.lower()
            length = 0
            at = lower.find(b"\r\ncontent-length:")
            if at >= 0:
                stop = lower.find(b"\r\n", at + 2)
                length = int(lower[at + 17 : stop if stop >= 0 else len(lower)])
            elif b"chunked" in lower:
                transport.write(b"HTTP/1.1 411 Length Required\r\ncontent-length: 0\r\n\r\n")
                transport.close()
                return
            total = end + 4 + length
            if len(buf) < total:
                break
            path = head[head.find(b" ") + 1 : head.find(b" HTTP/")]
            transport.write(answer(path, buf[end + 4 : total]))
            buf = buf[total:]
        self._buf = buf


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Connection, "127.0.0.1", port, backlog=2048)
    bound = server.sockets[0].getsockname()[1]
    print(f"PORT {bound}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description="Canned LLM API answers on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    try:
        asyncio.run(serve(args.port))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
