"""Typed answers through ``Aether`` over a real HTTP server on 127.0.0.1, in each mode, whole
(``ask``) and streamed (``stream_output``): what goes on the wire, and the value read back.

The server answers Chat Completions from the request it received (tests.support.typed_answers):
JSON text in the ``response_format`` schema, a call of the forced tool made from its parameters,
or, with neither, a fenced JSON answer made from the schema in the system message. A user
message of ``refuse`` gets a refusal; one of ``fix me`` gets a wrong answer until the
conversation holds a repair request, and one of ``fix me always`` only wrong answers.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import BaseModel

from aether import Aether, Output
from aether.errors import OutputValidationError, ResponseBlockedError
from aether.llm import strict_json_schema
from aether_openai import OpenAIProvider
from tests.openai._wire import request_problems
from tests.support.loopback import (
    LoopbackServer,
    Request,
    end_chunks,
    send_chunk,
    send_json,
    start_chunked,
)
from tests.support.typed_answers import fenced, sample, schema_in_instructions

REFUSAL = "I can't help with that."


class City(BaseModel):
    """A city and its people."""

    name: str = ""
    country: str = ""
    population: int = 0


CITY = City(name="<name>", country="<country>", population=len("population"))


def _answer(body: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The assistant message for ``body``, and its finish reason."""
    messages = body["messages"]
    asked = messages[-1]["content"] if messages[-1]["role"] == "user" else ""
    if asked == "refuse":
        return {"content": None, "refusal": REFUSAL}, "stop"
    first = next(message["content"] for message in messages if message["role"] == "user")
    if asked == "fix me" or first == "fix me always":
        return {"content": '{"population": "many"}'}, "stop"
    forced = body.get("tool_choice")
    if forced is not None and forced != "auto":
        tools = {tool["function"]["name"]: tool["function"] for tool in body["tools"]}
        name = forced["function"]["name"] if isinstance(forced, dict) else list(tools)[-1]
        arguments = json.dumps(sample(tools[name]["parameters"]))
        call = {"id": "call_e2e", "type": "function", "function": {"name": name}}
        return {"content": None, "tool_calls": [{**call, "arguments": arguments}]}, "tool_calls"
    wanted = body.get("response_format")
    if wanted is not None:
        return {"content": json.dumps(sample(wanted["json_schema"]["schema"]))}, "stop"
    system = messages[0]["content"] if messages[0]["role"] == "system" else ""
    return {"content": fenced(sample(schema_in_instructions(system)))}, "stop"


def _pieces(text: str, size: int = 9) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def _deltas(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The message as a model streams it: text, refusal and arguments in small pieces."""
    if message.get("refusal"):
        return [{"refusal": piece} for piece in _pieces(message["refusal"])]
    if message.get("tool_calls"):
        (call,) = message["tool_calls"]
        opening = {"index": 0, "id": call["id"], "type": "function"}
        first = {**opening, "function": {"name": call["function"]["name"], "arguments": ""}}
        rest = [
            {"index": 0, "function": {"arguments": piece}} for piece in _pieces(call["arguments"])
        ]
        return [{"tool_calls": [delta]} for delta in [first, *rest]]
    return [{"content": piece} for piece in _pieces(message["content"])]


def _completion(message: dict[str, Any], finish: str) -> dict[str, Any]:
    if "tool_calls" in message:
        calls = [
            {**call, "function": {**call["function"], "arguments": call.pop("arguments")}}
            for call in message["tool_calls"]
        ]
        message = {**message, "tool_calls": calls}
    choice = {"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish}
    usage = {"prompt_tokens": 20, "completion_tokens": 8, "total_tokens": 28}
    return {"id": "chatcmpl-e2e", "model": "e2e", "choices": [choice], "usage": usage}


def _event(payload: dict[str, Any]) -> str:
    return f"data: {json.dumps(payload)}\n\n"


async def _respond(
    request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> bool:
    body = request["body"]
    message, finish = _answer(body)
    if not body.get("stream"):
        await send_json(writer, 200, _completion(message, finish))
        return True
    await start_chunked(writer)
    for delta in _deltas(message):
        choice = {"index": 0, "delta": delta, "finish_reason": None}
        await send_chunk(writer, _event({"id": "chatcmpl-e2e", "choices": [choice]}))
    last = {"index": 0, "delta": {}, "finish_reason": finish}
    await send_chunk(writer, _event({"id": "chatcmpl-e2e", "choices": [last]}))
    usage = {"prompt_tokens": 20, "completion_tokens": 8, "total_tokens": 28}
    await send_chunk(writer, _event({"id": "chatcmpl-e2e", "choices": [], "usage": usage}))
    await send_chunk(writer, "data: [DONE]\n\n")
    await end_chunks(writer)
    return True


@pytest.fixture
async def server() -> AsyncIterator[LoopbackServer]:
    loopback = await LoopbackServer(_respond).start()
    yield loopback
    await loopback.stop()


def client(server: LoopbackServer, model: str = "gpt-4o") -> Aether:
    provider = OpenAIProvider(api_key="e2e-key", base_url=f"{server.root}/v1", default_model=model)
    return Aether(provider)


async def ask_and_stream(aether: Aether, output_type: Any) -> tuple[Any, list[Any]]:
    async with aether:
        whole = await aether.ask("The largest city of Peru?", output_type=output_type)
        partials = [
            value
            async for value in aether.stream_output("The largest city?", output_type=output_type)
        ]
    return whole, partials


def bodies(server: LoopbackServer) -> list[dict[str, Any]]:
    sent = [request["body"] for request in server.requests]
    for body in sent:
        assert request_problems(body) == []
    assert [body.get("stream", False) for body in sent] == [False, True]
    return sent


def assert_grew_to(partials: list[Any], expected: City) -> None:
    assert len(partials) > 1, "the answer grows as it streams"
    assert partials[-1] == expected
    assert partials[0] != expected


async def test_native_mode_sends_a_strict_response_format(server: LoopbackServer) -> None:
    whole, partials = await ask_and_stream(client(server), City)
    assert whole == CITY
    assert_grew_to(partials, CITY)
    for body in bodies(server):
        assert body["response_format"] == {
            "type": "json_schema",
            "json_schema": {
                "name": "City",
                "description": "A city and its people.",
                "schema": strict_json_schema(City.model_json_schema()),
                "strict": True,
            },
        }
        assert "tools" not in body and "tool_choice" not in body


async def test_tool_mode_forces_the_synthesized_tool(server: LoopbackServer) -> None:
    whole, partials = await ask_and_stream(client(server), Output(City, mode="tool"))
    assert whole == CITY
    assert_grew_to(partials, CITY)
    for body in bodies(server):
        (tool,) = body["tools"]
        assert tool["type"] == "function"
        assert tool["function"]["name"] == "final_result"
        assert tool["function"]["parameters"] == City.model_json_schema()
        assert tool["function"]["description"].startswith("Give the final answer (City)")
        assert body["tool_choice"] == {"type": "function", "function": {"name": "final_result"}}
        assert "response_format" not in body


async def test_prompted_mode_puts_the_schema_in_the_instructions(server: LoopbackServer) -> None:
    whole, partials = await ask_and_stream(client(server), Output(City, mode="prompted"))
    assert whole == CITY
    assert_grew_to(partials, CITY)
    for body in bodies(server):
        system, user = body["messages"]
        assert system["role"] == "system"
        assert schema_in_instructions(system["content"]) == City.model_json_schema()
        assert user["role"] == "user"
        assert "tools" not in body and "response_format" not in body


async def test_a_model_without_response_schemas_gets_the_tool_mode(
    server: LoopbackServer,
) -> None:
    whole, partials = await ask_and_stream(client(server, "gpt-4-turbo"), City)
    assert whole == CITY
    assert_grew_to(partials, CITY)
    for body in bodies(server):
        assert body["model"] == "gpt-4-turbo"
        assert "response_format" not in body
        assert body["tool_choice"] == {"type": "function", "function": {"name": "final_result"}}


async def test_a_list_type_is_asked_for_wrapped_and_read_unwrapped(
    server: LoopbackServer,
) -> None:
    async with client(server) as aether:
        names = await aether.ask("Three cities?", output_type=list[str])
    assert names == ["<response>"]
    schema = server.requests[0]["body"]["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["response"]["type"] == "array"


async def test_a_refusal_raises_the_refusal_error_whole_and_streamed(
    server: LoopbackServer,
) -> None:
    async with client(server) as aether:
        with pytest.raises(ResponseBlockedError) as whole:
            await aether.ask("refuse", output_type=City)
        with pytest.raises(ResponseBlockedError) as streamed:
            _ = [value async for value in aether.stream_output("refuse", output_type=City)]
    for info in (whole, streamed):
        assert (info.value.reason, info.value.refusal) == ("refusal", REFUSAL)
    assert len(server.requests) == 2, "a refusal is not repaired"


async def test_a_wrong_answer_is_repaired_over_the_wire(server: LoopbackServer) -> None:
    async with client(server) as aether:
        assert await aether.ask("fix me", output_type=City) == CITY
        with pytest.raises(OutputValidationError) as info:
            await aether.ask("fix me always", output_type=Output(City, retries=2))
    first, repaired = (request["body"]["messages"] for request in server.requests[:2])
    assert repaired[: len(first)] == first
    assert repaired[-2] == {"role": "assistant", "content": '{"population": "many"}'}
    assert repaired[-1]["role"] == "user"
    assert "does not fit the schema of City" in repaired[-1]["content"]
    assert info.value.attempts == 3
    assert len(server.requests) == 2 + 3
