"""What reaches a real HTTP server on 127.0.0.1 when a user asks through ``Aether``: media,
reasoning, provider_options and headers, the defaults a reasoning model must not get, and a
strict tool's round trip."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from aether import Aether
from aether.errors import ConfigurationError
from aether.llm.parts import ContentPart, DocumentPart, ImagePart
from aether.tools import make_tool
from aether_openai import OpenAIProvider
from tests.openai._server import CannedServer
from tests.openai._wire import request_problems

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(32))
PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n"


@pytest.fixture(autouse=True)
def default_temperature(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AETHER_DEFAULT_TEMPERATURE", raising=False)  # the shipped 0.7


@pytest.fixture
async def server() -> AsyncIterator[CannedServer]:
    canned = await CannedServer().start()
    yield canned
    await canned.stop()


@pytest.fixture
async def client(server: CannedServer) -> AsyncIterator[Aether]:
    async with Aether(OpenAIProvider(base_url=server.base_url, default_model="text")) as aether:
        yield aether


def sent(server: CannedServer, index: int = -1) -> dict[str, Any]:
    body: dict[str, Any] = server.requests[index]["body"]
    assert request_problems(body) == []
    return body


async def test_an_image_and_a_pdf(client: Aether, server: CannedServer, tmp_path: Path) -> None:
    picture = tmp_path / "photo.png"
    picture.write_bytes(PNG)
    prompt: list[str | ContentPart] = [
        "Compare these.",
        ImagePart.from_path(picture),
        DocumentPart(data=PDF, media_type="application/pdf", filename="report.pdf"),
    ]
    assert await client.ask(prompt, model="gpt-4o") == "Hello there"
    (message,) = sent(server)["messages"]
    assert message["content"] == [
        {"type": "text", "text": "Compare these."},
        {
            "type": "image_url",
            "image_url": {"url": "data:image/png;base64," + base64.b64encode(PNG).decode()},
        },
        {
            "type": "file",
            "file": {
                "filename": "report.pdf",
                "file_data": "data:application/pdf;base64," + base64.b64encode(PDF).decode(),
            },
        },
    ]


async def test_reasoning_effort(client: Aether, server: CannedServer) -> None:
    await client.ask("Think.", model="o4-mini", settings={"reasoning": {"effort": "high"}})
    assert sent(server)["reasoning_effort"] == "high"


async def test_a_reasoning_model_with_every_default_gets_no_sampling(
    client: Aether, server: CannedServer
) -> None:
    await client.ask("Hi", model="gpt-4o")
    assert sent(server)["temperature"] == 0.7  # the shipped default, to a model that takes it
    await client.ask("Hi", model="o3-mini", max_tokens=64)
    body = sent(server)
    assert body == {
        "model": "o3-mini",
        "messages": [{"role": "user", "content": "Hi"}],
        # Off OpenAI's host the field follows the model: o3-mini rejects max_tokens.
        "max_completion_tokens": 64,
    }


async def test_an_explicit_temperature_for_a_reasoning_model_is_refused_before_sending(
    client: Aether, server: CannedServer
) -> None:
    with pytest.raises(ConfigurationError, match="'o3-mini' takes no temperature"):
        await client.ask("Hi", model="o3-mini", temperature=0.2)
    assert server.requests == []


async def test_provider_options_and_extra_headers_reach_the_server(
    client: Aether, server: CannedServer
) -> None:
    await client.ask(
        "Today?",
        model="gpt-4o",
        settings={
            "seed": 11,
            "cache": {"key": "user-42"},
            "provider_options": {
                "web_search_options": {"search_context_size": "low"},
                "metadata": {"run": "e2e"},
            },
            "extra_headers": {"X-Request-Tag": "e2e-1"},
        },
    )
    body = sent(server)
    assert body["web_search_options"] == {"search_context_size": "low"}
    assert body["metadata"] == {"run": "e2e"}
    assert (body["seed"], body["prompt_cache_key"]) == (11, "user-42")
    assert server.requests[-1]["headers"]["x-request-tag"] == "e2e-1"


async def test_a_strict_tool_round_trip(client: Aether, server: CannedServer) -> None:
    def get_weather(city: str) -> str:
        """The weather in a city."""
        return f"sunny in {city}"

    weather = make_tool(get_weather, strict=True)
    answer = await client.ask("Weather in Paris?", model="weather", tools=[weather])
    assert answer == "Answer: sunny in Paris"
    first, second = sent(server, 0), sent(server, 1)
    (tool,) = first["tools"]
    assert tool["function"]["strict"] is True
    assert tool["function"]["parameters"]["additionalProperties"] is False
    assert second["messages"][-2:] == [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_w",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_w", "content": "sunny in Paris"},
    ]
    assert second["tools"] == first["tools"]


async def test_a_strict_tool_that_breaks_the_rules_is_refused_before_sending(
    client: Aether, server: CannedServer
) -> None:
    def forecast(city: str, days: int = 3) -> str:
        return city * days

    with pytest.raises(ConfigurationError, match="Tool 'forecast' is strict"):
        await client.ask("Forecast?", model="weather", tools=[make_tool(forecast, strict=True)])
    assert server.requests == []


async def test_allowed_tools(client: Aether, server: CannedServer) -> None:
    def get_weather(city: str) -> str:
        return city

    def get_time(city: str) -> str:
        return city

    await client.ask(
        "Hi",
        model="text",
        tools=[get_weather, get_time],
        tool_choice="required",
        allowed_tools=["get_time"],
    )
    body = sent(server)
    assert [tool["function"]["name"] for tool in body["tools"]] == ["get_weather", "get_time"]
    assert body["tool_choice"] == {
        "type": "allowed_tools",
        "allowed_tools": {
            "mode": "required",
            "tools": [{"type": "function", "function": {"name": "get_time"}}],
        },
    }
