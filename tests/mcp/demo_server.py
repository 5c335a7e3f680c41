"""The MCP server the tests talk to, written with the SDK's MCPServer (formerly FastMCP).

    python demo_server.py                 # stdio
    python demo_server.py http PORT_FILE [PORT]  # Streamable HTTP on 127.0.0.1, port in PORT_FILE

Run as a program only: the tests start it as a subprocess.
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import sys
from pathlib import Path

from mcp.server.mcpserver import Context, MCPServer
from mcp_types import ImageContent, TextContent
from pydantic import BaseModel

server = MCPServer("demo")


class Sum(BaseModel):
    total: int


@server.tool()
def echo(text: str) -> str:
    """Echo the text back."""
    return text


@server.tool()
def add(a: int, b: int) -> Sum:
    """Add two integers."""
    return Sum(total=a + b)


@server.tool()
def fail(why: str) -> str:
    """Always fails."""
    raise ValueError(why)


@server.tool()
def picture() -> list[TextContent | ImageContent]:
    """A caption and a 4-byte image."""
    data = base64.b64encode(b"\x89PNG").decode()
    return [TextContent(text="a tiny picture"), ImageContent(data=data, mime_type="image/png")]


@server.tool()
async def slow(seconds: float, marker: str) -> str:
    """Sleep, leaving a file at `marker` if the call is cancelled."""
    try:
        await asyncio.sleep(seconds)
    except asyncio.CancelledError:
        Path(marker).write_text("cancelled")  # noqa: ASYNC240 - the test reads it back
        raise
    return "done"


@server.tool()
def pid() -> int:
    """The server's process id."""
    return os.getpid()


@server.tool()
def env(name: str) -> str:
    """An environment variable of the server, or <unset>."""
    return os.environ.get(name, "<unset>")


@server.tool()
async def grow(ctx: Context) -> str:
    """Add the tool `extra` and announce the change."""

    @server.tool()
    def extra() -> str:
        """Added at run time."""
        return "extra"

    await ctx.session.send_tool_list_changed()
    return "grown"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


if __name__ == "__main__":
    if sys.argv[1:2] == ["http"]:
        port = int(sys.argv[3]) if len(sys.argv) > 3 else _free_port()
        Path(sys.argv[2]).write_text(str(port))
        server.settings.log_level = "WARNING"
        server.run("streamable-http", host="127.0.0.1", port=port)
    else:
        server.run()
