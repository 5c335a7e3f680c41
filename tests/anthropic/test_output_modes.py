"""Typed answers through ``Aether`` over a real HTTP server on 127.0.0.1 in the modes
tests/anthropic/test_end_to_end.py leaves out: prompted, asked for and chosen where thinking
forbids a forced tool, and tool mode asked for where native output exists; whole (``ask``) and
streamed (``stream_output``), with what goes on the wire."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import BaseModel

from aether import Aether, Output
from aether.llm.settings import CallSettings
from aether_anthropic import AnthropicProvider
from tests.anthropic._server import KEY, MessagesServer
from tests.support.typed_answers import schema_in_instructions


class City(BaseModel):
    """A city and its people."""

    name: str = ""
    population: int = 0


CITY = City(name="<name>", population=len("population"))
THINKING: CallSettings = {"reasoning": {"effort": "low"}}


@pytest.fixture
async def server() -> AsyncIterator[MessagesServer]:
    canned = await MessagesServer().start()
    yield canned
    await canned.stop()


async def ask_and_stream(
    server: MessagesServer, model: str, output_type: Any, **call: Any
) -> tuple[Any, list[Any]]:
    provider = AnthropicProvider(api_key=KEY, base_url=server.base_url, default_model=model)
    async with Aether(provider) as client:
        whole = await client.ask("The largest city of Peru?", output_type=output_type, **call)
        partials = [
            value
            async for value in client.stream_output("Which city?", output_type=output_type, **call)
        ]
    return whole, partials


def bodies(server: MessagesServer) -> list[dict[str, Any]]:
    sent = [request["body"] for request in server.requests]
    assert [body.get("stream", False) for body in sent] == [False, True]
    return sent


async def test_prompted_mode_puts_the_schema_in_the_system_text(server: MessagesServer) -> None:
    whole, partials = await ask_and_stream(
        server, "claude-sonnet-4-5", Output(City, mode="prompted")
    )
    assert whole == CITY
    assert len(partials) > 1 and partials[-1] == CITY
    for body in bodies(server):
        assert schema_in_instructions(body["system"]) == City.model_json_schema()
        assert "tools" not in body and "output_config" not in body


async def test_with_thinking_and_no_native_output_auto_mode_is_prompted(
    server: MessagesServer,
) -> None:
    """Anthropic takes no forced tool while thinking: the answer comes through instructions."""
    whole, partials = await ask_and_stream(server, "claude-sonnet-4-0", City, settings=THINKING)
    assert whole == CITY
    assert len(partials) > 1 and partials[-1] == CITY
    for body in bodies(server):
        assert body["thinking"] == {"type": "enabled", "budget_tokens": 1024}
        assert "tools" not in body and "tool_choice" not in body
        assert "output_config" not in body
        assert schema_in_instructions(body["system"]) == City.model_json_schema()


async def test_without_thinking_the_same_model_gets_the_forced_tool(
    server: MessagesServer,
) -> None:
    whole, _ = await ask_and_stream(server, "claude-sonnet-4-0", City)
    assert whole == CITY
    for body in bodies(server):
        assert body["tool_choice"] == {"type": "tool", "name": "final_result"}
        assert "thinking" not in body


async def test_tool_mode_asked_for_where_native_output_exists(server: MessagesServer) -> None:
    whole, partials = await ask_and_stream(server, "claude-sonnet-4-5", Output(City, mode="tool"))
    assert whole == CITY
    assert len(partials) > 1 and partials[-1] == CITY
    for body in bodies(server):
        (tool,) = body["tools"]
        assert tool["name"] == "final_result"
        assert tool["input_schema"]["properties"].keys() == {"name", "population"}
        assert body["tool_choice"] == {"type": "tool", "name": "final_result"}
        assert "output_config" not in body
