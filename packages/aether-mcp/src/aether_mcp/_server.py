"""``MCPServer``: one MCP server, connected for the span of an ``async with``, as a tool set.

    async with MCPServer.stdio("files", "python", ["-m", "files_server"]) as files:
        await client.ask("What is in notes.txt?", tools=[files])

Entering starts the server (stdio) or opens the session (HTTP) and lists its tools; leaving
stops it, also when the block is cancelled. The connection lives in a task of its own, so a
call made from any task of the event loop can use it, and a call that finds the server gone
raises :class:`MCPConnectionError` and leaves the next call to connect again.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from contextlib import AsyncExitStack
from pathlib import Path
from types import TracebackType
from typing import Any, Final

import anyio
import httpx2
import mcp_types
from anyio.abc import TaskGroup, TaskStatus
from mcp import Client, MCPError
from mcp.client.session import IncomingMessage
from mcp_types import CallToolResult, ToolListChangedNotification

from aether.errors import ConfigurationError, ToolNotFoundError
from aether.llm.parts import ContentPart
from aether.tools import Tool
from aether_mcp._errors import (
    MCPConfigError,
    MCPConnectionError,
    MCPServerError,
    MCPToolCallError,
)
from aether_mcp._results import result_content, result_text
from aether_mcp._target import HttpTarget, StdioTarget, Target

__all__ = ["MCPServer"]

logger = logging.getLogger("aether.mcp")

_NOT_A_NAME: Final = re.compile(r"[^A-Za-z0-9_-]")
_CONNECT_TIMEOUT: Final = 30.0


class MCPServer:
    """An MCP server whose tools Aether offers to a model (an :class:`aether.tools.ToolSet`).

    Build one with :meth:`stdio` or :meth:`http`, then ``async with server:`` to connect.
    Inside the block, ``tools=[server]`` offers every tool, ``tools=[server.select("a")]``
    some, and once :func:`~aether_mcp.register_server` has named it, ``tools=["name"]`` and
    ``tools=["name.tool"]`` do the same by name.

    Args:
        name: What the server is called in errors, logs and ``"name.tool"`` lookups.
        target: Where it runs (see :meth:`stdio` and :meth:`http`).
        prefix: Put before every tool name the model sees, so two servers' tools cannot clash.
        timeout: Seconds a call may take (``tool_timeout=`` overrides); None: no limit.
    """

    def __init__(
        self, name: str, target: Target, *, prefix: str = "", timeout: float | None = None
    ) -> None:
        if not isinstance(name, str) or not name or "." in name or name != name.strip():
            raise MCPConfigError(
                f"An MCP server name must be a non-empty string without '.' or padding, got "
                f"{name!r} ('.' separates a server from its tool in tools=['server.tool'])."
            )
        if prefix and _NOT_A_NAME.search(prefix):
            raise MCPConfigError(
                f"MCP server {name!r}: prefix {prefix!r} may hold only letters, digits, '_' "
                f"and '-', the characters every provider accepts in a tool name."
            )
        self.name = name
        self.prefix = prefix
        self.timeout = timeout
        self._target = target
        self._group: TaskGroup | None = None
        self._connection: _Connection | None = None
        self._lock = anyio.Lock()
        self._tools: dict[str, Tool] = {}  # by the server's own tool name
        self._listing: dict[str, mcp_types.Tool] = {}

    @classmethod
    def stdio(
        cls,
        name: str,
        command: str,
        args: Sequence[str] = (),
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | Path | None = None,
        prefix: str = "",
        timeout: float | None = None,
    ) -> MCPServer:
        """A server run as a subprocess speaking MCP on its stdin and stdout.

        The process gets ``env`` and, so the program can be found and run, the host's
        ``HOME``, ``LOGNAME``, ``PATH``, ``SHELL``, ``TERM`` and ``USER``; nothing else of the
        host's environment (its API keys stay in the host). Pass what it needs explicitly,
        e.g. ``env={"GITHUB_TOKEN": os.environ["GITHUB_TOKEN"]}``.

        Args:
            name: See :class:`MCPServer`.
            command: The program to run.
            args: Its arguments.
            env: Variables the server gets (their values are never logged or shown).
            cwd: Its working directory; default: the host's.
            prefix: See :class:`MCPServer`.
            timeout: See :class:`MCPServer`.
        """
        target = StdioTarget(command=command, args=tuple(args), env=dict(env or {}), cwd=cwd)
        return cls(name, target, prefix=prefix, timeout=timeout)

    @classmethod
    def http(
        cls,
        name: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        prefix: str = "",
        timeout: float | None = None,
    ) -> MCPServer:
        """A server reached over Streamable HTTP at ``url``.

        Args:
            name: See :class:`MCPServer`.
            url: The server's MCP endpoint, e.g. ``https://example.com/mcp``.
            headers: Sent with every request, e.g. ``{"Authorization": "Bearer ..."}``
                (their values are never logged or shown).
            prefix: See :class:`MCPServer`.
            timeout: See :class:`MCPServer`.
        """
        return cls(name, HttpTarget(url, dict(headers or {})), prefix=prefix, timeout=timeout)

    def __repr__(self) -> str:
        return f"MCPServer({self.name!r}, {self._target.describe()})"

    @property
    def connected(self) -> bool:
        """True while a session with the server is open."""
        return self._connection is not None

    @property
    def tool_names(self) -> list[str]:
        """The names the model sees, from the latest listing."""
        return [tool.name for tool in self._tools.values()]

    async def __aenter__(self) -> MCPServer:
        if self._group is not None:
            raise MCPConfigError(f"MCP server {self.name!r} is already connected.")
        group = anyio.create_task_group()
        await group.__aenter__()
        self._group = group
        try:
            await self._connect()
        except BaseException:
            await self._close()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._close()

    async def _close(self) -> None:
        group, self._group = self._group, None
        self._drop()
        if group is not None:
            # Every task of the group ends once its connection is dropped; the SDK shields
            # stopping the server process, so a cancelled caller still waits for that. The
            # block's own exception is not handed to the group, which would wrap it in a group.
            await group.__aexit__(None, None, None)

    def aether_tools(self, *names: str) -> list[Tool]:
        """The tools as Aether tools: those named (server or prefixed names), else all.

        Raises:
            MCPConfigError: The server is not connected (use ``async with server:``).
            ToolNotFoundError: A name is not one of the server's tools.
        """
        if self._group is None:
            raise MCPConfigError(
                f"MCP server {self.name!r} is not connected, so its tools are not known yet. "
                f"Connect it around the calls that use it: `async with server: ...` (or "
                f"`async with aether_mcp.connect({self.name!r}): ...` for a declared one)."
            )
        if not names:
            return list(self._tools.values())
        by_exposed = {tool.name: tool for tool in self._tools.values()}
        chosen: list[Tool] = []
        for name in names:
            tool = self._tools.get(name) or by_exposed.get(name)
            if tool is None:
                raise ToolNotFoundError(
                    f"MCP server {self.name!r} has no tool named {name!r}; it has: "
                    f"{', '.join(sorted(self._tools)) or 'none'}."
                )
            chosen.append(tool)
        return chosen

    def select(self, *names: str) -> Selection:
        """Some of the tools, for ``tools=[server.select("search", "fetch")]``."""
        if not names:
            raise MCPConfigError(f"select() on MCP server {self.name!r} needs tool names.")
        return Selection(self, names)

    async def refresh(self) -> None:
        """List the tools again (done by itself when the server says its list changed)."""
        connection = await self._live()
        await self._list(connection.client)

    async def call(self, name: str, arguments: Mapping[str, Any]) -> CallToolResult:
        """Call the tool ``name`` (the server's name for it) and return the server's result.

        Connects first when the previous connection was lost. Cancelling the call cancels
        it on the server too.

        Raises:
            MCPConnectionError: The server could not be reached or went away during the call.
            MCPToolCallError: The server refused the request (a protocol error).
        """
        connection = await self._live()
        try:
            return await connection.client.call_tool(name, dict(arguments))
        except MCPError as exc:
            if exc.code != mcp_types.CONNECTION_CLOSED:
                raise MCPToolCallError(
                    f"MCP server {self.name!r} refused the call to {name!r}: {exc}",
                    server=self.name,
                ) from exc
            failure: Exception = exc
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError) as exc:
            failure = exc
        except httpx2.TransportError as exc:
            failure = exc
        self._drop(connection)
        raise MCPConnectionError(
            f"MCP server {self.name!r} went away during the call to {name!r} "
            f"({type(failure).__name__}); the next call starts it again.",
            server=self.name,
        ) from failure

    async def _live(self) -> _Connection:
        connection = self._connection
        if connection is not None and not connection.stop.is_set():
            return connection
        async with self._lock:
            if self._connection is None:
                await self._connect()
            assert self._connection is not None
            return self._connection

    async def _connect(self) -> None:
        group = self._group
        if group is None:
            raise MCPConfigError(
                f"MCP server {self.name!r} is not connected; use `async with server:` around "
                f"the calls that use it."
            )
        try:
            with anyio.fail_after(_CONNECT_TIMEOUT):
                connection: _Connection = await group.start(self._serve)
        except MCPServerError:
            raise
        except Exception as exc:  # whatever stopped the start: a missing program, a refusal
            raise MCPConnectionError(
                f"Could not connect to MCP server {self.name!r} "
                f"({self._target.describe()}): {_reason(exc)}",
                server=self.name,
            ) from exc
        self._connection = connection

    async def _serve(self, *, task_status: TaskStatus[_Connection]) -> None:
        """Hold one connection open until it is dropped; started by :meth:`_connect`."""
        connection: _Connection | None = None
        try:
            async with AsyncExitStack() as stack:
                client = Client(
                    await self._target.open(stack),
                    mode="legacy",  # the handshake, and notifications/tools/list_changed
                    message_handler=self._on_message,
                    cache=None,
                )
                await stack.enter_async_context(client)
                connection = _Connection(client)
                await self._list(client)
                task_status.started(connection)
                await connection.stop.wait()
        except Exception:
            if connection is None:
                raise  # to _connect, through group.start()
            logger.warning("MCP server %r: closing its connection failed", self.name, exc_info=True)

    def _drop(self, connection: _Connection | None = None) -> None:
        """Close ``connection`` (default: the current one); its task then stops the server."""
        current = self._connection
        if connection is None or connection is current:
            self._connection = None
            connection = current
        if connection is not None:
            connection.stop.set()

    async def _on_message(self, message: IncomingMessage) -> None:
        if isinstance(message, ToolListChangedNotification) and self._group is not None:
            # Not here: this runs inside the session's reader, which the listing needs.
            self._group.start_soon(self._refresh_quietly)

    async def _refresh_quietly(self) -> None:
        try:
            await self.refresh()
        except Exception as exc:  # a task of the server's group: it must not end the group
            logger.warning("MCP server %r: listing its tools again failed: %s", self.name, exc)

    async def _list(self, client: Client) -> None:
        listing: dict[str, mcp_types.Tool] = {}
        cursor: str | None = None
        while True:
            page = await client.list_tools(cursor=cursor)
            for spec in page.tools:
                listing[spec.name] = spec
            cursor = page.next_cursor
            if cursor is None:
                break
        tools: dict[str, Tool] = {}
        exposed: dict[str, str] = {}
        for name, listed in listing.items():
            unchanged = self._listing.get(name) == listed
            tool = self._tools.get(name) if unchanged else None
            tool = tool or self._tool(listed)
            if tool.name in exposed:
                raise MCPConfigError(
                    f"MCP server {self.name!r}: tools {exposed[tool.name]!r} and {name!r} "
                    f"both become {tool.name!r} for the model; rename one on the server."
                )
            exposed[tool.name] = name
            tools[name] = tool
        self._listing, self._tools = listing, tools

    def _tool(self, spec: mcp_types.Tool) -> Tool:
        exposed = (self.prefix + _NOT_A_NAME.sub("_", spec.name))[:64]
        try:
            return Tool.from_schema(
                exposed,
                spec.input_schema,
                description=spec.description or spec.title or "",
                function=_Call(self, spec.name),
                timeout=self.timeout,
            )
        except ConfigurationError as exc:
            raise MCPConfigError(
                f"MCP server {self.name!r}: its tool {spec.name!r} cannot be offered to a "
                f"model: {exc}"
            ) from exc


class _Connection:
    __slots__ = ("client", "stop")

    def __init__(self, client: Client) -> None:
        self.client = client
        self.stop = anyio.Event()


class _Call:
    """What a tool runs: one call to the server, its result as the model's content."""

    __slots__ = ("name", "server")

    def __init__(self, server: MCPServer, name: str) -> None:
        self.server = server
        self.name = name

    def __repr__(self) -> str:
        return f"<MCP tool {self.name!r} of {self.server!r}>"

    async def __call__(self, arguments: dict[str, Any]) -> str | list[str | ContentPart]:
        result = await self.server.call(self.name, arguments)
        if result.is_error:
            text = result_text(result)
            raise MCPToolCallError(
                text or f"MCP tool {self.name!r} failed without saying why.",
                server=self.server.name,
            )
        return result_content(result)


class Selection:
    """Some tools of one :class:`MCPServer` (see :meth:`MCPServer.select`)."""

    def __init__(self, server: MCPServer, names: Sequence[str]) -> None:
        self.server = server
        self.names = tuple(names)

    def __repr__(self) -> str:
        return f"{self.server!r}.select({', '.join(map(repr, self.names))})"

    def aether_tools(self, *names: str) -> list[Tool]:
        """The selected tools (narrowed further to ``names`` when given)."""
        chosen = self.server.aether_tools(*self.names)
        if not names:
            return chosen
        wanted = set(self.server.aether_tools(*names))
        return [tool for tool in chosen if tool in wanted]


def _reason(exc: BaseException) -> str:
    """The innermost failure of an exception group (the transports raise those)."""
    while isinstance(inner := getattr(exc, "exceptions", None), tuple) and inner:
        exc = inner[0]
    return f"{type(exc).__name__}: {exc}"
