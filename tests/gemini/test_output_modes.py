"""Typed answers through ``Aether`` over a real HTTP server on 127.0.0.1, in each mode, whole
(``ask``) and streamed (``stream_output``): what goes on the wire, and the value read back.

The server answers ``generateContent`` (and its streaming variant) from the request it received
(tests.support.typed_answers): JSON text in the ``responseJsonSchema`` or ``responseSchema``,
a call of a function when calling is forced (``mode: ANY``: the last one allowed), or, with
neither, a fenced JSON answer made from the schema in the system instruction. Text streams in
small pieces; a function call arrives whole, as Gemini sends it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import BaseModel

from aether import Aether, Output
from aether_gemini import GeminiProvider
from tests.support.loopback import (
    LoopbackServer,
    Request,
    end_chunks,
    send_chunk,
    send_json,
    start_chunked,
)
from tests.support.typed_answers import fenced, sample, schema_in_instructions


class City(BaseModel):
    """A city and its people."""

    name: str = ""
    country: str = ""
    population: int = 0


CITY = City(name="<name>", country="<country>", population=len("population"))


def lookup(city: str) -> str:
    """Look a city up."""
    return city


def _answer(body: dict[str, Any]) -> dict[str, Any]:
    """The part the model answers ``body`` with."""
    calling = body.get("toolConfig", {}).get("functionCallingConfig", {})
    if calling.get("mode") == "ANY":
        declared = {d["name"]: d for tool in body["tools"] for d in tool["functionDeclarations"]}
        name = (calling.get("allowedFunctionNames") or list(declared))[-1]
        declaration = declared[name]
        schema = declaration.get("parametersJsonSchema") or declaration["parameters"]
        return {"functionCall": {"name": name, "args": sample(schema)}}
    generation = body.get("generationConfig", {})
    schema = generation.get("responseJsonSchema") or generation.get("responseSchema")
    if schema is not None:
        return {"text": json.dumps(sample(schema))}
    system = body["systemInstruction"]["parts"][0]["text"]
    return {"text": fenced(sample(schema_in_instructions(system)))}


def _event(part: dict[str, Any] | None, finish: str | None = None) -> bytes:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": [part] if part else []}}
    if finish:
        candidate["finishReason"] = finish
    usage = {"promptTokenCount": 12, "candidatesTokenCount": 7}
    return (
        b"data: "
        + json.dumps({"candidates": [candidate], "usageMetadata": usage}).encode()
        + (b"\r\n\r\n")
    )


async def _respond(
    request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> bool:
    part = _answer(request["body"])
    if not request["path"].endswith("?alt=sse"):
        candidate = {"content": {"role": "model", "parts": [part]}, "finishReason": "STOP"}
        usage = {"promptTokenCount": 12, "candidatesTokenCount": 7}
        await send_json(writer, 200, {"candidates": [candidate], "usageMetadata": usage})
        return True
    await start_chunked(writer)
    if "text" in part:
        text = part["text"]
        for start in range(0, len(text), 7):
            await send_chunk(writer, _event({"text": text[start : start + 7]}))
    else:
        await send_chunk(writer, _event(part))
    await send_chunk(writer, _event(None, finish="STOP"))
    await end_chunks(writer)
    return True


@pytest.fixture
async def server() -> AsyncIterator[LoopbackServer]:
    loopback = await LoopbackServer(_respond).start()
    yield loopback
    await loopback.stop()


def client(server: LoopbackServer, model: str) -> Aether:
    return Aether(
        GeminiProvider(api_key="e2e-key", base_url=f"{server.root}/v1beta", default_model=model)
    )


async def ask_and_stream(aether: Aether, output_type: Any, **call: Any) -> tuple[Any, list[Any]]:
    async with aether:
        whole = await aether.ask("The largest city of Peru?", output_type=output_type, **call)
        partials = [
            value
            async for value in aether.stream_output(
                "The largest city?", output_type=output_type, **call
            )
        ]
    return whole, partials


def bodies(server: LoopbackServer, model: str) -> list[dict[str, Any]]:
    whole, streamed = server.requests
    assert whole["path"] == f"/v1beta/models/{model}:generateContent"
    assert streamed["path"] == f"/v1beta/models/{model}:streamGenerateContent?alt=sse"
    return [whole["body"], streamed["body"]]


def assert_grew_to(partials: list[Any], expected: City) -> None:
    assert len(partials) > 1, "the answer grows as the text streams"
    assert partials[-1] == expected
    assert partials[0] != expected


def declared(body: dict[str, Any]) -> list[str]:
    return [d["name"] for tool in body.get("tools", []) for d in tool["functionDeclarations"]]


async def test_native_mode_sends_the_json_schema(server: LoopbackServer) -> None:
    whole, partials = await ask_and_stream(client(server, "gemini-2.5-flash"), City)
    assert whole == CITY
    assert_grew_to(partials, CITY)
    for body in bodies(server, "gemini-2.5-flash"):
        generation = body["generationConfig"]
        assert generation["responseMimeType"] == "application/json"
        assert generation["responseJsonSchema"] == City.model_json_schema()
        assert "tools" not in body and "toolConfig" not in body


async def test_native_mode_on_a_model_without_json_schema_sends_the_translated_schema(
    server: LoopbackServer,
) -> None:
    whole, partials = await ask_and_stream(client(server, "gemini-1.5-flash"), City)
    assert whole == CITY
    assert_grew_to(partials, CITY)
    for body in bodies(server, "gemini-1.5-flash"):
        generation = body["generationConfig"]
        assert generation["responseMimeType"] == "application/json"
        assert "responseJsonSchema" not in generation
        translated = generation["responseSchema"]
        assert translated["properties"].keys() == {"name", "country", "population"}
        assert translated["description"] == "A city and its people."


async def test_tool_mode_forces_the_synthesized_function(server: LoopbackServer) -> None:
    whole, partials = await ask_and_stream(
        client(server, "gemini-2.5-flash"), Output(City, mode="tool")
    )
    assert whole == CITY
    assert partials == [CITY], "Gemini sends a call whole: one value, the answer"
    for body in bodies(server, "gemini-2.5-flash"):
        (declaration,) = body["tools"][0]["functionDeclarations"]
        assert declaration["name"] == "final_result"
        assert declaration["parametersJsonSchema"] == City.model_json_schema()
        assert body["toolConfig"] == {
            "functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["final_result"]}
        }
        assert "responseJsonSchema" not in body.get("generationConfig", {})


async def test_prompted_mode_puts_the_schema_in_the_system_instruction(
    server: LoopbackServer,
) -> None:
    whole, partials = await ask_and_stream(
        client(server, "gemini-2.5-flash"), Output(City, mode="prompted")
    )
    assert whole == CITY
    assert_grew_to(partials, CITY)
    for body in bodies(server, "gemini-2.5-flash"):
        system = body["systemInstruction"]["parts"][0]["text"]
        assert schema_in_instructions(system) == City.model_json_schema()
        assert "tools" not in body
        assert "responseMimeType" not in body.get("generationConfig", {})


async def test_with_tools_a_model_that_cannot_combine_them_gets_the_tool_mode(
    server: LoopbackServer,
) -> None:
    """Gemini 2.5 refuses a response schema beside function calling: auto mode asks through a
    forced function instead (the user's tools stay callable)."""
    whole, partials = await ask_and_stream(client(server, "gemini-2.5-flash"), City, tools=[lookup])
    assert whole == CITY
    assert partials == [CITY]
    for body in bodies(server, "gemini-2.5-flash"):
        assert declared(body) == ["lookup", "final_result"]
        assert body["toolConfig"] == {"functionCallingConfig": {"mode": "ANY"}}
        assert "responseJsonSchema" not in body.get("generationConfig", {})


async def test_with_tools_a_model_that_combines_them_stays_native(server: LoopbackServer) -> None:
    model = "gemini-3-pro-preview"
    whole, partials = await ask_and_stream(client(server, model), City, tools=[lookup])
    assert whole == CITY
    assert_grew_to(partials, CITY)
    for body in bodies(server, model):
        assert declared(body) == ["lookup"]
        assert body["generationConfig"]["responseJsonSchema"] == City.model_json_schema()


async def test_with_tool_choice_none_the_tools_do_not_stop_native_mode(
    server: LoopbackServer,
) -> None:
    whole, partials = await ask_and_stream(
        client(server, "gemini-2.5-flash"), City, tools=[lookup], tool_choice="none"
    )
    assert whole == CITY
    assert_grew_to(partials, CITY)
    for body in bodies(server, "gemini-2.5-flash"):
        assert body["toolConfig"] == {"functionCallingConfig": {"mode": "NONE"}}
        assert body["generationConfig"]["responseJsonSchema"] == City.model_json_schema()
