"""A Streamable HTTP MCP server on 127.0.0.1 driven through the tool loop."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from aether.client import Aether
from aether.events import TOOL_ERROR
from aether.extensions.llm.fake import FakeProvider
from aether_mcp import MCPConnectionError, MCPServer
from tests.mcp.conftest import start_http, stop
from tests.mcp.test_stdio import tool_results, turn


async def test_text_structured_and_error_results_over_http(http_url: str) -> None:
    fake = FakeProvider(
        responses=[
            turn(
                ("c1", "echo", {"text": "over http"}),
                ("c2", "add", {"a": 20, "b": 22}),
                ("c3", "fail", {"why": "nope"}),
            ),
            "done",
        ]
    )
    server = MCPServer.http("web", http_url, headers={"Authorization": "Bearer sk-secret"})
    async with server:
        assert await Aether(fake).ask("go", tools=[server]) == "done"
    echo, added, failed = tool_results(fake, 1)
    assert echo == "over http"
    assert json.loads(added) == {"total": 42}
    assert failed.startswith("Error: ")
    assert "sk-secret" not in repr(server)


async def test_a_cancelled_http_call_leaves_the_session_usable(
    http_url: str, tmp_path: Any
) -> None:
    marker = tmp_path / "cancelled"
    fake = FakeProvider(
        responses=[turn(("c1", "slow", {"seconds": 30, "marker": str(marker)})), "gave up"]
    )
    async with MCPServer.http("web", http_url) as server:
        await Aether(fake).ask("x", tools=[server], tool_timeout=0.5)
        for _ in range(100):
            if marker.exists():
                break
            await asyncio.sleep(0.05)
        again = await server.call("echo", {"text": "still here"})
    assert "did not finish within 0.5s" in tool_results(fake, 1)[0]
    assert marker.read_text() == "cancelled"  # the server was told
    assert again.structured_content == {"result": "still here"}


async def test_an_unreachable_url_is_a_connection_error_naming_the_server() -> None:
    server = MCPServer.http("nowhere", "http://127.0.0.1:9/mcp")
    with pytest.raises(MCPConnectionError, match="'nowhere'"):
        async with server:
            pass


def test_a_url_must_be_http() -> None:
    with pytest.raises(ValueError, match="http:// or https://"):
        MCPServer.http("bad", "ftp://user:pw@example.com/mcp")


async def test_a_killed_http_server_is_a_typed_error_and_the_next_call_reconnects(
    tmp_path: Path,
) -> None:
    process, url = start_http(tmp_path / "port")
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    fake = FakeProvider(
        responses=[
            turn(("c1", "echo", {"text": "lost"})),
            turn(("c2", "echo", {"text": "back"})),
            "done",
        ]
    )
    client = Aether(fake)
    errors: list[Any] = []
    client.on(TOOL_ERROR, errors.append)
    try:
        async with MCPServer.http("web", url) as server:
            process.kill()
            process.wait()

            def restart(_: Any) -> None:
                # Between the failed call and the next one, as a supervisor would.
                nonlocal process
                process, _url = start_http(tmp_path / "port", port)

            client.on(TOOL_ERROR, restart)
            await client.ask("x", tools=[server])
    finally:
        stop(process)
    lost, back = tool_results(fake, 2)
    assert lost.startswith("Error: MCP server 'web' went away during the call to 'echo'")
    assert back == "back"
    assert isinstance(errors[0].error, MCPConnectionError)
