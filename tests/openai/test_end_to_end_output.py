"""Structured output against a real HTTP server on 127.0.0.1: a native answer in a response
schema, whole and streamed, and a refusal in its place."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pydantic import BaseModel, Field

from aether.errors import ConfigurationError
from aether.llm import strict_json_schema
from aether.llm.contracts import LLMRequest, Message, OutputSpec
from aether_openai import OpenAIProvider
from tests.openai._server import CITY, REFUSAL, CannedServer
from tests.openai._wire import request_problems


class City(BaseModel):
    city: str = Field(description="The city's name")
    country: str
    population: int | None = None


OUTPUT = OutputSpec(
    name="City", description="The largest city", json_schema=City.model_json_schema()
)


def ask(model: str) -> LLMRequest:
    return LLMRequest(
        messages=[Message(role="user", content="The largest city of Mexico?")],
        model=model,
        output=OUTPUT,
    )


@pytest.fixture
async def server() -> AsyncIterator[CannedServer]:
    canned = await CannedServer().start()
    yield canned
    await canned.stop()


@pytest.fixture
async def provider(server: CannedServer) -> AsyncIterator[OpenAIProvider]:
    async with OpenAIProvider(base_url=server.base_url) as openai:
        yield openai


def sent_format(server: CannedServer) -> object:
    body = server.requests[-1]["body"]
    assert request_problems(body) == []
    return body["response_format"]


async def test_a_native_answer_is_the_json_of_the_schema(
    provider: OpenAIProvider, server: CannedServer
) -> None:
    response = await provider.complete(ask("structured"))
    assert sent_format(server) == {
        "type": "json_schema",
        "json_schema": {
            "name": "City",
            "description": "The largest city",
            "schema": strict_json_schema(City.model_json_schema()),
            "strict": True,
        },
    }
    assert City.model_validate_json(response.text) == City.model_validate(CITY)
    assert response.refusal is None
    assert response.finish_reason == "stop"


async def test_a_streamed_native_answer_arrives_as_json_text(
    provider: OpenAIProvider, server: CannedServer
) -> None:
    chunks = [chunk async for chunk in provider.stream(ask("structured"))]
    assert len([c for c in chunks if c.text]) > 1  # pieces, as the model writes them
    assert City.model_validate_json("".join(c.text for c in chunks)) == City.model_validate(CITY)
    body = server.requests[-1]["body"]
    assert body["stream"] is True and request_problems(body) == []
    assert body["response_format"]["json_schema"]["strict"] is True


async def test_a_refusal_is_kept_apart_from_the_answer(
    provider: OpenAIProvider, server: CannedServer
) -> None:
    response = await provider.complete(ask("refuse"))
    assert response.refusal == REFUSAL
    assert response.text == ""
    chunks = [chunk async for chunk in provider.stream(ask("refuse"))]
    assert "".join(c.refusal or "" for c in chunks) == REFUSAL
    assert "".join(c.text for c in chunks) == ""
    assert chunks[-1].finish_reason == "stop"


async def test_a_model_without_response_schemas_is_refused_before_sending(
    provider: OpenAIProvider, server: CannedServer
) -> None:
    assert not provider.supports_native_output("gpt-4-turbo")
    with pytest.raises(ConfigurationError, match="'gpt-4-turbo' cannot answer in a JSON schema"):
        await provider.complete(ask("gpt-4-turbo"))
    assert server.requests == []
