"""The clients compared by ``bench_http.py``: raw baselines and Aether, behind one interface.

Every client builds its request body per call and parses and CHECKS every reply: the answer
text must be the canned one and each reply id is returned so the caller can check they are
all distinct (a reply that was not really fetched and parsed cannot pass).

Raw baselines are what a careful user would write by hand: ``httpx.AsyncClient`` or
``aiohttp.ClientSession`` + ``json.dumps``/``json.loads``, and for streams a hand-written SSE
split on blank lines over the raw byte chunks.
"""

from __future__ import annotations

import json
import os
from typing import Any, Protocol

from server import MODEL_ANTHROPIC, MODEL_GEMINI, MODEL_OPENAI, TEXT, stream_text

PROMPT = "Say hello."
KEY = "sk-bench-not-a-real-key"
CLIENTS = ("httpx", "aiohttp", "aether-bare", "aether", "aether-fast")
"""raw httpx, raw aiohttp, the bare OpenAI provider, ``Aether()``'s full stack over httpx and
over the aiohttp transport."""


class BenchFailure(AssertionError):
    """A reply did not carry what the server sent: the measurement is void."""


def check(condition: bool, what: str) -> None:
    if not condition:
        raise BenchFailure(what)


class Client(Protocol):
    async def complete(self) -> str:
        """One request; the reply's id (after checking its text)."""
        ...

    async def stream(self) -> tuple[str, int]:
        """One stream; its id and how many text chunks it had (after checking the text)."""
        ...

    async def aclose(self) -> None: ...


def _route(fmt: str, root: str, stream: bool) -> tuple[str, dict[str, Any]]:
    """URL and JSON body a hand-written client sends for ``fmt``."""
    if fmt == "openai":
        body: dict[str, Any] = {
            "model": MODEL_OPENAI,
            "messages": [{"role": "user", "content": PROMPT}],
        }
        if stream:
            body.update(stream=True, stream_options={"include_usage": True})
        return f"{root}/v1/chat/completions", body
    if fmt == "gemini":
        method = "streamGenerateContent?alt=sse" if stream else "generateContent"
        body = {"contents": [{"role": "user", "parts": [{"text": PROMPT}]}]}
        return f"{root}/v1beta/models/{MODEL_GEMINI}:{method}", body
    body = {
        "model": MODEL_ANTHROPIC,
        "max_tokens": 1024,
        "messages": [{"role": "user", "content": PROMPT}],
    }
    if stream:
        body["stream"] = True
    return f"{root}/v1/messages", body


_HEADERS = {
    "openai": {"authorization": f"Bearer {KEY}"},
    "gemini": {"x-goog-api-key": KEY},
    "anthropic": {"x-api-key": KEY, "anthropic-version": "2023-06-01"},
}


class _SSE:
    """The hand-written parse: split on blank lines, decode each ``data:`` JSON, keep text."""

    __slots__ = ("buf", "chunks", "done", "fmt", "rid", "text")

    def __init__(self, fmt: str) -> None:
        self.fmt = fmt
        self.buf = b""
        self.text: list[str] = []
        self.rid = ""
        self.chunks = 0
        self.done = False

    def feed(self, chunk: bytes) -> None:
        buf = self.buf + chunk
        if b"\r" in buf:
            buf = buf.replace(b"\r\n", b"\n")
        *events, self.buf = buf.split(b"\n\n")
        for event in events:
            at = event.find(b"data: ")
            if at < 0:
                continue
            data = event[at + 6 :]
            if data == b"[DONE]":
                self.done = True
                continue
            obj = json.loads(data)
            if self.fmt == "openai":
                self.rid = obj["id"]
                choices = obj["choices"]
                if choices:
                    piece = choices[0]["delta"].get("content")
                    if piece:
                        self.text.append(piece)
                        self.chunks += 1
            elif self.fmt == "gemini":
                self.rid = obj["responseId"]
                self.text.append(obj["candidates"][0]["content"]["parts"][0]["text"])
                self.chunks += 1
                self.done = "finishReason" in obj["candidates"][0]
            else:
                kind = obj["type"]
                if kind == "content_block_delta":
                    self.text.append(obj["delta"]["text"])
                    self.chunks += 1
                elif kind == "message_start":
                    self.rid = obj["message"]["id"]
                elif kind == "message_stop":
                    self.done = True

    def result(self, chunks: int) -> tuple[str, int]:
        check(self.done, "the stream ended without its end marker")
        check("".join(self.text) == stream_text(chunks), "the streamed text differs")
        return self.rid, self.chunks


def _reply_id(fmt: str, data: Any) -> str:
    if fmt == "openai":
        check(data["choices"][0]["message"]["content"] == TEXT, "wrong answer text")
        return str(data["id"])
    if fmt == "gemini":
        check(data["candidates"][0]["content"]["parts"][0]["text"] == TEXT, "wrong answer text")
        return str(data["responseId"])
    check(data["content"][0]["text"] == TEXT, "wrong answer text")
    return str(data["id"])


class RawHttpx:
    def __init__(self, fmt: str, root: str, chunks: int) -> None:
        import httpx

        self.fmt, self.chunks = fmt, chunks
        self.client = httpx.AsyncClient(timeout=60.0)
        self.headers = {"content-type": "application/json", **_HEADERS[fmt]}
        self.url, self.body = _route(fmt, root, stream=False)
        self.stream_url, self.stream_body = _route(fmt, f"{root}/n{chunks}", stream=True)

    async def complete(self) -> str:
        content = json.dumps(self.body).encode()
        response = await self.client.post(self.url, content=content, headers=self.headers)
        check(response.status_code == 200, f"HTTP {response.status_code}")
        return _reply_id(self.fmt, json.loads(response.content))

    async def stream(self) -> tuple[str, int]:
        content = json.dumps(self.stream_body).encode()
        parser = _SSE(self.fmt)
        request = self.client.build_request(
            "POST", self.stream_url, content=content, headers=self.headers
        )
        response = await self.client.send(request, stream=True)
        try:
            check(response.status_code == 200, f"HTTP {response.status_code}")
            async for chunk in response.aiter_raw():
                parser.feed(chunk)
        finally:
            await response.aclose()
        return parser.result(self.chunks)

    async def aclose(self) -> None:
        await self.client.aclose()


class RawAiohttp:
    def __init__(self, fmt: str, root: str, chunks: int) -> None:
        import aiohttp

        self.fmt, self.chunks = fmt, chunks
        self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60.0))
        self.headers = {"content-type": "application/json", **_HEADERS[fmt]}
        self.url, self.body = _route(fmt, root, stream=False)
        self.stream_url, self.stream_body = _route(fmt, f"{root}/n{chunks}", stream=True)

    async def complete(self) -> str:
        content = json.dumps(self.body).encode()
        async with self.session.post(self.url, data=content, headers=self.headers) as response:
            check(response.status == 200, f"HTTP {response.status}")
            raw = await response.read()
        return _reply_id(self.fmt, json.loads(raw))

    async def stream(self) -> tuple[str, int]:
        content = json.dumps(self.stream_body).encode()
        parser = _SSE(self.fmt)
        async with self.session.post(
            self.stream_url, data=content, headers=self.headers
        ) as response:
            check(response.status == 200, f"HTTP {response.status}")
            async for chunk in response.content.iter_any():
                parser.feed(chunk)
        return parser.result(self.chunks)

    async def aclose(self) -> None:
        await self.session.close()


class AetherClient:
    """``Aether()`` with its default stack, or (``bare``) the provider object alone."""

    def __init__(self, fmt: str, root: str, chunks: int, *, bare: bool = False) -> None:
        from pydantic import SecretStr

        from aether import Aether
        from aether.extensions.llm.builder import ProviderConfig
        from aether.llm.contracts import LLMRequest, Message

        self.chunks = chunks
        self._llm_request, self._message = LLMRequest, Message
        base = {
            "openai": f"{root}/v1",
            "gemini": f"{root}/v1beta",
            "anthropic": root,
        }[fmt]
        stream_base = base.replace(root, f"{root}/n{chunks}")
        config = ProviderConfig(provider=fmt, api_key=SecretStr(KEY), options={"base_url": base})
        stream_config = config.model_copy(update={"options": {"base_url": stream_base}})
        self.bare = bare
        self.client = Aether(config=config)
        self.streamer = Aether(config=stream_config)
        self.provider = self.client.provider
        if bare:  # the provider the stack wraps, called directly
            self.provider = _innermost(self.client.provider)
            self.stream_provider = _innermost(self.streamer.provider)

    def _request(self) -> Any:
        # Built per call, as a caller of the bare provider would.
        return self._llm_request(messages=[self._message(role="user", content=PROMPT)])

    async def complete(self) -> str:
        if self.bare:
            response = await self.provider.complete(self._request())
        else:
            response = await self.client.complete(PROMPT)
        check(response.text == TEXT, "wrong answer text")
        return str(response.response_id)

    async def stream(self) -> tuple[str, int]:
        source = (
            self.stream_provider.stream(self._request())
            if self.bare
            else self.streamer.stream(PROMPT)
        )
        text: list[str] = []
        rid = ""
        finished = False
        async for chunk in source:
            if chunk.text:
                text.append(chunk.text)
            if chunk.response_id:
                rid = chunk.response_id
            finished = chunk.finish_reason is not None
        check(finished, "no final chunk")
        check("".join(text) == stream_text(self.chunks), "the streamed text differs")
        return rid, len(text)

    async def aclose(self) -> None:
        await self.client.aclose()
        await self.streamer.aclose()


def _innermost(provider: Any) -> Any:
    while hasattr(provider, "inner"):
        provider = provider.inner
    return provider


def make_client(name: str, fmt: str, root: str, chunks: int) -> Client:
    """The client called ``name`` (one of :data:`CLIENTS`) talking ``fmt`` to ``root``."""
    if name == "httpx":
        return RawHttpx(fmt, root, chunks)
    if name == "aiohttp":
        return RawAiohttp(fmt, root, chunks)
    # aether-fast differs only by the environment: no code change selects the transport.
    os.environ["AETHER_HTTP_TRANSPORT"] = "aiohttp" if name == "aether-fast" else "httpx"
    return AetherClient(fmt, root, chunks, bare=name == "aether-bare")
