from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable

import pytest

from aether_tools_std import _targets
from tests.tools_std._servers import Canary, Site

_VARIABLES = (
    "AETHER_HTTP_TOOL_TIMEOUT",
    "AETHER_HTTP_TOOL_MAX_BYTES",
    "AETHER_HTTP_TOOL_ALLOW_HOSTS",
    "AETHER_FILE_TOOL_MAX_BYTES",
    "AETHER_FILE_TOOL_ROOT",
    "AETHER_STRICT",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts from the defaults, whatever the developer's shell exports."""
    for name in _VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    server = Site()
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def canary() -> AsyncIterator[Canary]:
    server = Canary()
    await server.start()
    yield server
    await server.close()


FakeDNS = Callable[[dict[str, list[str]]], list[str]]


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[str, list[str]]], list[str]]:
    """Answer our resolver from a table (no real DNS); returns the log of names looked up."""

    def install(table: dict[str, list[str]]) -> list[str]:
        looked_up: list[str] = []

        async def resolve(host: str, port: int) -> list[str]:
            looked_up.append(host)
            if host not in table:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            return table[host]

        monkeypatch.setattr(_targets, "resolve_host", resolve)
        return looked_up

    return install
