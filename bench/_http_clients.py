"""The clients compared by ``bench_http.py``: raw baselines and Aether, behind one interface.

Every client builds its request body per call and parses and CHECKS every reply: the answer
text must be the canned one and each reply id is returned so the caller can check they are
all distinct (a reply that was not really fetched and parsed cannot pass).

Raw baselines are what a careful user would write by hand: ``httpx.AsyncClient`` or
``aiohttp.ClientSession`` + ``json.dumps``/``json.loads``, and for streams a hand-written SSE
split on blank lines over the raw byte chunks. No client is given a TLS context: each trusts
the bench's certificate authority through ``SSL_CERT_FILE``, as a user's would.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any, Protocol

from _canned import MODEL_ANTHROPIC, MODEL_GEMINI, MODEL_OPENAI, TEXT, stream_text

if TYPE_CHECKING:
    import httpx

PROMPT = "Say hello."
KEY = "sk-bench-not-a-real-key"

SDK_POOL: dict[str, Any] = {"max_connections": 1000, "max_keepalive_connections": 100}
"""The pool the openai SDK gives its httpx client (``openai._constants``): 100 kept alive."""

CLIENTS: dict[str, str] = {
    "httpx-100ka": "raw httpx, the openai SDK's pool (1000 connections, 100 kept alive)",
    "httpx-default": "raw httpx, httpx's default pool (100 connections, 20 kept alive)",
    "aiohttp": "raw aiohttp, its default pool (100 connections)",
    "openai-sdk": "the openai SDK's AsyncOpenAI (httpx and pydantic, as Aether), OpenAI only",
    "aether-bare": "Aether's OpenAI provider alone, default (httpx) transport",
    "aether": "Aether() full default stack, default (httpx) transport",
    "aether-aiohttp": "Aether() full stack, AETHER_HTTP_TRANSPORT=aiohttp",
    "aether-aiohttp-bare": "Aether's OpenAI provider alone, AETHER_HTTP_TRANSPORT=aiohttp",
    "aether-100ka": "Aether() full stack, http_client= with the openai SDK's pool",
    "aether-h2": "Aether() full stack, http_client= with the SDK's pool and http2=True",
    "httpx@M/K[/h2]": "raw httpx, M connections, K kept alive (HTTP/2 with /h2)",
    "aether@M/K[/h2]": "Aether() full stack, http_client= with that pool",
    "aiohttp@M": "raw aiohttp, M connections",
}
"""Every client, by name: its description (the last two are patterns for pools to try)."""
BASELINES = ("httpx-100ka", "httpx-default", "aiohttp")
"""The raw clients every Aether configuration is compared with."""


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
        _check_text(self.text, chunks)
        return self.rid, self.chunks


def _check_text(parts: list[str], chunks: int) -> None:
    check("".join(parts) == stream_text(chunks), "the streamed text differs")


def _ended(parts: list[str], rid: str, finished: bool, chunks: int) -> tuple[str, int]:
    """A typed client's stream, checked: its id and how many text chunks it had."""
    check(finished, "no final chunk")
    _check_text(parts, chunks)
    return rid, len(parts)


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
    """Args: pool: ``httpx.Limits`` keywords; None: httpx's own default pool."""

    def __init__(
        self, fmt: str, root: str, chunks: int, pool: dict[str, Any] | None, http2: bool = False
    ) -> None:
        import httpx

        self.fmt, self.chunks = fmt, chunks
        if pool is None:  # no limits= keeps httpx's pool; httpx.Limits() would mean unlimited
            self.client = httpx.AsyncClient(timeout=60.0, http2=http2)
        else:
            limits = httpx.Limits(**pool)
            self.client = httpx.AsyncClient(timeout=60.0, http2=http2, limits=limits)
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
    """Args: limit: connections in aiohttp's pool; None: its default (100)."""

    def __init__(self, fmt: str, root: str, chunks: int, limit: int | None = None) -> None:
        import aiohttp

        self.fmt, self.chunks = fmt, chunks
        connector = None if limit is None else aiohttp.TCPConnector(limit=limit)
        self.session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=60.0), connector=connector
        )
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


class OpenAISDK:
    """The openai SDK as its users call it: ``AsyncOpenAI(...).chat.completions.create``.

    The peer built like Aether (httpx under typed pydantic answers), so it shows what that
    design costs a caller; it speaks the OpenAI format only.
    """

    def __init__(self, fmt: str, root: str, chunks: int) -> None:
        import openai

        check(fmt == "openai", "the openai SDK speaks the OpenAI format only")
        self.chunks = chunks
        self.client = openai.AsyncOpenAI(api_key=KEY, base_url=f"{root}/v1", max_retries=0)
        self.streamer = openai.AsyncOpenAI(
            api_key=KEY, base_url=f"{root}/n{chunks}/v1", max_retries=0
        )

    async def complete(self) -> str:
        reply = await self.client.chat.completions.create(
            model=MODEL_OPENAI, messages=[{"role": "user", "content": PROMPT}]
        )
        check(reply.choices[0].message.content == TEXT, "wrong answer text")
        return reply.id

    async def stream(self) -> tuple[str, int]:
        source = await self.streamer.chat.completions.create(
            model=MODEL_OPENAI,
            messages=[{"role": "user", "content": PROMPT}],
            stream=True,
            stream_options={"include_usage": True},
        )
        text: list[str] = []
        rid = ""
        finished = False
        async for chunk in source:
            rid = chunk.id or rid
            if chunk.choices:
                delta = chunk.choices[0].delta.content
                if delta:
                    text.append(delta)
                finished = finished or chunk.choices[0].finish_reason is not None
        return _ended(text, rid, finished, self.chunks)

    async def aclose(self) -> None:
        await self.client.close()
        await self.streamer.close()


class AetherClient:
    """``Aether()`` with its default stack, or (``bare``) the provider object alone.

    Args:
        http_client: Given to the provider (``ProviderConfig(options={"http_client": ...})``,
            the provider's documented keyword) and closed here, as its owner would.
    """

    def __init__(
        self,
        fmt: str,
        root: str,
        chunks: int,
        *,
        bare: bool = False,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
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
        options: dict[str, Any] = {} if http_client is None else {"http_client": http_client}
        self.http_client = http_client
        config = ProviderConfig(
            provider=fmt, api_key=SecretStr(KEY), options={**options, "base_url": base}
        )
        stream_config = config.model_copy(update={"options": {**options, "base_url": stream_base}})
        self.bare = bare
        self.client = Aether(config=config)
        self.streamer = Aether(config=stream_config)
        self.provider = self.client.provider
        if bare:  # the provider the stack wraps, called directly
            self.provider = _innermost(self.client.provider)
            self.stream_provider = _innermost(self.streamer.provider)

    def settle(self) -> None:
        """After the warm-up: pay now the one-time cost Aether defers to later calls.

        Calls are priced when ``usage`` is read, or every 256 calls, so the price data loads
        once per process on the first of those (about 50 ms): a one-time cost like opening a
        connection, which a timed cell must not spread over its requests. Reading ``usage``
        once here loads it (the cold-start table shows it apart).
        """
        if self.bare:  # calls that bypass the stack defer nothing
            return
        made = sum(client.usage.total_requests for client in (self.client, self.streamer))
        check(made > 0, "the warm-up's call was not counted")

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
        return _ended(text, rid, finished, self.chunks)

    async def aclose(self) -> None:
        await self.client.aclose()
        await self.streamer.aclose()
        if self.http_client is not None:
            await self.http_client.aclose()


def _innermost(provider: Any) -> Any:
    while hasattr(provider, "inner"):
        provider = provider.inner
    return provider


def _pool(spec: str) -> tuple[dict[str, Any], bool]:
    """``"1000/100"`` or ``"1000/100/h2"``: httpx.Limits keywords and whether to use HTTP/2."""
    parts = spec.split("/")
    try:
        most, kept = int(parts[0]), int(parts[1])
    except (IndexError, ValueError):
        raise ValueError(f"pool {spec!r}: write MAX_CONNECTIONS/MAX_KEEPALIVE[/h2]") from None
    http2 = parts[2:] == ["h2"]
    return {"max_connections": most, "max_keepalive_connections": kept}, http2


def _pooled_httpx(pool: dict[str, Any], http2: bool = False) -> httpx.AsyncClient:
    """An httpx client as a user would pass it to Aether: this pool, Aether's timeouts."""
    import httpx

    from aether.http import DEFAULT_TIMEOUT

    return httpx.AsyncClient(timeout=DEFAULT_TIMEOUT, limits=httpx.Limits(**pool), http2=http2)


def make_client(name: str, fmt: str, root: str, chunks: int) -> Client:
    """The client called ``name`` talking ``fmt`` to ``root``.

    ``name`` is a key of :data:`CLIENTS`, or a pool to evaluate: ``httpx@1000/100`` (raw httpx)
    or ``aether@1000/100`` (Aether given an httpx client), with ``/h2`` for HTTP/2, or
    ``aiohttp@1000`` (raw aiohttp, that many connections).
    """
    kind, _, spec = name.partition("@")
    if spec and kind == "httpx":
        pool, http2 = _pool(spec)
        return RawHttpx(fmt, root, chunks, pool, http2=http2)
    if spec and kind == "aiohttp":
        return RawAiohttp(fmt, root, chunks, limit=int(spec))
    if name == "httpx-100ka":
        return RawHttpx(fmt, root, chunks, SDK_POOL)
    if name == "httpx-default":
        return RawHttpx(fmt, root, chunks, None)
    if name == "aiohttp":
        return RawAiohttp(fmt, root, chunks)
    if name == "openai-sdk":
        return OpenAISDK(fmt, root, chunks)
    # aether-aiohttp differs only by the environment: no code change selects the transport.
    aiohttp = name in ("aether-aiohttp", "aether-aiohttp-bare")
    os.environ["AETHER_HTTP_TRANSPORT"] = "aiohttp" if aiohttp else "httpx"
    if spec and kind == "aether":
        pool, http2 = _pool(spec)
        return AetherClient(fmt, root, chunks, http_client=_pooled_httpx(pool, http2))
    if name == "aether-100ka":
        return AetherClient(fmt, root, chunks, http_client=_pooled_httpx(SDK_POOL))
    if name == "aether-h2":
        return AetherClient(fmt, root, chunks, http_client=_pooled_httpx(SDK_POOL, http2=True))
    if name in ("aether", "aether-bare", "aether-aiohttp", "aether-aiohttp-bare"):
        return AetherClient(fmt, root, chunks, bare=name.endswith("-bare"))
    raise ValueError(f"unknown client {name!r}; choose one of {', '.join(CLIENTS)}")
