"""Choosing the transport of a created client: keyword, environment, errors, and real traffic
over the aiohttp transport to a server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from httpx_aiohttp import AiohttpTransport, HttpxAiohttpClient

from aether.errors import ConfigurationError, NotFoundError
from aether.http import (
    DEFAULT_LIMITS,
    TRANSPORT_ENV,
    HTTPProviderClient,
    create_http_client,
    resolve_transport,
)

_SSE = b'data: {"n":1}\n\ndata: {"n":2}\n\ndata: [DONE]\n\n'


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Keep-alive HTTP/1.1: /json → JSON, /sse → a chunked event stream, else 404."""
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            path = head.split(b" ", 2)[1]
            if path.endswith(b"/json"):
                body = b'{"ok":true}'
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                    b"content-length: %d\r\n\r\n%s" % (len(body), body)
                )
            elif path.endswith(b"/sse"):
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                    b"transfer-encoding: chunked\r\n\r\n"
                )
                for part in (_SSE[:5], _SSE[5:20], _SSE[20:]):  # events split across chunks
                    writer.write(b"%x\r\n%s\r\n" % (len(part), part))
                writer.write(b"0\r\n\r\n")
            else:
                body = b'{"error":{"message":"no such route"}}'
                writer.write(
                    b"HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\n"
                    b"content-length: %d\r\n\r\n%s" % (len(body), body)
                )
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


@pytest.fixture
async def base_url() -> AsyncIterator[str]:
    server = await asyncio.start_server(_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}/v1"
    server.close()
    await server.wait_closed()


def test_default_is_httpx(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TRANSPORT_ENV, raising=False)
    assert resolve_transport() == "httpx"


def test_environment_selects_and_keyword_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TRANSPORT_ENV, " AIOHTTP ")
    assert resolve_transport() == "aiohttp"
    assert resolve_transport("httpx") == "httpx"


@pytest.mark.parametrize(("kwarg", "env"), [("curl", None), (None, "curl")])
def test_unknown_transport_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, kwarg: str | None, env: str | None
) -> None:
    if env is None:
        monkeypatch.delenv(TRANSPORT_ENV, raising=False)
    else:
        monkeypatch.setenv(TRANSPORT_ENV, env)
    with pytest.raises(
        ConfigurationError, match=r"'curl' is not an HTTP transport.*httpx, aiohttp"
    ):
        resolve_transport(kwarg)


def test_missing_aiohttp_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: object) -> object:
        return None if name == "httpx_aiohttp" else real(name)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    monkeypatch.setenv(TRANSPORT_ENV, "aiohttp")
    with pytest.raises(ConfigurationError, match=r"pip install aether-core\[aiohttp\]") as info:
        HTTPProviderClient(provider="acme", base_url="http://127.0.0.1:9")
    assert "AETHER_HTTP_TRANSPORT='aiohttp'" in str(info.value)


def test_bad_environment_fails_at_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TRANSPORT_ENV, "h3")
    with pytest.raises(ConfigurationError, match="AETHER_HTTP_TRANSPORT='h3'"):
        HTTPProviderClient(provider="acme", base_url="http://127.0.0.1:9")


async def test_borrowed_client_ignores_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TRANSPORT_ENV, "h3")  # not consulted: the client brings its transport
    async with httpx.AsyncClient() as client:
        http = HTTPProviderClient(provider="acme", base_url="http://x", http_client=client)
        assert "borrowed" in repr(http)


async def test_client_and_transport_together_are_refused() -> None:
    async with httpx.AsyncClient() as client:
        with pytest.raises(ConfigurationError, match="either http_client or transport"):
            HTTPProviderClient(
                provider="acme", base_url="http://x", http_client=client, transport="aiohttp"
            )


async def test_create_http_client_picks_the_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    async with create_http_client(transport="aiohttp", timeout=5.0) as fast:
        assert isinstance(fast, HttpxAiohttpClient)
        assert isinstance(fast._transport, AiohttpTransport)
        assert fast.timeout.read == 5.0
    seen: list[httpx.Limits] = []
    real = httpx.AsyncClient._init_transport

    def spy(self: httpx.AsyncClient, *args: Any, **kwargs: Any) -> httpx.AsyncBaseTransport:
        seen.append(kwargs["limits"])
        return real(self, *args, **kwargs)

    monkeypatch.setattr(httpx.AsyncClient, "_init_transport", spy)
    async with create_http_client(transport="httpx") as plain:
        assert type(plain) is httpx.AsyncClient
    assert seen == [DEFAULT_LIMITS]
    assert DEFAULT_LIMITS.max_connections == 100


@pytest.mark.parametrize("transport", ["httpx", "aiohttp"])
async def test_requests_over_each_transport(base_url: str, transport: str) -> None:
    async with HTTPProviderClient(provider="acme", base_url=base_url, transport=transport) as http:
        assert f"transport={transport}" in repr(http)
        assert await http.post_json("json", {"q": 1}) == {"ok": True}
        assert await http.post_json("json", {"q": 2}) == {"ok": True}  # kept-alive socket
        events = [event.data async for event in http.stream_sse("sse", {"stream": True})]
        assert events == ['{"n":1}', '{"n":2}', "[DONE]"]
        with pytest.raises(NotFoundError, match="no such route") as info:
            await http.post_json("missing", {})
        assert info.value.status_code == 404
        expected = HttpxAiohttpClient if transport == "aiohttp" else httpx.AsyncClient
        assert type(http._get_client()) is expected


async def test_environment_reaches_the_created_client(
    base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TRANSPORT_ENV, "aiohttp")
    async with HTTPProviderClient(provider="acme", base_url=base_url) as http:
        assert await http.post_json("json", {}) == {"ok": True}
        assert isinstance(http._get_client(), HttpxAiohttpClient)
