"""Just enough of the Messages API on a loopback server (tests.support.loopback), for e2e tests.

Only ``POST /v1/messages`` with the right ``x-api-key`` is answered; the request's ``model``
picks the answer:

* ``tools``: a ``tool_use`` of ``add`` while the last user turn holds no ``tool_result``,
  then a text answer quoting the result;
* ``disconnect`` (streamed): two events, half of a third, then the socket is dropped;
* ``describe``: what the last user turn held, one ``type:source`` per block (``text:-``,
  ``image:image/png``, ``document:application/pdf``...);
* anything else: the text ``Hello there``, whole or as typed events.

A request with a structured output format (``output_config.format``, or the beta's
``output_format``) is answered, whatever its model, with JSON text following the schema's
properties (a string property ``p`` is ``"<p>"``, an integer the length of its name); a schema
holding an object without ``additionalProperties: false`` is refused with a 400, as the API does.
A request forcing one tool (``tool_choice: {"type": "tool"}``) gets a call of it, its input made
from the tool's schema the same way. One whose system text holds a schema the way prompted mode
writes it gets a fenced JSON answer made from that schema (tests.support.typed_answers).

A request with thinking on (``thinking.type`` ``enabled`` or ``adaptive``) gets a signed thinking
block, ``Let me think.``, before the answer.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tests.support.loopback import (
    LoopbackServer,
    Request,
    end_chunks,
    send_chunk,
    send_json,
    start_chunked,
)
from tests.support.typed_answers import (
    INSTRUCTIONS_MARK,
    fenced,
    sample,
    schema_in_instructions,
)

KEY = "e2e-anthropic-key-0001"
MODEL = "claude-e2e"
USAGE = {
    "input_tokens": 11,
    "cache_creation_input_tokens": 3,
    "cache_read_input_tokens": 20,
    "output_tokens": 1,
}


def _message(content: list[dict[str, Any]], stop: str | None, usage: dict[str, Any]) -> Any:
    return {
        "id": "msg_e2e",
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": usage,
    }


def _tool_result(body: dict[str, Any]) -> str | None:
    last = body["messages"][-1]
    for block in last["content"] if last["role"] == "user" else []:
        if block.get("type") == "tool_result":
            return str(block.get("content", ""))
    return None


THOUGHT = "Let me think."


def _described(body: dict[str, Any]) -> str:
    described = []
    for block in body["messages"][-1]["content"]:
        source = block.get("source") or {}
        described.append(f"{block['type']}:{source.get('media_type') or source.get('type', '-')}")
    return " ".join(described)


def _answer(body: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    content, stop = _content(body)
    if (body.get("thinking") or {}).get("type") in ("enabled", "adaptive"):
        thinking = {"type": "thinking", "thinking": THOUGHT, "signature": "sig-e2e"}
        content = [thinking, *content]
    return content, stop


def _format(body: dict[str, Any]) -> dict[str, Any] | None:
    found = (body.get("output_config") or {}).get("format") or body.get("output_format")
    return found if isinstance(found, dict) else None


def _open_object(node: Any) -> bool:
    """Whether ``node`` holds an object schema the structured-output grammar refuses."""
    if isinstance(node, list):
        return any(_open_object(item) for item in node)
    if not isinstance(node, dict):
        return False
    if node.get("type") == "object" and node.get("additionalProperties") is not False:
        return True
    return any(_open_object(value) for value in node.values())


def _sample(name: str, schema: dict[str, Any]) -> Any:
    for branch in schema.get("anyOf", []):
        if branch.get("type") != "null":
            return _sample(name, branch)
    kind = schema.get("type")
    if kind == "string":
        return f"<{name}>"
    return len(name) if kind == "integer" else None


def _filled(schema: dict[str, Any]) -> dict[str, Any]:
    return {name: _sample(name, prop) for name, prop in schema["properties"].items()}


def _system_text(body: dict[str, Any]) -> str:
    system = body.get("system") or ""
    return system if isinstance(system, str) else "".join(b.get("text", "") for b in system)


def _content(body: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    wanted = _format(body)
    if wanted is not None:
        return [{"type": "text", "text": json.dumps(_filled(wanted["schema"]))}], "end_turn"
    forced = body.get("tool_choice") or {}
    if forced.get("type") == "tool":
        (tool,) = [tool for tool in body["tools"] if tool["name"] == forced["name"]]
        call = {"type": "tool_use", "id": "toolu_e2e_forced", "name": tool["name"]}
        return [{**call, "input": _filled(tool["input_schema"])}], "tool_use"
    instructions = _system_text(body)
    if INSTRUCTIONS_MARK in instructions:  # a typed answer asked for in prompted mode
        answer = fenced(sample(schema_in_instructions(instructions)))
        return [{"type": "text", "text": answer}], "end_turn"
    if body.get("model") == "describe":
        return [{"type": "text", "text": _described(body)}], "end_turn"
    if body.get("model") == "tools":
        result = _tool_result(body)
        if result is None:
            call = {"type": "tool_use", "id": "toolu_e2e_1", "name": "add", "input": {"a": 2}}
            return [{"type": "text", "text": "Adding."}, call], "tool_use"
        return [{"type": "text", "text": f"The sum is {result}."}], "end_turn"
    return [{"type": "text", "text": "Hello there"}], "end_turn"


def _events(content: list[dict[str, Any]], stop: str) -> list[str]:
    def event(name: str, data: dict[str, Any]) -> str:
        return f"event: {name}\ndata: {json.dumps(data)}\n\n"

    frames = [
        event("message_start", {"type": "message_start", "message": _message([], None, USAGE)})
    ]
    frames.append(event("ping", {"type": "ping"}))
    for index, block in enumerate(content):
        start: dict[str, Any]
        if block["type"] == "text":
            start = {"type": "text", "text": ""}
            words = block["text"].split(" ")
            deltas = [
                {"type": "text_delta", "text": word if i == 0 else " " + word}
                for i, word in enumerate(words)
            ]
        elif block["type"] == "thinking":
            start = {"type": "thinking", "thinking": "", "signature": ""}
            deltas = [
                {"type": "thinking_delta", "thinking": block["thinking"]},
                {"type": "signature_delta", "signature": block["signature"]},
            ]
        else:
            start = {**block, "input": {}}
            arguments = json.dumps(block["input"])
            deltas = [
                {"type": "input_json_delta", "partial_json": arguments[:3]},
                {"type": "input_json_delta", "partial_json": arguments[3:]},
            ]
        frames.append(
            event(
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": start},
            )
        )
        frames += [
            event(
                "content_block_delta", {"type": "content_block_delta", "index": index, "delta": d}
            )
            for d in deltas
        ]
        frames.append(event("content_block_stop", {"type": "content_block_stop", "index": index}))
    final = {"output_tokens": 9, "cache_read_input_tokens": 20}
    frames.append(
        event(
            "message_delta",
            {"type": "message_delta", "delta": {"stop_reason": stop}, "usage": final},
        )
    )
    frames.append(event("message_stop", {"type": "message_stop"}))
    return frames


class MessagesServer(LoopbackServer):
    """Start with ``await server.start()``; ``server.base_url`` is the server root."""

    def __init__(self) -> None:
        super().__init__(self._answer)

    @property
    def base_url(self) -> str:
        return self.root

    async def _answer(
        self, request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        body, path, headers = request["body"], request["path"], request["headers"]
        if path != "/v1/messages":
            error = {"type": "not_found_error", "message": f"No route {path}"}
            await send_json(writer, 404, {"type": "error", "error": error}, _ids("req_e2e"))
            return True
        if headers.get("x-api-key") != KEY:
            error = {"type": "authentication_error", "message": "invalid x-api-key"}
            await send_json(writer, 401, {"type": "error", "error": error}, _ids("req_e2e_401"))
            return True
        wanted = _format(body)
        if wanted is not None and _open_object(wanted.get("schema")):
            message = (
                "output_config.format.schema: For 'object' type, 'additionalProperties' must "
                "be explicitly set to false"
            )
            error = {"type": "invalid_request_error", "message": message}
            await send_json(writer, 400, {"type": "error", "error": error}, _ids("req_e2e_400"))
            return True
        content, stop = _answer(body)
        if not body.get("stream"):
            usage = {**USAGE, "output_tokens": 9}
            await send_json(writer, 200, _message(content, stop, usage), _ids("req_e2e"))
            return True
        await start_chunked(
            writer,
            headers={
                "content-type": "text/event-stream; charset=utf-8",
                **_ids("req_e2e_stream"),
            },
        )
        frames = _events(content, stop)
        if body.get("model") == "disconnect":
            await send_chunk(writer, frames[0] + frames[2] + frames[3] + frames[4][:30])
            writer.transport.abort()  # the connection dies mid-event
            return False
        for frame in frames:
            # Each event split in two writes, so the client must join network chunks.
            await send_chunk(writer, frame[:9])
            await send_chunk(writer, frame[9:])
        await end_chunks(writer)
        return True


def _ids(request_id: str) -> dict[str, str]:
    return {"request-id": request_id}
