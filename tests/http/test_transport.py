"""Choosing the transport of a created client: keyword, environment, errors, and real traffic
over each transport to a server on 127.0.0.1: the same answers and the same typed errors."""

from __future__ import annotations

import asyncio
import gzip
import importlib.util
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

import httpx
import pytest
from httpx_aiohttp import AiohttpTransport, HttpxAiohttpClient

from aether import config
from aether.errors import (
    ConfigurationError,
    NotFoundError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    ServerError,
    StreamInterruptedError,
    UnexpectedResponseError,
)
from aether.http import (
    DEFAULT_LIMITS,
    TRANSPORT_ENV,
    HTTPProviderClient,
    create_http_client,
    resolve_transport,
)
from aether.http._aiohttp import AiohttpWire
from tests.support.loopback import (
    LoopbackServer,
    Request,
    end_chunks,
    send_chunk,
    send_json,
    start_chunked,
)

_SSE = b'data: {"n":1}\n\ndata: {"n":2}\n\ndata: [DONE]\n\n'
_KEY = "sk-transport-secret"
_GZIPPED = gzip.compress(b'{"ok":"unzipped"}')


async def _answer(
    request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> bool:
    """/json → JSON, /sse → a chunked event stream, /busy → 429, /gzip, /slow (no answer for
    5 s), /broken (an event, then the socket closes mid-body), /hang (an event, then
    silence), /jsonstream (JSON where events were asked for), /cut503 and /cut200 (a JSON
    body promising 100 bytes, closed after 16), else 404."""
    route = request["path"].rsplit("/", 1)[-1]
    if route in ("cut503", "cut200"):
        head = f"HTTP/1.1 {route[3:]} X\r\ncontent-type: application/json\r\n"
        writer.write(f"{head}content-length: 100\r\n\r\n".encode() + b'{"error": {"mess')
        await writer.drain()
        return False  # closes the socket 84 bytes short
    if route == "slow":
        await asyncio.sleep(5)
        return False
    if route in ("broken", "hang"):
        await start_chunked(writer)
        await send_chunk(writer, b'data: {"n":1}\n\n')
        if route == "hang":
            await asyncio.sleep(5)
        return False  # closes the socket inside a chunked body
    if route == "busy":
        message = {"error": {"message": f"slow down, key {_KEY}"}}
        await send_json(writer, 429, message, {"retry-after": "7", "x-request-id": "req_42"})
    elif route == "jsonstream":
        await send_json(writer, 200, {"error": {"message": "streaming is off"}})
    elif route == "gzip":
        await send_json(writer, 200, _GZIPPED, {"content-encoding": "gzip"})
    elif route == "json":
        await send_json(writer, 200, {"ok": True})
    elif route == "sse":
        await start_chunked(writer)
        for part in (_SSE[:5], _SSE[5:20], _SSE[20:]):  # events split across chunks
            await send_chunk(writer, part)
        await end_chunks(writer)
    else:
        await send_json(writer, 404, {"error": {"message": "no such route"}})
    return True


@pytest.fixture
async def base_url() -> AsyncIterator[str]:
    server = await LoopbackServer(_answer).start()
    yield f"{server.root}/v1"
    await server.stop()


def test_default_is_httpx(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TRANSPORT_ENV, raising=False)
    assert resolve_transport() == "httpx"


def test_environment_selects_and_keyword_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TRANSPORT_ENV, " AIOHTTP ")
    assert resolve_transport() == "aiohttp"
    assert resolve_transport("httpx") == "httpx"


def test_unknown_transport_keyword_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(TRANSPORT_ENV, raising=False)
    with pytest.raises(
        ConfigurationError, match=r"'curl' is not an HTTP transport.*httpx, aiohttp\)"
    ):
        resolve_transport("curl")
    with pytest.raises(ConfigurationError, match=r"did you mean 'aiohttp'\?"):
        resolve_transport("aiohtp")


def _config_reports(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "aether.config"]


def test_unknown_transport_in_environment_is_reported_once_and_httpx_used(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(config, "_reported", set())  # as in a fresh process
    monkeypatch.setenv(TRANSPORT_ENV, "aiohtp")
    assert [resolve_transport() for _ in range(3)] == ["httpx"] * 3
    assert _config_reports(caplog) == [
        "Environment variable AETHER_HTTP_TRANSPORT='aiohtp' is not an HTTP transport "
        "(choose one of httpx, aiohttp; did you mean 'aiohttp'?); using the default 'httpx' "
        "instead. Fix or unset AETHER_HTTP_TRANSPORT."
    ]


def test_unknown_transport_in_environment_is_refused_when_strict(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(TRANSPORT_ENV, "h3")
    monkeypatch.setenv("AETHER_STRICT", "1")
    with pytest.raises(ConfigurationError, match=r"AETHER_HTTP_TRANSPORT='h3'.*refused"):
        HTTPProviderClient(provider="acme", base_url="http://127.0.0.1:9")


def _without_aiohttp(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: object) -> object:
        return None if name == "aiohttp" else real(name)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


def test_missing_aiohttp_keyword_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    _without_aiohttp(monkeypatch)
    with pytest.raises(ConfigurationError, match=r"pip install aether-core\[aiohttp\]") as info:
        HTTPProviderClient(provider="acme", base_url="http://127.0.0.1:9", transport="aiohttp")
    assert "transport='aiohttp'" in str(info.value)


def test_missing_aiohttp_in_environment_is_reported_and_httpx_used(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(config, "_reported", set())  # as in a fresh process
    _without_aiohttp(monkeypatch)
    monkeypatch.setenv(TRANSPORT_ENV, "aiohttp")
    http = HTTPProviderClient(provider="acme", base_url="http://127.0.0.1:9")
    assert "transport=httpx" in repr(http)
    [message] = _config_reports(caplog)
    assert "AETHER_HTTP_TRANSPORT='aiohttp'" in message
    assert "pip install aether-core[aiohttp]" in message
    monkeypatch.setenv("AETHER_STRICT", "1")
    with pytest.raises(ConfigurationError, match=r"pip install aether-core\[aiohttp\]") as info:
        HTTPProviderClient(provider="acme", base_url="http://127.0.0.1:9")
    assert "AETHER_HTTP_TRANSPORT='aiohttp'" in str(info.value)


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
    assert (DEFAULT_LIMITS.max_connections, DEFAULT_LIMITS.max_keepalive_connections) == (1000, 100)


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
        if transport == "aiohttp":  # sent by aiohttp itself, no httpx client in between
            assert isinstance(http._wire, AiohttpWire)
            assert http._client is None
        else:
            assert http._wire is None
            assert type(http._client) is httpx.AsyncClient


async def test_environment_reaches_the_created_client(
    base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TRANSPORT_ENV, "aiohttp")
    async with HTTPProviderClient(provider="acme", base_url=base_url) as http:
        assert await http.post_json("json", {}) == {"ok": True}
        assert isinstance(http._wire, AiohttpWire)
    assert http._wire is None  # closed with the client


async def test_create_http_client_without_httpx_aiohttp_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "httpx_aiohttp", None)  # import fails as if missing
    with pytest.raises(ConfigurationError, match=r"httpx-aiohttp.*aether-core\[aiohttp\]"):
        create_http_client(transport="aiohttp")


TRANSPORTS = pytest.mark.parametrize("transport", ["httpx", "aiohttp"])


@TRANSPORTS
async def test_status_error_carries_retry_after_and_request_id(
    base_url: str, transport: str
) -> None:
    async with HTTPProviderClient(
        provider="acme", base_url=base_url, transport=transport, secrets=[_KEY]
    ) as http:
        for call in (http.post_json("busy", {}), _drain(http.stream_sse("busy", {}))):
            with pytest.raises(RateLimitError) as info:
                await call
            assert info.value.status_code == 429
            assert info.value.retry_after == 7.0
            assert info.value.request_id == "req_42"
            assert _KEY not in str(info.value) and "slow down" in str(info.value)


@TRANSPORTS
async def test_gzip_body_is_decoded(base_url: str, transport: str) -> None:
    async with HTTPProviderClient(provider="acme", base_url=base_url, transport=transport) as http:
        assert await http.post_json("gzip", {}) == {"ok": "unzipped"}


@TRANSPORTS
async def test_json_where_events_were_asked_for(base_url: str, transport: str) -> None:
    async with HTTPProviderClient(provider="acme", base_url=base_url, transport=transport) as http:
        # The body is an error object: raised as the error it reports, typed by its content.
        with pytest.raises(ServerError, match="streaming is off"):
            await _drain(http.stream_sse("jsonstream", {}))
        with pytest.raises(UnexpectedResponseError, match=r"JSON body.*ok.*where an event"):
            await _drain(http.stream_sse("json", {}))


@TRANSPORTS
async def test_read_timeout_is_typed(base_url: str, transport: str) -> None:
    async with HTTPProviderClient(
        provider="acme", base_url=base_url, transport=transport, timeout=0.2
    ) as http:
        with pytest.raises(ProviderTimeoutError, match="timed out"):
            await http.post_json("slow", {})


@TRANSPORTS
async def test_refused_connection_is_typed(transport: str) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nobody listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    expected: type[ProviderError] = ProviderConnectionError
    if transport == "httpx" and httpx.AsyncClient._init_transport is getattr(
        HttpxAiohttpClient, "_init_transport", None
    ):  # --http-transport=aiohttp put httpx-aiohttp under httpx, which calls this a timeout
        expected = ProviderTimeoutError
    async with HTTPProviderClient(
        provider="acme", base_url=f"http://127.0.0.1:{port}", transport=transport
    ) as http:
        with pytest.raises(expected, match=r"\((Connect|ClientConnector)\w*"):
            await http.post_json("json", {})
        with pytest.raises(expected):
            await _drain(http.stream_sse("sse", {}))


@TRANSPORTS
@pytest.mark.parametrize(("route", "kind"), [("broken", "broke"), ("hang", "timed out")])
async def test_stream_cut_mid_body_is_interrupted(
    base_url: str, transport: str, route: str, kind: str
) -> None:
    got: list[str] = []

    async def consume(http: HTTPProviderClient) -> None:
        async for event in http.stream_sse(route, {}):
            got.append(event.data)

    async with HTTPProviderClient(
        provider="acme", base_url=base_url, transport=transport, timeout=0.3
    ) as http:
        with pytest.raises(StreamInterruptedError, match=f"{kind} mid-way") as info:
            await consume(http)
        assert got == ['{"n":1}']
        assert info.value.status_code == 200
        # The broken connection was given up: the next call works on a fresh one.
        assert await http.post_json("json", {}) == {"ok": True}


@pytest.mark.parametrize("transport", ["httpx", "aiohttp", "borrowed"])
@pytest.mark.parametrize("route", ["cut503", "cut200"])
async def test_answer_cut_before_any_event_is_a_transport_error_on_every_transport(
    base_url: str, transport: str, route: str
) -> None:
    # A refused answer (or JSON where events were asked for) whose body breaks off: the call
    # failed before any event, so it is the transport error, not an interrupted stream, the
    # same on every path. "borrowed" is an httpx client given to the provider (over aiohttp
    # too when the suite runs with --http-transport=aiohttp).
    borrowed = httpx.AsyncClient() if transport == "borrowed" else None
    chosen = None if borrowed is not None else transport
    async with HTTPProviderClient(
        provider="acme", base_url=base_url, transport=chosen, http_client=borrowed
    ) as http:
        for call in (_drain(http.stream_sse(route, {})), http.post_json(route, {})):
            with pytest.raises(ProviderError) as info:
                await call
            assert type(info.value) is ProviderConnectionError, repr(info.value)
            assert info.value.provider == "acme"
            assert "incomplete" not in str(info.value)
        assert await http.post_json("json", {}) == {"ok": True}  # a fresh connection works
    if borrowed is not None:
        await borrowed.aclose()


@TRANSPORTS
async def test_early_stop_and_cancellation_release_the_connection(
    base_url: str, transport: str
) -> None:
    async with HTTPProviderClient(
        provider="acme", base_url=base_url, transport=transport, timeout=2.0
    ) as http:
        async with aclosing(http.stream_sse("hang", {})) as events:
            async for _event in events:
                break
        started = asyncio.Event()

        async def consume() -> None:
            async for _event in http.stream_sse("hang", {}):
                started.set()

        task = asyncio.create_task(consume())
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await http.post_json("json", {}) == {"ok": True}
        if transport == "aiohttp":
            assert http._wire is not None
            connector = http._wire._get_session().connector
            assert connector is not None
            # Nothing is still checked out of aiohttp's pool: both streams gave theirs back.
            assert not connector._acquired


async def _drain(events: AsyncIterator[Any]) -> None:
    async for _event in events:
        pass
