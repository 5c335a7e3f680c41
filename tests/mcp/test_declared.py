"""Servers declared once (registered, or from an mcp.json file) and used by name."""

from __future__ import annotations

import importlib.metadata
import json
import sys
import uuid
from pathlib import Path

import pytest

from aether.client import Aether
from aether.extensions.llm.fake import FakeProvider
from aether.plugins.manager import PluginManager
from aether.registry import Registry
from aether_mcp import MCPConfigError, MCPServer, connect, load_config, register_server
from tests.mcp.conftest import DEMO, stdio_server
from tests.mcp.test_stdio import tool_results, turn
from tests.support.plugins import write_installed


async def test_server_dot_tool_names_one_tool_of_a_registered_server() -> None:
    register_server(stdio_server())
    fake = FakeProvider(responses=[turn(("c1", "echo", {"text": "by name"})), "ok"])
    async with connect("demo"):
        await Aether(fake).ask("x", tools=["demo.echo"])
    assert [tool.name for tool in fake.calls[0].tools] == ["echo"]
    assert tool_results(fake, 1) == ["by name"]


async def test_a_server_registered_like_a_tool_pack_offers_all_its_tools(
    isolated_registry: Registry,
) -> None:
    server = stdio_server()
    # What a tool pack's register_tools(register) hook does for an entry point named "demo".
    isolated_registry.add("tool", "demo", server, source="some-tool-pack")
    fake = FakeProvider(responses=["ok"])
    async with server:
        await Aether(fake).ask("x", tools=["demo"])
    assert {"echo", "add", "fail"} <= {tool.name for tool in fake.calls[0].tools}


async def test_a_config_file_declares_servers_with_only_the_variables_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AETHER_TEST_TOKEN", "tok-123")
    monkeypatch.setenv("AETHER_TEST_OTHER", "not-passed")
    config = tmp_path / "mcp.json"
    config.write_text(
        json.dumps(
            {
                "mcpServers": {
                    "files": {
                        "command": sys.executable,
                        "args": [DEMO],
                        "env": {"TOKEN": "${AETHER_TEST_TOKEN}"},
                        "prefix": "f_",
                        "timeout": 5,
                    },
                    "docs": {"url": "https://docs.example.com/mcp"},
                }
            }
        )
    )
    servers = load_config(config)
    assert sorted(servers) == ["docs", "files"]
    assert servers["files"].timeout == 5
    fake = FakeProvider(
        responses=[
            turn(
                ("c1", "f_env", {"name": "TOKEN"}), ("c2", "f_env", {"name": "AETHER_TEST_OTHER"})
            ),
            "ok",
        ]
    )
    async with connect("files"):
        await Aether(fake).ask("x", tools=["files.env"])
    assert tool_results(fake, 1) == ["tok-123", "<unset>"]


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ({}, '"mcpServers"'),
        ({"mcpServers": {"a": {"command": "x", "url": "http://h/mcp"}}}, "exactly one of"),
        ({"mcpServers": {"a": {"command": "x", "args": "--flag"}}}, "args must be a list"),
        ({"mcpServers": {"a": {"command": "x", "env": {"K": "${AETHER_UNSET_VAR}"}}}}, "not set"),
        ({"mcpServers": {"a": {"url": "file:///etc/passwd"}}}, "http:// or https://"),
    ],
)
def test_a_bad_config_says_what_is_wrong(tmp_path: Path, document: object, problem: str) -> None:
    config = tmp_path / "mcp.json"
    config.write_text(json.dumps(document))
    with pytest.raises(MCPConfigError, match=problem):
        load_config(config, register=False)


async def test_connecting_an_unregistered_name_is_a_clear_error() -> None:
    with pytest.raises(MCPConfigError, match="No MCP server is registered as 'nope'"):
        async with connect("nope"):
            pass


def test_a_server_name_cannot_hold_a_dot() -> None:
    with pytest.raises(MCPConfigError, match="without '\\.'"):
        MCPServer.stdio("a.b", "x")


async def test_an_installed_tool_pack_declares_a_server(tmp_path: Path) -> None:
    dist = f"mcppack-{uuid.uuid4().hex[:8]}"
    package = dist.replace("-", "_")
    write_installed(
        tmp_path,
        dist,
        "1.0.0",
        {"aether.tools": {"demo": f"{package}.plugin"}},
        {
            f"{package}.plugin": f"""
import sys
from aether.plugins import hookimpl
from aether_mcp import MCPServer

@hookimpl
def register_tools(register):
    register("demo", MCPServer.stdio("demo", sys.executable, [{DEMO!r}]))
"""
        },
    )
    registry = Registry()
    registry._loader = PluginManager(
        registry, distributions=lambda: importlib.metadata.distributions(path=[str(tmp_path)])
    )
    sys.path.insert(0, str(tmp_path))
    fake = FakeProvider(responses=[turn(("c1", "echo", {"text": "from a pack"})), "ok"])
    try:
        async with connect("demo", registry=registry):
            await Aether(fake, registry=registry).ask("x", tools=["demo.echo"])
        assert registry.entry("tool", "demo").source == dist
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.split(".")[0] == package]:
            del sys.modules[name]
    assert tool_results(fake, 1) == ["from a pack"]
