"""Model Context Protocol servers as Aether tools, on the official ``mcp`` SDK.

    from aether_mcp import MCPServer

    async with MCPServer.stdio("files", "python", ["-m", "files_server"]) as files:
        await client.ask("What is in notes.txt?", tools=[files])

    async with MCPServer.http("docs", "https://docs.example.com/mcp",
                              headers={"Authorization": f"Bearer {token}"}) as docs:
        await client.ask("How do I paginate?", tools=[docs.select("search")])

Each tool the server lists becomes an :class:`aether.tools.Tool` with the server's JSON
Schema: the tool loop validates the model's arguments against it before anything is sent,
applies ``tool_timeout=``, fires ``tool.*`` events and cancels the call on the server when the
call is cancelled. A result's text reaches the model as it is, ``structuredContent`` as JSON,
images, audio and PDFs as content parts where the provider takes them in a tool result (else a
note naming what was left out), other binary content as a note; an ``isError`` result is a
tool error the model reads. A server that dies is an :class:`MCPConnectionError` naming it,
and the next call starts it again.

A stdio server gets only the environment it is passed (plus ``PATH``, ``HOME`` and a few more
needed to run a program), never the host's API keys.
"""

from aether_mcp._declare import connect, load_config, register_server
from aether_mcp._errors import MCPConfigError, MCPConnectionError, MCPServerError, MCPToolCallError
from aether_mcp._results import result_content, result_text
from aether_mcp._server import MCPServer, Selection

__all__ = [
    "MCPConfigError",
    "MCPConnectionError",
    "MCPServer",
    "MCPServerError",
    "MCPToolCallError",
    "Selection",
    "connect",
    "load_config",
    "register_server",
    "result_content",
    "result_text",
]
