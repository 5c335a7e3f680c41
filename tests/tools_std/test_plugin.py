"""The tools resolve by name through the ``aether.tools`` entry points, end to end."""

from __future__ import annotations

import subprocess
import sys

import pytest

from aether.client import Aether
from aether.errors import ToolExecutionError
from aether.events import TOOL_ERROR
from aether.events import ToolError as ToolErrorEvent
from aether.extensions.llm.fake import FakeProvider
from aether.llm.contracts import LLMResponse, ToolCall
from aether.plugins.manager import PluginManager
from aether.registry import Registry
from aether.tools import get_tool, list_tools
from aether_tools_std import _time
from tests.tools_std._servers import Canary


@pytest.fixture
def registry() -> Registry:
    """A registry of its own, fed by the installed entry points (the process-wide one stays
    untouched)."""
    fresh = Registry(loader_factory=lambda: PluginManager(fresh))
    return fresh


def tool_turn(call: ToolCall) -> LLMResponse:
    return LLMResponse(model="fake-model", input_tokens=1, output_tokens=1, tool_calls=[call])


def test_names_are_listed_without_importing(registry: Registry) -> None:
    assert {"get_current_time", "http_get", "read_file"} <= set(list_tools(registry=registry))
    assert registry.list_kind("tool") == {}


def test_each_name_resolves_to_its_tool(registry: Registry) -> None:
    tool = get_tool("read_file", registry=registry)
    assert tool.name == "read_file"
    assert registry.entry("tool", "read_file").source == "aether-tools-std"
    assert sorted(registry.list_kind("tool")) == ["get_current_time", "http_get", "read_file"]


async def test_tools_by_name_through_the_facade(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import datetime, timezone

    monkeypatch.setattr(_time, "utc_now", lambda: datetime(2025, 6, 1, 9, 30, tzinfo=timezone.utc))
    fake = FakeProvider(
        responses=[
            tool_turn(ToolCall(id="t1", name="get_current_time", arguments={"timezone": "UTC"})),
            "done",
        ]
    )
    client = Aether(fake, registry=registry)
    answer = await client.ask("What time is it?", tools=["get_current_time"])
    assert answer == "done"
    assert [t.name for t in fake.calls[0].tools] == ["get_current_time"]
    tool_message = fake.calls[1].messages[-1]
    assert tool_message.role == "tool"
    assert tool_message.content == "2025-06-01T09:30:00+00:00 (UTC, UTC, UTC+00:00, Sunday)"


async def test_a_refused_call_reaches_the_model_and_fires_tool_error(
    registry: Registry, canary: Canary
) -> None:
    url = f"http://127.0.0.1:{canary.port}/admin"
    fake = FakeProvider(
        responses=[tool_turn(ToolCall(id="h1", name="http_get", arguments={"url": url})), "ok"]
    )
    client = Aether(fake, registry=registry)
    errors: list[ToolErrorEvent] = []
    client.on(TOOL_ERROR, errors.append)
    assert await client.ask("fetch it", tools=["http_get"]) == "ok"
    content = fake.calls[1].messages[-1].content
    assert isinstance(content, str) and content.startswith("Error: Refused: ")
    assert "loopback" in content
    assert len(errors) == 1 and isinstance(errors[0].error, ToolExecutionError)
    assert canary.connections == 0


def test_loading_the_pack_does_not_load_an_http_client() -> None:
    # An application that only tells the time does not pay for httpx when the pack loads.
    code = (
        "import sys\n"
        "from aether.tools import get_tool\n"
        "assert get_tool('get_current_time') is not None\n"
        "assert 'aether_tools_std' in sys.modules\n"
        "assert 'httpx' not in sys.modules, 'the pack imported httpx'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
