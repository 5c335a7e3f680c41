"""Where an MCP server runs: a subprocess on stdio, or a URL over Streamable HTTP."""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

import httpx2
from mcp import StdioServerParameters
from mcp.client._transport import Transport
from mcp.client.streamable_http import streamable_http_client

__all__ = ["HttpTarget", "StdioTarget", "Target"]

# The SDK's own defaults for a session that may hold a response stream open.
_HTTP_TIMEOUT = httpx2.Timeout(30.0, read=300.0)


class Target(Protocol):
    """Opens the transport of one connection; ``describe()`` names it without secrets."""

    async def open(self, stack: AsyncExitStack) -> StdioServerParameters | Transport: ...

    def describe(self) -> str: ...


@dataclass(frozen=True)
class StdioTarget:
    """A command line run as the server, with only the environment it is given."""

    command: str
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict, repr=False)
    cwd: str | Path | None = None

    async def open(self, stack: AsyncExitStack) -> StdioServerParameters:
        # The SDK adds PATH, HOME and a few more harmless variables, never the rest of ours.
        return StdioServerParameters(
            command=self.command, args=list(self.args), env=dict(self.env), cwd=self.cwd
        )

    def describe(self) -> str:
        # Arguments may carry tokens; the program's name is enough to tell servers apart.
        return f"stdio={Path(self.command).name!r}"


@dataclass(frozen=True)
class HttpTarget:
    """An MCP endpoint URL and the headers every request carries."""

    url: str
    headers: dict[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"An MCP server URL must be http:// or https:// with a host, got "
                f"{self.describe()}; e.g. https://example.com/mcp."
            )

    async def open(self, stack: AsyncExitStack) -> Transport:
        http = await stack.enter_async_context(
            httpx2.AsyncClient(headers=self.headers, timeout=_HTTP_TIMEOUT)
        )
        return streamable_http_client(self.url, http_client=http)

    def describe(self) -> str:
        # No user info, query or fragment: those are where URLs carry credentials.
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        return f"url={f'{parts.scheme}://{host}{port}{parts.path}'!r}"
