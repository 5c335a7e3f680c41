"""Servers declared once and used by name: ``tools=["github.create_issue"]``.

    register_server(MCPServer.stdio("github", "github-mcp-server", ["stdio"]))
    # or: load_config("mcp.json"), the ``{"mcpServers": {...}}`` file other MCP hosts read
    async with connect("github"):
        await client.ask("File a bug about the login page", tools=["github.create_issue"])

A tool pack declares servers the same way: its ``register_tools`` hook calls
``register(name, MCPServer...)`` for each, under an ``aether.tools`` entry point named after
the server.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any, Final

from aether.errors import PluginNotFoundError
from aether.registry import Registry, default_registry
from aether.tools.registry import TOOL_KIND
from aether_mcp._errors import MCPConfigError
from aether_mcp._server import MCPServer

__all__ = ["connect", "load_config", "register_server"]

_VARIABLE: Final = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def register_server(server: MCPServer, *, registry: Registry | None = None) -> MCPServer:
    """Make ``server`` usable by name: ``tools=["name"]`` (all its tools), ``"name.tool"``."""
    where = registry if registry is not None else default_registry
    where.add(TOOL_KIND, server.name, server)
    return server


def load_config(
    path: str | Path,
    *,
    register: bool = True,
    registry: Registry | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, MCPServer]:
    """The servers of an ``mcp.json`` file, registered by name unless ``register=False``.

    The file is the one other MCP hosts read::

        {"mcpServers": {
            "github": {"command": "github-mcp-server", "args": ["stdio"],
                       "env": {"GITHUB_TOKEN": "${GITHUB_TOKEN}"}},
            "docs": {"url": "https://docs.example.com/mcp",
                     "headers": {"Authorization": "Bearer ${DOCS_TOKEN}"}}}}

    ``${NAME}`` in ``env`` and ``headers`` values is the host's variable ``NAME``, so secrets
    stay out of the file and a server gets only the ones it is given. Optional keys:
    ``cwd`` (stdio), ``prefix`` and ``timeout`` (see :class:`MCPServer`).

    Raises:
        MCPConfigError: The file cannot be read or is not such a file (the message says
            where), or a ``${NAME}`` is not set.
    """
    where = Path(path)
    try:
        document = json.loads(where.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise MCPConfigError(f"Cannot read MCP config {where}: {exc}") from exc
    declared = document.get("mcpServers") if isinstance(document, dict) else None
    if not isinstance(declared, dict):
        raise MCPConfigError(
            f'MCP config {where} has no "mcpServers" object; write '
            f'{{"mcpServers": {{"name": {{"command": ...}} or {{"url": ...}}}}}}.'
        )
    variables = os.environ if environ is None else environ
    servers = {name: _server(name, entry, where, variables) for name, entry in declared.items()}
    if register:
        for server in servers.values():
            register_server(server, registry=registry)
    return servers


@asynccontextmanager
async def connect(
    *servers: MCPServer | str, registry: Registry | None = None
) -> AsyncIterator[list[MCPServer]]:
    """Connect several servers (objects, or names registered) for the span of the block.

    Raises:
        MCPConfigError: A name is not a registered MCP server.
        MCPConnectionError: A server could not be reached (those already connected stop).
    """
    where = registry if registry is not None else default_registry
    resolved = [_registered(item, where) for item in servers]
    async with AsyncExitStack() as stack:
        for server in resolved:
            await stack.enter_async_context(server)
        yield resolved


def _registered(item: MCPServer | str, registry: Registry) -> MCPServer:
    if isinstance(item, MCPServer):
        return item
    try:
        server = registry.get(TOOL_KIND, item)  # imports the tool pack declaring it, if any
    except PluginNotFoundError:
        server = None
    if not isinstance(server, MCPServer):
        raise MCPConfigError(
            f"No MCP server is registered as {item!r}; register it with "
            f"aether_mcp.register_server(...) or aether_mcp.load_config(...)."
        )
    return server


def _server(name: str, entry: Any, where: Path, variables: Mapping[str, str]) -> MCPServer:
    context = f"MCP config {where}, server {name!r}"
    if not isinstance(entry, dict):
        raise MCPConfigError(f"{context}: expected an object, got {type(entry).__name__}.")
    prefix = _text(entry.get("prefix", ""), f"{context}: prefix")
    timeout = entry.get("timeout")
    if timeout is not None and (not isinstance(timeout, (int, float)) or timeout <= 0):
        raise MCPConfigError(f"{context}: timeout must be a number of seconds > 0.")
    if ("command" in entry) == ("url" in entry):
        raise MCPConfigError(f'{context}: give exactly one of "command" (stdio) or "url" (HTTP).')
    if "url" in entry:
        headers = _expanded(entry.get("headers", {}), f"{context}: headers", variables)
        try:
            return MCPServer.http(
                name,
                _text(entry["url"], f"{context}: url"),
                headers=headers,
                prefix=prefix,
                timeout=timeout,
            )
        except ValueError as exc:
            raise MCPConfigError(f"{context}: {exc}") from exc
    args = entry.get("args", [])
    if not isinstance(args, list) or not all(isinstance(arg, str) for arg in args):
        raise MCPConfigError(f"{context}: args must be a list of strings.")
    cwd = entry.get("cwd")
    return MCPServer.stdio(
        name,
        _text(entry["command"], f"{context}: command"),
        args,
        env=_expanded(entry.get("env", {}), f"{context}: env", variables),
        cwd=_text(cwd, f"{context}: cwd") if cwd is not None else None,
        prefix=prefix,
        timeout=timeout,
    )


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise MCPConfigError(f"{what} must be a string, got {type(value).__name__}.")
    return value


def _expanded(values: Any, what: str, variables: Mapping[str, str]) -> dict[str, str]:
    if not isinstance(values, dict):
        raise MCPConfigError(f"{what} must be an object of strings.")

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in variables:
            raise MCPConfigError(f"{what} uses ${{{name}}}, which is not set in the environment.")
        return variables[name]

    return {
        key: _VARIABLE.sub(substitute, _text(value, f"{what} {key!r}"))
        for key, value in values.items()
    }
