"""What can go wrong talking to an MCP server, each error naming the server."""

from __future__ import annotations

from aether.errors import ConfigurationError, ToolExecutionError

__all__ = ["MCPConfigError", "MCPConnectionError", "MCPServerError", "MCPToolCallError"]


class MCPServerError(ToolExecutionError):
    """An MCP server failed a call; ``server`` is its name.

    A :class:`~aether.errors.ToolExecutionError`, so in the tool loop the model reads it as
    the tool's error (``"Error: ..."``) and the conversation goes on.
    """

    def __init__(self, message: str, *, server: str) -> None:
        super().__init__(message)
        self.server = server


class MCPConnectionError(MCPServerError):
    """The server could not be reached, or it went away mid-conversation.

    The next call starts (stdio) or reaches (HTTP) the server again.
    """


class MCPToolCallError(MCPServerError):
    """The server answered a call with an error (``isError``, or a protocol error)."""


class MCPConfigError(ConfigurationError):
    """A server declaration is wrong: a bad config file, a clash, or a server not connected."""
