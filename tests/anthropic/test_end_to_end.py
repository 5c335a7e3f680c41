"""The provider against a real HTTP server on 127.0.0.1: complete, stream, a tool round trip
through ``Aether``, a dropped connection, the pool afterwards, rich requests (an image and a
PDF, thinking and its constraints, provider options, cache breakpoints), and a structured
answer, whole and streamed."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from pydantic import BaseModel

from aether import Aether
from aether.errors import (
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    NotFoundError,
    StreamInterruptedError,
)
from aether.llm.contracts import LLMRequest, Message, OutputSpec
from aether.llm.output import Output
from aether.llm.parts import ContentPart, DocumentPart, ImagePart, TextPart
from aether.llm.settings import CallSettings
from aether_anthropic import AnthropicProvider
from tests.anthropic._server import KEY, MODEL, THOUGHT, MessagesServer


@pytest.fixture
async def server() -> AsyncIterator[MessagesServer]:
    canned = await MessagesServer().start()
    yield canned
    await canned.stop()


def ask(model: str = "text") -> LLMRequest:
    return LLMRequest(
        messages=[Message(role="system", content="Be brief."), Message(role="user", content="hi")],
        model=model,
    )


async def test_complete_over_a_socket(server: MessagesServer) -> None:
    async with AnthropicProvider(api_key=KEY, base_url=server.base_url) as provider:
        response = await provider.complete(ask())
    assert response.text == "Hello there"
    assert (response.finish_reason, response.model, response.response_id) == (
        "stop",
        MODEL,
        "msg_e2e",
    )
    # 11 fresh + 20 read from the cache + 3 written to it.
    assert (response.input_tokens, response.cached_input_tokens) == (34, 20)
    assert (response.cache_write_tokens, response.output_tokens) == (3, 9)
    (sent,) = server.requests
    assert (sent["method"], sent["path"]) == ("POST", "/v1/messages")
    assert sent["headers"]["x-api-key"] == KEY
    assert sent["headers"]["anthropic-version"] == "2023-06-01"
    assert sent["body"]["system"] == "Be brief."
    assert sent["body"]["max_tokens"] == 4096
    assert "stream" not in sent["body"]


async def test_stream_over_a_socket_reuses_one_connection(server: MessagesServer) -> None:
    async with AnthropicProvider(api_key=KEY, base_url=server.base_url) as provider:
        for _ in range(3):
            chunks = [chunk async for chunk in provider.stream(ask())]
            assert [c.text for c in chunks] == ["Hello", " there", ""]
            last = chunks[-1]
            assert last.finish_reason == "stop"
            assert (last.input_tokens, last.cached_input_tokens, last.output_tokens) == (34, 20, 9)
    assert server.connections == 1, "a stream read to message_stop returns its connection"
    assert all(r["body"]["stream"] is True for r in server.requests)


async def test_tool_round_trip_through_aether(server: MessagesServer) -> None:
    ran: list[tuple[int, int]] = []

    def add(a: int, b: int = 3) -> int:
        """Add two integers."""
        ran.append((a, b))
        return a + b

    provider = AnthropicProvider(api_key=KEY, base_url=server.base_url, default_model="tools")
    async with Aether(provider) as client:
        answer = await client.ask("What is 2 + 3?", tools=[add])
    assert answer == "The sum is 5."
    assert ran == [(2, 3)]
    first, second = (r["body"] for r in server.requests)
    (tool,) = first["tools"]
    assert tool["name"] == "add"
    assert tool["description"] == "Add two integers."
    assert tool["input_schema"]["properties"].keys() == {"a", "b"}
    assert second["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "What is 2 + 3?"}]},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Adding."},
                {"type": "tool_use", "id": "toolu_e2e_1", "name": "add", "input": {"a": 2}},
            ],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "toolu_e2e_1", "content": "5"}],
        },
    ]


async def test_streamed_tool_round_trip_through_aether(server: MessagesServer) -> None:
    def add(a: int, b: int = 3) -> int:
        """Add two integers."""
        return a + b

    provider = AnthropicProvider(api_key=KEY, base_url=server.base_url, default_model="tools")
    async with Aether(provider) as client:
        text = "".join([chunk.text async for chunk in client.stream("2 + 3?", tools=[add])])
    assert text == "Adding.The sum is 5."
    assert [r["body"]["stream"] for r in server.requests] == [True, True]
    assert server.requests[1]["body"]["messages"][2]["content"][0]["content"] == "5"


async def test_mid_stream_disconnect(server: MessagesServer) -> None:
    # One pooled connection and a short pool timeout: a leaked connection makes the next
    # request fail fast instead of hanging.
    client = httpx.AsyncClient(
        limits=httpx.Limits(max_connections=1), timeout=httpx.Timeout(5.0, pool=0.5)
    )
    provider = AnthropicProvider(api_key=KEY, base_url=server.base_url, http_client=client)
    got: list[str] = []

    async def consume() -> None:
        async for chunk in provider.stream(ask("disconnect")):
            got.append(chunk.text)

    with pytest.raises(StreamInterruptedError) as info:
        await consume()
    assert got == ["Hello"]
    assert info.value.chunks_received == 1
    assert info.value.provider == "anthropic"
    # The broken connection was released: the next call gets a fresh one.
    assert (await provider.complete(ask())).text == "Hello there"
    await client.aclose()


async def test_http_errors_from_a_real_server(server: MessagesServer) -> None:
    async with AnthropicProvider(api_key="wrong-key-000", base_url=server.base_url) as provider:
        with pytest.raises(AuthenticationError, match="invalid x-api-key") as info:
            await provider.complete(ask())
    assert (info.value.status_code, info.value.request_id) == (401, "req_e2e_401")
    async with AnthropicProvider(api_key=KEY, base_url=server.base_url + "/v1") as provider:
        with pytest.raises(NotFoundError, match="No route /v1/v1/messages"):
            _ = [chunk async for chunk in provider.stream(ask())]


# --- rich requests over the socket ---------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(32))
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"


@pytest.fixture
def default_temperature(monkeypatch: pytest.MonkeyPatch) -> float:
    """Every default in place: AETHER_DEFAULT_TEMPERATURE unset, so 0.7."""
    monkeypatch.delenv("AETHER_DEFAULT_TEMPERATURE", raising=False)
    return 0.7


async def test_an_image_and_a_pdf_reach_the_model(server: MessagesServer, tmp_path: Path) -> None:
    (tmp_path / "chart.png").write_bytes(PNG)
    (tmp_path / "report.pdf").write_bytes(PDF)
    image = ImagePart.from_path(tmp_path / "chart.png")
    report = DocumentPart.from_path(tmp_path / "report.pdf").model_copy(
        update={"filename": "report.pdf"}
    )
    provider = AnthropicProvider(api_key=KEY, base_url=server.base_url, default_model="describe")
    prompt: list[str | ContentPart] = ["Compare the chart with the report.", image, report]
    async with Aether(provider) as client:
        answer = await client.ask(prompt)
    assert answer == "text:- image:image/png document:application/pdf"
    (sent,) = server.requests
    _, picture, document = sent["body"]["messages"][0]["content"]
    assert base64.b64decode(picture["source"]["data"]) == PNG
    assert base64.b64decode(document["source"]["data"]) == PDF
    assert document["title"] == "report.pdf"


async def test_thinking_with_every_default_in_place_sends_no_temperature(
    server: MessagesServer, default_temperature: float
) -> None:
    provider = AnthropicProvider(api_key=KEY, base_url=server.base_url)
    async with Aether(provider) as client:
        plain = await client.complete("hi")
        thought = await client.complete("hi", settings={"reasoning": {"effort": "medium"}})
        streamed = [
            chunk async for chunk in client.stream("hi", settings={"reasoning": {"effort": "low"}})
        ]
    assert (plain.text, plain.reasoning_text) == ("Hello there", "")
    assert (thought.text, thought.reasoning_text) == ("Hello there", THOUGHT)
    assert "".join(c.reasoning_text for c in streamed) == THOUGHT
    assert "".join(c.text for c in streamed) == "Hello there"
    first, second, third = (r["body"] for r in server.requests)
    assert first["temperature"] == default_temperature, "the default goes where it can"
    assert "temperature" not in second and "temperature" not in third
    assert second["thinking"] == {"type": "enabled", "budget_tokens": 4096}
    assert second["max_tokens"] == 4096 + 4096, "the defaulted max_tokens made room"
    assert third["thinking"] == {"type": "enabled", "budget_tokens": 1024}


async def test_thinking_constraints_are_checked_before_sending(server: MessagesServer) -> None:
    provider = AnthropicProvider(api_key=KEY, base_url=server.base_url)
    async with Aether(provider) as client:
        with pytest.raises(ConfigurationError, match="below max_tokens"):
            await client.ask("hi", settings={"reasoning": {"effort": "high"}, "max_tokens": 900})
        with pytest.raises(ConfigurationError, match="temperature 1 or none"):
            await client.ask(
                "hi", settings={"reasoning": {"budget_tokens": 2048}, "temperature": 0.2}
            )
        with pytest.raises(ConfigurationError, match="at least 1024"):
            await client.ask("hi", settings={"reasoning": {"budget_tokens": 100}})
    assert server.requests == [], "nothing was sent"


async def test_provider_options_and_extra_headers_reach_the_server(
    server: MessagesServer,
) -> None:
    provider = AnthropicProvider(api_key=KEY, base_url=server.base_url)
    settings: CallSettings = {
        "provider_options": {"metadata": {"user_id": "user-7"}, "top_k": 5},
        "extra_headers": {"anthropic-beta": "context-1m-2025-08-07"},
    }
    async with Aether(provider) as client:
        assert await client.ask("hi", settings=settings) == "Hello there"
    (sent,) = server.requests
    assert sent["body"]["metadata"] == {"user_id": "user-7"}
    assert sent["body"]["top_k"] == 5
    assert sent["headers"]["anthropic-beta"] == "context-1m-2025-08-07"
    assert sent["headers"]["x-api-key"] == KEY


async def test_cache_breakpoints_reach_the_server(server: MessagesServer) -> None:
    provider = AnthropicProvider(api_key=KEY, base_url=server.base_url)
    conversation = [
        Message(role="system", content="You answer from the manual."),
        Message(role="user", content=[TextPart(text="<manual>", cache=True), TextPart(text="Q?")]),
    ]
    async with Aether(provider) as client:
        await client.complete(conversation, settings={"cache": {"system": True, "messages": True}})
    (sent,) = server.requests
    ephemeral = {"type": "ephemeral"}
    assert sent["body"]["system"] == [
        {"type": "text", "text": "You answer from the manual.", "cache_control": ephemeral}
    ]
    assert sent["body"]["messages"][0]["content"] == [
        {"type": "text", "text": "<manual>", "cache_control": ephemeral},
        {"type": "text", "text": "Q?", "cache_control": ephemeral},
    ]


# --- a structured answer --------------------------------------------------------------------


class City(BaseModel):
    name: str
    population: int


class Sketch(BaseModel):
    """A city as it forms: every field has a default, so a partial answer validates."""

    name: str = ""
    population: int = 0


def ask_for_a_city(model: str = "claude-sonnet-4-5") -> LLMRequest:
    schema = City.model_json_schema()
    return LLMRequest(
        messages=[Message(role="user", content="The largest city of Peru?")],
        model=model,
        output=OutputSpec(name="City", json_schema=schema, description="The city asked about."),
    )


async def test_a_structured_answer_whole_and_streamed(server: MessagesServer) -> None:
    expected = City(name="<name>", population=len("population"))
    async with AnthropicProvider(api_key=KEY, base_url=server.base_url) as provider:
        whole = await provider.complete(ask_for_a_city())
        chunks = [chunk async for chunk in provider.stream(ask_for_a_city())]
    assert City.model_validate_json(whole.text) == expected
    assert whole.finish_reason == "stop"
    assert len([c for c in chunks if c.text]) > 1, "the JSON arrives in pieces"
    assert City.model_validate_json("".join(c.text for c in chunks)) == expected
    # The server refuses an object that is not closed, as the API does: the provider closed it.
    for sent in server.requests:
        schema = sent["body"]["output_config"]["format"]["schema"]
        assert schema["additionalProperties"] is False
        assert schema["description"] == "The city asked about."
        assert "anthropic-beta" not in sent["headers"]


async def test_a_schema_sent_as_given_is_refused_by_the_server(server: MessagesServer) -> None:
    """What the provider's rewrite spares the caller: the same schema, forced through
    provider_options unclosed, gets the API's 400."""
    request = ask_for_a_city().model_copy(
        update={
            "output": None,
            "provider_options": {
                "output_config": {
                    "format": {"type": "json_schema", "schema": City.model_json_schema()}
                }
            },
        }
    )
    async with AnthropicProvider(api_key=KEY, base_url=server.base_url) as provider:
        with pytest.raises(BadRequestError, match="additionalProperties"):
            await provider.complete(request)


async def test_a_model_without_native_output_sends_nothing(server: MessagesServer) -> None:
    async with AnthropicProvider(api_key=KEY, base_url=server.base_url) as provider:
        assert not provider.supports_native_output("claude-3-5-haiku-latest")
        with pytest.raises(ConfigurationError, match="no native structured output"):
            await provider.complete(ask_for_a_city("claude-3-5-haiku-latest"))
    assert server.requests == []


async def test_typed_answers_through_aether_natively(server: MessagesServer) -> None:
    expected = City(name="<name>", population=len("population"))
    provider = AnthropicProvider(api_key=KEY, base_url=server.base_url)  # claude-sonnet-4-5
    async with Aether(provider) as client:
        city = await client.ask("The largest city of Peru?", output_type=City)
        partials = [
            value async for value in client.stream_output("Which city?", output_type=Sketch)
        ]
    assert city == expected
    assert len(partials) > 1, "the answer grows as the text streams"
    assert partials[-1] == Sketch(**expected.model_dump())
    for sent in server.requests:
        assert sent["body"]["output_config"]["format"]["type"] == "json_schema"
        assert "tools" not in sent["body"]


async def test_typed_answers_through_a_forced_tool_where_there_is_no_native_output(
    server: MessagesServer,
) -> None:
    """The tool call's streamed fragments are what core grows the partial answers from."""
    expected = City(name="<name>", population=len("population"))
    provider = AnthropicProvider(
        api_key=KEY, base_url=server.base_url, default_model="claude-sonnet-4-0"
    )
    assert not provider.supports_native_output()
    async with Aether(provider) as client:
        city = await client.ask("The largest city of Peru?", output_type=City)
        partials = [
            value async for value in client.stream_output("Which city?", output_type=Sketch)
        ]
    assert city == expected
    assert len(partials) > 1, "the answer grows as the call's fragments stream"
    assert partials[-1] == Sketch(**expected.model_dump())
    for sent in server.requests:
        body = sent["body"]
        assert "output_config" not in body
        assert body["tool_choice"] == {"type": "tool", "name": body["tools"][0]["name"]}


async def test_with_thinking_on_the_forced_tool_is_refused_before_sending(
    server: MessagesServer,
) -> None:
    provider = AnthropicProvider(
        api_key=KEY, base_url=server.base_url, default_model="claude-sonnet-4-0"
    )
    thinking: CallSettings = {"reasoning": {"effort": "low"}}
    request = LLMRequest(
        messages=[Message(role="user", content="Which city?")],
        reasoning=thinking["reasoning"],
    )
    assert not provider.supports_forced_tool_choice(request)
    async with Aether(provider) as client:
        with pytest.raises(ConfigurationError, match="cannot force a tool for this request"):
            await client.ask(
                "Which city?", output_type=Output(City, mode="tool"), settings=thinking
            )
    assert server.requests == [], "nothing was sent"
