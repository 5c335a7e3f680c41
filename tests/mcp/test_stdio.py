"""A stdio MCP server driven through the tool loop by a scripted FakeProvider."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from aether.client import Aether
from aether.errors import ConfigurationError, ToolNotFoundError
from aether.events import TOOL_ERROR
from aether.extensions.llm.fake import FakeProvider
from aether.llm.contracts import LLMResponse, ToolCall
from aether_mcp import MCPConfigError, MCPConnectionError, MCPServer, MCPToolCallError
from tests.mcp.conftest import DEMO, children, stdio_server


def turn(*calls: tuple[str, str, dict[str, Any]]) -> LLMResponse:
    return LLMResponse(
        model="fake-model",
        input_tokens=1,
        output_tokens=1,
        tool_calls=[ToolCall(id=i, name=n, arguments=a) for i, n, a in calls],
    )


def tool_results(fake: FakeProvider, index: int) -> list[str]:
    return [str(m.content) for m in fake.calls[index].messages if m.role == "tool"]


async def test_tools_are_listed_with_the_servers_schema() -> None:
    async with stdio_server() as server:
        tools = {tool.name: tool for tool in server.aether_tools()}
    assert {"echo", "add", "fail", "slow", "pid", "env", "grow", "picture"} <= set(tools)
    assert tools["echo"].description == "Echo the text back."
    assert tools["add"].parameters["properties"]["a"]["type"] == "integer"
    assert tools["add"].parameters["required"] == ["a", "b"]


async def test_text_structured_and_error_results_reach_the_model() -> None:
    fake = FakeProvider(
        responses=[
            turn(
                ("c1", "echo", {"text": "hello"}),
                ("c2", "add", {"a": 2, "b": 3}),
                ("c3", "fail", {"why": "no luck"}),
            ),
            "done",
        ]
    )
    client = Aether(fake)
    errors: list[Any] = []
    client.on(TOOL_ERROR, errors.append)
    async with stdio_server() as server:
        assert await client.ask("go", tools=[server]) == "done"
    echo, added, failed = tool_results(fake, 1)
    assert echo == "hello"
    assert json.loads(added) == {"total": 5}  # structuredContent, not its duplicate text
    assert failed.startswith("Error: ") and "fail" in failed
    assert [type(event.error) for event in errors] == [MCPToolCallError]
    assert errors[0].error.server == "demo"


async def test_arguments_are_validated_before_anything_is_sent() -> None:
    fake = FakeProvider(responses=[turn(("c1", "add", {"a": "two", "b": 3})), "ok"])
    async with stdio_server() as server:
        await Aether(fake).ask("add", tools=[server])
    (content,) = tool_results(fake, 1)
    assert content.startswith("Error: Invalid arguments for tool 'add'")


async def test_a_subset_and_a_prefix() -> None:
    fake = FakeProvider(responses=[turn(("c1", "demo_echo", {"text": "hi"})), "ok"])
    async with stdio_server(prefix="demo_") as server:
        await Aether(fake).ask("x", tools=[server.select("echo", "add")])
    assert [t.name for t in fake.calls[0].tools] == ["demo_echo", "demo_add"]
    assert tool_results(fake, 1) == ["hi"]


async def test_two_servers_with_the_same_tools_clash_clearly() -> None:
    async with stdio_server() as one, MCPServer.stdio("other", sys.executable, [DEMO]) as two:
        with pytest.raises(ConfigurationError, match="Two different tools are named 'echo'"):
            await Aether(FakeProvider(responses=["x"])).ask("x", tools=[one, two])


async def test_unknown_selected_tool_is_named() -> None:
    async with stdio_server() as server:
        with pytest.raises(ToolNotFoundError, match="no tool named 'nope'"):
            server.aether_tools("nope")


async def test_tools_of_an_unconnected_server_are_a_clear_error() -> None:
    with pytest.raises(MCPConfigError, match="not connected"):
        stdio_server().aether_tools()


async def test_the_server_sees_only_the_environment_it_is_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AETHER_TEST_SECRET_KEY", "sk-host-secret")
    async with stdio_server(env={"GIVEN": "yes"}) as server:
        secret = await server.call("env", {"name": "AETHER_TEST_SECRET_KEY"})
        given = await server.call("env", {"name": "GIVEN"})
    assert secret.structured_content == {"result": "<unset>"}
    assert given.structured_content == {"result": "yes"}
    assert "yes" not in repr(server) and "GIVEN" not in repr(server)


async def test_a_killed_server_is_a_typed_error_and_the_next_call_restarts_it() -> None:
    fake = FakeProvider(
        responses=[
            turn(("c1", "pid", {})),
            turn(("c2", "echo", {"text": "after"})),
            turn(("c3", "echo", {"text": "again"})),
            "done",
        ]
    )
    client = Aether(fake)
    errors: list[Any] = []
    client.on(TOOL_ERROR, errors.append)
    async with stdio_server() as server:
        first_pid = int((await server.call("pid", {})).structured_content["result"])  # type: ignore[index]
        os.kill(first_pid, signal.SIGKILL)
        await asyncio.sleep(0.2)
        await client.ask("x", tools=[server])
        second_pid = int((await server.call("pid", {})).structured_content["result"])  # type: ignore[index]
    died, after, again = tool_results(fake, 3)
    assert died.startswith("Error: MCP server 'demo' went away during the call to 'pid'")
    assert (after, again) == ("after", "again")
    assert [type(event.error) for event in errors] == [MCPConnectionError]
    assert errors[0].error.server == "demo"
    assert second_pid != first_pid


async def test_a_timed_out_call_is_cancelled_on_the_server(tmp_path: Path) -> None:
    marker = tmp_path / "cancelled"
    fake = FakeProvider(
        responses=[turn(("c1", "slow", {"seconds": 30, "marker": str(marker)})), "gave up"]
    )
    async with stdio_server() as server:
        answer = await Aether(fake).ask("x", tools=[server], tool_timeout=0.5)
        for _ in range(100):
            if marker.exists():
                break
            await asyncio.sleep(0.05)
        # The connection outlives the cancelled call.
        assert (await server.call("echo", {"text": "still"})).structured_content == {
            "result": "still"
        }
    assert answer == "gave up"
    assert "did not finish within 0.5s" in tool_results(fake, 1)[0]
    assert marker.read_text() == "cancelled"


async def test_cancelling_the_conversation_cancels_the_call_and_stops_the_server(
    tmp_path: Path,
) -> None:
    marker = tmp_path / "cancelled"
    fake = FakeProvider(
        responses=[turn(("c1", "slow", {"seconds": 30, "marker": str(marker)})), "never"]
    )

    async def converse() -> None:
        async with stdio_server() as server:
            await Aether(fake).ask("x", tools=[server])

    task = asyncio.create_task(converse())
    for _ in range(200):
        if fake.calls:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not children()  # stopped before the cancellation reached us
    assert marker.read_text() == "cancelled"


async def test_a_changed_tool_list_is_fetched_again() -> None:
    async with stdio_server() as server:
        assert "extra" not in server.tool_names
        await server.call("grow", {})
        for _ in range(100):
            if "extra" in server.tool_names:
                break
            await asyncio.sleep(0.05)
        assert "extra" in server.tool_names
        fake = FakeProvider(responses=[turn(("c1", "extra", {})), "ok"])
        await Aether(fake).ask("x", tools=[server])
    assert tool_results(fake, 1) == ["extra"]


async def test_a_missing_program_is_a_connection_error_naming_the_server() -> None:
    server = MCPServer.stdio("ghost", "/nonexistent/mcp-server")
    with pytest.raises(MCPConnectionError, match="'ghost'") as caught:
        async with server:
            pass
    assert caught.value.server == "ghost"
    assert not server.connected


async def test_an_error_in_the_block_propagates_as_it_is() -> None:
    with pytest.raises(KeyError, match="mine"):
        async with stdio_server():
            raise KeyError("mine")


@pytest.mark.parametrize("transport", ["stdio", "http"])
async def test_calls_in_one_turn_run_concurrently(
    transport: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    marker = str(tmp_path / "unused")
    slow = {"seconds": 1.0, "marker": marker}
    fake = FakeProvider(responses=[turn(("c1", "slow", slow), ("c2", "slow", slow)), "ok"])
    if transport == "stdio":
        server = stdio_server()
    else:
        server = MCPServer.http("web", request.getfixturevalue("http_url"))
    async with server:
        started = time.perf_counter()
        await Aether(fake).ask("x", tools=[server])
        elapsed = time.perf_counter() - started
    assert tool_results(fake, 1) == ["done", "done"]
    assert elapsed < 1.8  # one second each, side by side


async def test_the_servers_schemas_translate_for_gemini() -> None:
    from aether_gemini import to_gemini_schema

    async with stdio_server() as server:
        tools = {tool.name: tool for tool in server.aether_tools()}
    schema, issues = to_gemini_schema(tools["add"].parameters)
    assert issues == []
    assert schema == {
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        "required": ["a", "b"],
    }


async def test_a_server_timeout_applies_to_each_call(tmp_path: Path) -> None:
    marker = tmp_path / "cancelled"
    fake = FakeProvider(
        responses=[turn(("c1", "slow", {"seconds": 30, "marker": str(marker)})), "gave up"]
    )
    async with stdio_server(timeout=0.3) as server:
        await Aether(fake).ask("x", tools=[server])
    assert "did not finish within 0.3s" in tool_results(fake, 1)[0]
