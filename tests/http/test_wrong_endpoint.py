"""A base URL that cannot work, or that reaches something other than the API, says so at once.

Every provider, over a real server on 127.0.0.1 and through the client's default stack (so a
retry would show as a second request): a base URL or timeout that cannot work fails before
any request; a web page, a body with no event in it, or another service's JSON is an
``UnexpectedResponseError`` that names the base URL, for a call and a stream alike, after
exactly one request.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from aether import Aether
from aether.errors import ConfigurationError, ProviderTimeoutError, UnexpectedResponseError
from aether.extensions.llm.builder import ProviderConfig
from aether.extensions.llm.factory import create_provider
from aether.extensions.llm.retrying import set_testing
from tests.support.loopback import LoopbackServer, Request, send_json

# name: (environment prefix, the path of the API root on a server)
PROVIDERS = {
    "openai": ("OPENAI", "/v1"),
    "gemini": ("GEMINI", "/v1beta"),
    "anthropic": ("ANTHROPIC", ""),
}
EACH = pytest.mark.parametrize("name", list(PROVIDERS))
KEY = "sk-test-wrong-endpoint-42"
PAGE = b"<!DOCTYPE html><html><head><title>Welcome to nginx!</title></head></html>"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for prefix, _ in PROVIDERS.values():
        for suffix in ("API_KEY", "MODEL", "BASE_URL"):
            monkeypatch.delenv(f"{prefix}_{suffix}", raising=False)
    with set_testing(True):  # a retry, were there one, would not wait
        yield


class Answer:
    """What the server sends for every request: a status, a content type and a body."""

    def __init__(self, body: bytes, content_type: str | None) -> None:
        self.body, self.content_type = body, content_type

    async def __call__(
        self, request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        head = {"content-type": self.content_type} if self.content_type else {}
        lines = ["HTTP/1.1 200 OK", *(f"{k}: {v}" for k, v in head.items())]
        lines.append(f"content-length: {len(self.body)}")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + self.body)
        await writer.drain()
        return True


@pytest.fixture
async def server() -> AsyncIterator[LoopbackServer]:
    running = await LoopbackServer(Answer(PAGE, "text/html; charset=utf-8")).start()
    yield running
    await running.stop()


def client(name: str, base_url: str, **settings: Any) -> Aether:
    return Aether(
        config=ProviderConfig(provider=name, api_key=SecretStr(KEY), base_url=base_url, **settings)
    )


async def call(chat: Aether, streaming: bool) -> None:
    if streaming:
        async for _ in chat.stream("hi"):
            pass
    else:
        await chat.complete("hi")


# --- configuration mistakes: refused before any request ---------------------------------------


@EACH
@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("{host}{path}", "lacks the scheme. Write it in full, 'http://127.0.0.1:"),
        ("ftp://{host}{path}", "uses the 'ftp' scheme"),
        ("http://{host}:port{path}", "port that is not a number"),
        ("http://{path}", "names no host"),
    ],
    ids=["no-scheme", "ftp", "bad-port", "no-host"],
)
async def test_a_base_url_that_cannot_work_fails_before_any_request(
    server: LoopbackServer, monkeypatch: pytest.MonkeyPatch, name: str, url: str, says: str
) -> None:
    prefix, path = PROVIDERS[name]
    host = server.root.removeprefix("http://")
    bad = url.format(host=host, path=path or "/")
    monkeypatch.setenv(f"{prefix}_BASE_URL", bad)  # the variable a newcomer sets
    with pytest.raises(ConfigurationError) as from_env:
        Aether(config=ProviderConfig(provider=name, api_key=SecretStr(KEY)))
    with pytest.raises(ConfigurationError) as from_keyword:
        create_provider(name, api_key=KEY, base_url=bad)
    assert str(from_env.value).startswith(f"{prefix}_BASE_URL={bad!r} ")
    assert str(from_keyword.value).startswith(f"base_url={bad!r} ")
    for error in (from_env.value, from_keyword.value):
        assert says in str(error)
        assert not isinstance(error, UnexpectedResponseError)  # not a provider call's error
    assert server.requests == []


@EACH
@pytest.mark.parametrize("timeout", ["30", 0, -1.5, float("nan"), True])
def test_a_timeout_that_cannot_work_fails_before_any_request(name: str, timeout: Any) -> None:
    handled: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        handled.append(request)
        return httpx.Response(500)

    transport = httpx.MockTransport(handler)
    with pytest.raises(ConfigurationError, match=r"^timeout=.* is not a timeout: give a positive"):
        create_provider(
            name,
            api_key=KEY,
            timeout=timeout,
            http_client=httpx.AsyncClient(transport=transport),
        )
    with pytest.raises(ConfigurationError, match=r"^ProviderConfig\.timeout="):
        ProviderConfig(provider=name, timeout=timeout)
    assert handled == []


def test_credentials_in_a_base_url_are_masked_in_the_error() -> None:
    with pytest.raises(ConfigurationError) as info:
        create_provider("openai", base_url="user:hunter2@proxy.local/v1")
    assert "hunter2" not in str(info.value)
    assert "'***@proxy.local/v1'" in str(info.value)


# --- an answer that is not the API's: said once, not retried ----------------------------------


@EACH
@pytest.mark.parametrize("streaming", [False, True], ids=["complete", "stream"])
async def test_a_web_page_is_refused_clearly_and_once(
    server: LoopbackServer, name: str, streaming: bool
) -> None:
    base_url = server.root + PROVIDERS[name][1]
    async with client(name, base_url) as chat:
        with pytest.raises(UnexpectedResponseError) as info:
            await call(chat, streaming)
    assert len(server.requests) == 1  # never retried
    text = str(info.value)
    assert text.startswith(f"[{name} HTTP 200] The server answered with a text/html page (")
    assert "Welcome to nginx!" in text  # what came, quoted
    assert f"The base URL ({base_url}) most likely does not point at the {name} API" in text
    assert isinstance(info.value, ConfigurationError)  # the fix is in the configuration
    assert info.value.attempts == 1 and info.value.retry_summary is None


@EACH
@pytest.mark.parametrize("streaming", [False, True], ids=["complete", "stream"])
@pytest.mark.parametrize(
    ("body", "content_type", "found"),
    [
        (b"It works!\n", "text/plain", "a body of type text/plain"),
        (b"It works!\n", None, "a body with no content type"),
        (b'{"status": "ok"}', "application/json", "a JSON body"),
    ],
    ids=["text", "untyped", "json"],
)
async def test_any_other_answer_that_is_not_the_apis_is_refused_once(
    name: str, streaming: bool, body: bytes, content_type: str | None, found: str
) -> None:
    running = await LoopbackServer(Answer(body, content_type)).start()
    try:
        async with client(name, running.root + PROVIDERS[name][1]) as chat:
            with pytest.raises(UnexpectedResponseError) as info:
                await call(chat, streaming)
    finally:
        await running.stop()
    assert len(running.requests) == 1
    assert f"The server answered with {found}" in str(info.value)
    # Gemini knows why a stream request gets one JSON body: its ?alt=sse query was lost.
    lost_query = name == "gemini" and streaming and content_type == "application/json"
    assert ("alt=sse" if lost_query else "does not point at") in str(info.value)
    assert KEY not in str(info.value)


async def test_events_under_another_content_type_are_still_read() -> None:
    events = (
        b'data: {"choices":[{"index":0,"delta":{"content":"hi"}}]}\n\n'
        b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n'
        b"data: [DONE]\n\n"
    )
    running = await LoopbackServer(Answer(events, "text/plain")).start()
    try:
        async with client("openai", running.root + "/v1") as chat:
            assert "".join([t async for t in chat.stream_text("hi")]) == "hi"
    finally:
        await running.stop()


# --- the same base URL, through ProviderConfig, reaches the server ----------------------------


@EACH
async def test_base_url_and_timeout_from_provider_config_reach_the_server(name: str) -> None:
    async def slow(
        request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        await asyncio.sleep(10)  # longer than the timeout: the client gives up first
        await send_json(writer, 200, {})
        return True

    running = await LoopbackServer(slow).start()
    try:
        chat = client(name, running.root + PROVIDERS[name][1], timeout=0.2, retry=None)
        async with chat:
            with pytest.raises(ProviderTimeoutError, match="timed out"):
                await asyncio.wait_for(chat.complete("hi"), timeout=5)
    finally:
        await running.stop()
    [request] = running.requests
    assert request["path"].startswith(PROVIDERS[name][1] + "/")
