"""The pool of a client a provider creates: ``AETHER_HTTP_MAX_CONNECTIONS``,
``AETHER_HTTP_MAX_KEEPALIVE`` and ``AETHER_HTTP_KEEPALIVE_EXPIRY``, seen by a server on
127.0.0.1 counting the connections each transport opens."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from httpx_aiohttp import HttpxAiohttpClient

from aether import config
from aether.errors import ConfigurationError
from aether.http import (
    DEFAULT_LIMITS,
    HTTPProviderClient,
    HTTPTransport,
    PoolSettings,
    pool_settings,
)
from tests.support.loopback import LoopbackServer, Request, send_json

TRANSPORTS: list[HTTPTransport] = ["httpx", "aiohttp"]
_VARIABLES = (
    "AETHER_HTTP_MAX_CONNECTIONS",
    "AETHER_HTTP_MAX_KEEPALIVE",
    "AETHER_HTTP_KEEPALIVE_EXPIRY",
)


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(config, "_reported", set())  # as in a fresh process
    config.forget_warnings()


class _Held:
    """Answers each request after a short hold, so calls overlap; counts the most at once."""

    def __init__(self) -> None:
        self.busy = 0
        self.most_busy = 0

    async def __call__(
        self, request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        self.busy += 1
        self.most_busy = max(self.most_busy, self.busy)
        await asyncio.sleep(0.05)
        self.busy -= 1
        await send_json(writer, 200, {"ok": True})
        return True


@pytest.fixture
async def held() -> AsyncIterator[tuple[LoopbackServer, _Held]]:
    answers = _Held()
    server = await LoopbackServer(answers).start()
    yield server, answers
    await server.stop()


def _client(server: LoopbackServer, transport: HTTPTransport) -> HTTPProviderClient:
    return HTTPProviderClient(provider="acme", base_url=server.root, transport=transport)


async def _calls(http: HTTPProviderClient, count: int) -> None:
    answers = await asyncio.gather(*(http.post_json("chat", {}) for _ in range(count)))
    assert answers == [{"ok": True}] * count


async def _opened(
    held: tuple[LoopbackServer, _Held], transport: HTTPTransport, *rounds: int, pause: float = 0
) -> tuple[int, int]:
    """Connections a fresh client opens for ``rounds`` of overlapping calls ``pause`` s apart,
    and the most calls the server held at once."""
    server, answers = held
    server.connections = answers.most_busy = 0
    async with _client(server, transport) as http:
        for done, count in enumerate(rounds):
            if done:
                await asyncio.sleep(pause)
            await _calls(http, count)
    return server.connections, answers.most_busy


def test_the_defaults_of_each_transport() -> None:
    assert pool_settings("httpx") == PoolSettings(1000, 100, 5.0)
    assert pool_settings("aiohttp") == PoolSettings(100, 100, 5.0)
    assert (DEFAULT_LIMITS.max_connections, DEFAULT_LIMITS.max_keepalive_connections) == (
        1000,
        100,
    )


def test_the_environment_sets_the_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AETHER_HTTP_MAX_CONNECTIONS", "8")
    monkeypatch.setenv("AETHER_HTTP_MAX_KEEPALIVE", "3")
    monkeypatch.setenv("AETHER_HTTP_KEEPALIVE_EXPIRY", "0.5")
    assert pool_settings("httpx") == PoolSettings(8, 3, 0.5)
    assert pool_settings("aiohttp") == PoolSettings(8, 3, 0.5)


def test_an_unusable_value_is_reported_and_the_default_kept(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("AETHER_HTTP_MAX_CONNECTIONS", "0")
    monkeypatch.setenv("AETHER_HTTP_KEEPALIVE_EXPIRY", "soon")
    assert pool_settings("httpx") == PoolSettings(1000, 100, 5.0)
    reports = [r.getMessage() for r in caplog.records if r.name == "aether.config"]
    assert any("AETHER_HTTP_MAX_CONNECTIONS='0'" in line for line in reports)
    assert any("AETHER_HTTP_KEEPALIVE_EXPIRY='soon'" in line for line in reports)
    monkeypatch.setenv("AETHER_STRICT", "1")
    with pytest.raises(ConfigurationError, match="AETHER_HTTP_MAX_CONNECTIONS='0'"):
        pool_settings("aiohttp")


def test_a_keepalive_count_for_aiohttp_is_said_to_apply_to_httpx_only(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("AETHER_HTTP_MAX_KEEPALIVE", "3")
    pool_settings("aiohttp")
    pool_settings("aiohttp")
    said = [r.getMessage() for r in caplog.records if "httpx transport only" in r.getMessage()]
    assert len(said) == 1 and "AETHER_HTTP_MAX_CONNECTIONS" in said[0]
    pool_settings("httpx")
    assert len([r for r in caplog.records if "httpx transport only" in r.getMessage()]) == 1


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_max_connections_bounds_the_connections_opened(
    held: tuple[LoopbackServer, _Held], transport: HTTPTransport, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert await _opened(held, transport, 6) == (6, 6)  # the default leaves them be
    monkeypatch.setenv("AETHER_HTTP_MAX_CONNECTIONS", "2")
    assert await _opened(held, transport, 6) == (2, 2)  # the rest waited their turn


async def test_max_keepalive_closes_idle_connections_beyond_it(
    held: tuple[LoopbackServer, _Held], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, _ = held
    monkeypatch.setenv("AETHER_HTTP_MAX_KEEPALIVE", "1")
    # --http-transport=aiohttp puts aiohttp under every httpx client, and aiohttp keeps its
    # whole pool alive: there the count has nothing to bound (the first run checks httpx's).
    kept = 3 if _aiohttp_under_httpx() else 1
    async with _client(server, "httpx") as http:
        await _calls(http, 3)
        await asyncio.sleep(0.05)
        assert server.open_connections == kept  # the others were closed once idle
        await _calls(http, 3)
    assert server.connections == 3 + (3 - kept)  # the second round reused those kept


def _aiohttp_under_httpx() -> bool:
    return httpx.AsyncClient._init_transport is getattr(  # type: ignore[comparison-overlap]
        HttpxAiohttpClient, "_init_transport", None
    )


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_keepalive_expiry_closes_an_idle_connection(
    held: tuple[LoopbackServer, _Held], transport: HTTPTransport, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened, _ = await _opened(held, transport, 1, 1, pause=0.3)
    assert opened == 1  # 5 s by default: reused
    monkeypatch.setenv("AETHER_HTTP_KEEPALIVE_EXPIRY", "0.05")
    opened, _ = await _opened(held, transport, 1, 1, pause=0.3)
    assert opened == 2  # idle past 0.05 s: a new one
