"""The provider against a real HTTP server on 127.0.0.1: complete, stream, a tool round trip.

The server speaks just enough of the Gemini API to check what the provider really sends over
a socket (headers, paths, JSON) and that it reads real chunked SSE with ``\\r\\n`` framing.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from aether.errors import AuthenticationError
from aether.llm.contracts import LLMRequest, Message, ToolSpec
from aether_gemini import GeminiProvider

KEY = "e2e-key-0001"
USAGE = {"promptTokenCount": 10, "candidatesTokenCount": 5, "thoughtsTokenCount": 2}


class FakeGemini(BaseHTTPRequestHandler):
    """Answers ``generateContent`` and ``streamGenerateContent?alt=sse`` like Gemini does."""

    received: list[dict[str, Any]]

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        self.received.append(
            {"path": self.path, "key": self.headers.get("x-goog-api-key"), "body": body}
        )
        if self.headers.get("x-goog-api-key") != KEY:
            self._json(403, {"error": {"code": 403, "message": "bad key", "status": "DENIED"}})
        elif self.path.endswith(":streamGenerateContent?alt=sse"):
            self._stream(["Once ", "upon ", "a time."])
        elif self._answers_a_call(body):
            result = body["contents"][-1]["parts"][0]["functionResponse"]["response"]
            self._json(200, self._answer([{"text": f"The sum is {result['result']}."}]))
        else:
            call = {"functionCall": {"name": "add", "args": {"a": 2, "b": 3}}}
            self._json(200, self._answer([{"text": "Let me add.", "thought": True}, call]))

    @staticmethod
    def _answers_a_call(body: dict[str, Any]) -> bool:
        return any("functionResponse" in part for part in body["contents"][-1]["parts"])

    @staticmethod
    def _answer(parts: list[dict[str, Any]], finish: str | None = "STOP") -> dict[str, Any]:
        candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}}
        if finish:
            candidate["finishReason"] = finish
        return {"candidates": [candidate], "usageMetadata": USAGE, "modelVersion": "fake-1"}

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json; charset=UTF-8")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, pieces: list[str]) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        for i, piece in enumerate(pieces):
            last = i == len(pieces) - 1
            event = self._answer([{"text": piece}], "STOP" if last else None)
            frame = b"data: " + json.dumps(event).encode() + b"\r\n\r\n"
            # Split each event across two writes, so the parser must join chunks.
            for part in (frame[:7], frame[7:]):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")


@pytest.fixture
def server() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []
    handler = type("Handler", (FakeGemini,), {"received": received})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1beta", received
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


ADD = ToolSpec(
    name="add",
    description="Add two integers.",
    parameters={
        "type": "object",
        "title": "AddArgs",
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        "required": ["a", "b"],
    },
)


async def test_function_call_round_trip(server: tuple[str, list[dict[str, Any]]]) -> None:
    base_url, received = server
    messages = [
        Message(role="system", content="Use tools."),
        Message(role="user", content="What is 2 + 3?"),
    ]
    async with GeminiProvider(api_key=KEY, base_url=base_url, default_model="fake") as gemini:
        first = await gemini.complete(LLMRequest(messages=messages, tools=[ADD]))
        assert first.finish_reason == "tool_calls"
        assert first.reasoning_text == "Let me add."
        assert first.text == ""
        (call,) = first.tool_calls
        assert (call.name, call.arguments) == ("add", {"a": 2, "b": 3})
        messages += [
            Message(role="assistant", tool_calls=[call]),
            Message(role="tool", tool_call_id=call.id, content=str(2 + 3)),
        ]
        second = await gemini.complete(LLMRequest(messages=messages, tools=[ADD]))
    assert second.text == "The sum is 5."
    assert (second.input_tokens, second.output_tokens, second.reasoning_tokens) == (10, 7, 2)
    assert second.model == "fake-1"
    assert [r["path"] for r in received] == ["/v1beta/models/fake:generateContent"] * 2
    assert all(r["key"] == KEY and KEY not in r["path"] for r in received)
    first_body, second_body = (r["body"] for r in received)
    assert first_body["systemInstruction"] == {"parts": [{"text": "Use tools."}]}
    declaration = first_body["tools"][0]["functionDeclarations"][0]
    assert declaration["parametersJsonSchema"] == ADD.parameters  # whole, title included
    assert [c["role"] for c in second_body["contents"]] == ["user", "model", "user"]
    assert second_body["contents"][2]["parts"] == [
        {"functionResponse": {"name": "add", "response": {"result": "5"}}}
    ]


async def test_stream_over_a_socket(server: tuple[str, list[dict[str, Any]]]) -> None:
    base_url, received = server
    async with GeminiProvider(api_key=KEY, base_url=base_url) as gemini:
        request = LLMRequest(messages=[Message(role="user", content="A story")], model="fake")
        chunks = [chunk async for chunk in gemini.stream(request)]
    assert [c.text for c in chunks] == ["Once ", "upon ", "a time.", ""]
    assert chunks[-1].finish_reason == "stop"
    assert (chunks[-1].input_tokens, chunks[-1].output_tokens) == (10, 7)
    assert received[0]["path"] == "/v1beta/models/fake:streamGenerateContent?alt=sse"


async def test_wrong_key_over_a_socket(server: tuple[str, list[dict[str, Any]]]) -> None:
    base_url, _ = server
    async with GeminiProvider(api_key="wrong-key", base_url=base_url) as gemini:
        with pytest.raises(AuthenticationError, match="bad key"):
            await gemini.complete(LLMRequest(messages=[Message(role="user", content="x")]))
