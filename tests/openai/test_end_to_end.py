"""The provider against a real HTTP server on 127.0.0.1: complete, stream, tools, a dropped
connection, and the connection pool after early exits and cancellation."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import aclosing

import httpx
import pytest

from aether.errors import NotFoundError, StreamInterruptedError
from aether.llm.contracts import LLMRequest, Message, ToolCall, ToolSpec
from aether_openai import OpenAIProvider
from tests.openai._server import CannedServer


@pytest.fixture
async def server() -> AsyncIterator[CannedServer]:
    canned = await CannedServer().start()
    yield canned
    await canned.stop()


def ask(model: str, tools: list[ToolSpec] | None = None) -> LLMRequest:
    return LLMRequest(messages=[Message(role="user", content="hi")], model=model, tools=tools or [])


def one_connection_provider(server: CannedServer) -> OpenAIProvider:
    # One pooled connection and a short pool timeout: a leaked connection makes the next
    # request fail fast instead of hanging.
    client = httpx.AsyncClient(
        limits=httpx.Limits(max_connections=1), timeout=httpx.Timeout(5.0, pool=0.5)
    )
    return OpenAIProvider(base_url=server.base_url, http_client=client)


async def test_complete(server: CannedServer) -> None:
    async with OpenAIProvider(base_url=server.base_url) as provider:
        response = await provider.complete(ask("text"))
    assert response.text == "Hello there"
    assert response.finish_reason == "stop"
    assert (response.input_tokens, response.output_tokens) == (11, 3)
    assert (response.cached_input_tokens, response.reasoning_tokens) == (2, 1)
    assert server.requests[0]["path"] == "/v1/chat/completions"
    assert "authorization" not in server.requests[0]["headers"]


async def test_complete_tool_call(server: CannedServer) -> None:
    async with OpenAIProvider(base_url=server.base_url) as provider:
        response = await provider.complete(ask("tools", tools=[ToolSpec(name="add")]))
    assert response.tool_calls == [ToolCall(id="call_1", name="add", arguments={"a": 1, "b": 2})]
    assert response.finish_reason == "tool_calls"
    assert server.requests[0]["body"]["tools"][0]["function"]["name"] == "add"


async def test_stream_text_reuses_one_connection(server: CannedServer) -> None:
    async with OpenAIProvider(base_url=server.base_url) as provider:
        for _ in range(3):
            chunks = [c async for c in provider.stream(ask("text"))]
            assert "".join(c.text for c in chunks) == "Hello there"
            assert chunks[-1].finish_reason == "stop"
            assert chunks[-1].input_tokens == 11
    assert server.connections == 1  # streams read to the end return their connection


async def test_stream_parallel_tool_calls(server: CannedServer) -> None:
    async with OpenAIProvider(base_url=server.base_url) as provider:
        chunks = [c async for c in provider.stream(ask("tools", tools=[ToolSpec(name="add")]))]
    assert chunks[-1].tool_calls == [
        ToolCall(id="call_1", name="add", arguments={"a": 1, "b": 2}),
        ToolCall(id="call_2", name="mul", arguments={"a": 2}),
    ]


async def test_mid_stream_disconnect(server: CannedServer) -> None:
    provider = one_connection_provider(server)
    got: list[str] = []

    async def consume() -> None:
        async for chunk in provider.stream(ask("disconnect")):
            got.append(chunk.text)

    with pytest.raises(StreamInterruptedError) as info:
        await consume()
    assert got == ["Hello"]
    assert info.value.chunks_received == 1
    # The broken connection was released: the next call gets a fresh one.
    assert (await provider.complete(ask("text"))).text == "Hello there"
    await provider._http._get_client().aclose()


async def test_http_error_from_real_server(server: CannedServer) -> None:
    provider = OpenAIProvider(base_url=server.base_url + "/nope")
    with pytest.raises(NotFoundError, match="no such route"):
        await provider.complete(ask("text"))
    await provider.aclose()


async def test_early_break_with_aclosing_releases_the_connection(server: CannedServer) -> None:
    provider = one_connection_provider(server)
    async with aclosing(provider.stream(ask("hang"))) as stream:
        async for _chunk in stream:
            break
    assert (await provider.complete(ask("text"))).text == "Hello there"
    await provider._http._get_client().aclose()


async def test_early_break_without_aclosing_releases_the_connection(
    server: CannedServer,
) -> None:
    provider = one_connection_provider(server)
    async for _chunk in provider.stream(ask("hang")):
        break
    # The abandoned generator is finalised by the event loop; the pool must get the
    # connection back before the 0.5 s pool timeout.
    assert (await provider.complete(ask("text"))).text == "Hello there"
    await provider._http._get_client().aclose()


async def test_cancellation_releases_the_connection(server: CannedServer) -> None:
    provider = one_connection_provider(server)
    started = asyncio.Event()

    async def consume() -> None:
        async for _chunk in provider.stream(ask("hang")):
            started.set()

    task = asyncio.create_task(consume())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert (await provider.complete(ask("text"))).text == "Hello there"
    await provider._http._get_client().aclose()


async def test_cli_ask_against_the_local_server(server: CannedServer) -> None:
    env = {**os.environ, "LLM_PROVIDER": "openai", "OPENAI_BASE_URL": server.base_url}
    env.pop("OPENAI_API_KEY", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "aether.cli",
        "ask",
        "hi",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, err.decode()
    assert "Hello there" in out.decode()
    assert server.requests[-1]["body"]["stream"] is True
