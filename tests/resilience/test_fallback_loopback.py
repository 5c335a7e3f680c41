"""Fallback end to end: the real OpenAI provider against two HTTP servers on 127.0.0.1.

A 503 (once its retry is spent) falls over to the second server; a 400 does not; a stream that
broke after it showed output does not, one that broke before does.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from aether import Aether
from aether.errors import BadRequestError, FallbackError, ServerError, StreamInterruptedError
from aether.events import REQUEST_RETRY, RequestRetry
from aether.extensions.llm.builder import ProviderConfig
from aether.extensions.llm.retrying import RetryConfig
from tests.openai._server import CannedServer
from tests.support.loopback import LoopbackServer, Request, send_chunk, send_json, start_chunked

KEY_A = "sk-first-0123456789abcdef"
KEY_B = "sk-second-0123456789abcdef"
QUICK = RetryConfig(max_retries=1, initial_delay=0.01, max_delay=0.01, jitter=0.0)


@pytest.fixture(autouse=True)
def _no_openai_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL"):
        monkeypatch.delenv(name, raising=False)


def failing(status: int) -> LoopbackServer:
    """A server answering every request with an OpenAI-style error of ``status``."""

    async def respond(
        request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        # It quotes the caller's Authorization header back, as a careless proxy might.
        said = f"cannot serve this ({request['headers'].get('authorization')})"
        kind = "server_error" if status >= 500 else "invalid_request_error"
        await send_json(writer, status, {"error": {"message": said, "type": kind}})
        return True

    return LoopbackServer(respond)


def silent_break() -> LoopbackServer:
    """A server whose stream sends a chunk without content (the role), then hangs up."""

    async def respond(
        request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        await start_chunked(writer)
        role = {
            "id": "chatcmpl-x",
            "object": "chat.completion.chunk",
            "model": "first-model",
            "choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}],
        }
        await send_chunk(writer, f"data: {json.dumps(role)}\n\n")
        writer.transport.abort()
        return False

    return LoopbackServer(respond)


@pytest.fixture
async def second() -> AsyncIterator[CannedServer]:
    server = await CannedServer().start()
    yield server
    await server.stop()


def v1(server: LoopbackServer) -> str:
    return f"{server.root}/v1"


def chain(first: LoopbackServer, second: LoopbackServer, *, model: str = "text") -> ProviderConfig:
    return ProviderConfig(
        provider="openai",
        base_url=v1(first),
        api_key=SecretStr(KEY_A),
        model=model,
        retry=QUICK,
        fallbacks=[
            ProviderConfig(
                provider="openai", base_url=v1(second), api_key=SecretStr(KEY_B), model="text"
            )
        ],
    )


async def answer(client: Aether, streaming: bool) -> str:
    if streaming:
        return "".join([text async for text in client.stream_text("hi")])
    return await client.ask("hi")


@pytest.mark.parametrize("streaming", [False, True], ids=["complete", "stream"])
async def test_a_503_falls_over_to_the_second_server(second: CannedServer, streaming: bool) -> None:
    first = await failing(503).start()
    seen: list[RequestRetry] = []
    try:
        async with Aether(config=chain(first, second, model="first-model")) as client:
            client.on(REQUEST_RETRY, seen.append)
            assert await answer(client, streaming) == "Hello there"
            usage = client.usage
    finally:
        await first.stop()
    assert len(first.requests) == 2  # its own retry first
    [asked] = second.requests
    assert asked["body"]["model"] == "text"  # the second server's own model
    assert asked["headers"]["authorization"] == f"Bearer {KEY_B}"  # and its own key
    retry, fall_over = seen
    assert (retry.fallback_provider, retry.provider, retry.attempt) == (None, "openai", 1)
    assert isinstance(fall_over.error, ServerError) and fall_over.error.status_code == 503
    assert (fall_over.model, fall_over.fallback_model) == ("first-model", "text")
    assert (fall_over.fallback_provider, fall_over.attempt) == ("openai", 2)
    assert usage.by_model["e2e-model"].requests == 1  # the model the second server named
    assert usage.total_requests == 1


@pytest.mark.parametrize("streaming", [False, True], ids=["complete", "stream"])
async def test_a_400_does_not_fall_over(second: CannedServer, streaming: bool) -> None:
    first = await failing(400).start()
    try:
        async with Aether(config=chain(first, second)) as client:
            with pytest.raises(BadRequestError) as info:
                await answer(client, streaming)
    finally:
        await first.stop()
    assert info.value.status_code == 400
    assert len(first.requests) == 1  # not retried either
    assert second.requests == []


async def read_into(received: list[str], client: Aether) -> None:
    async for text in client.stream_text("hi"):
        received.append(text)  # what arrived before the break


async def test_a_stream_broken_after_output_does_not_fall_over(second: CannedServer) -> None:
    first = await CannedServer().start()  # its "disconnect" model: "Hello", then it hangs up
    received: list[str] = []
    try:
        async with Aether(config=chain(first, second, model="disconnect")) as client:
            with pytest.raises(StreamInterruptedError):
                await read_into(received, client)
    finally:
        await first.stop()
    assert received == ["Hello"]
    assert len(first.requests) == 1
    assert second.requests == []


async def test_a_stream_broken_before_any_output_falls_over(second: CannedServer) -> None:
    first = await silent_break().start()
    try:
        async with Aether(config=chain(first, second)) as client:
            assert "".join([t async for t in client.stream_text("hi")]) == "Hello there"
    finally:
        await first.stop()
    assert len(first.requests) == 2  # the retry layer tried it again first
    assert len(second.requests) == 1


async def test_when_both_fail_the_error_names_both_and_neither_key() -> None:
    first, last = await failing(503).start(), await failing(502).start()
    config = chain(first, last)
    try:
        async with Aether(config=config) as client:
            with pytest.raises(FallbackError) as info:
                await client.ask("hi")
    finally:
        await first.stop()
        await last.stop()
    text = str(info.value)
    assert "1. openai (model text): ServerError: [openai HTTP 503]" in text
    assert "2. openai (model text): ServerError: [openai HTTP 502]" in text
    assert "Tried 2 times" in text  # each provider's retries, as its own error said
    for key in (KEY_A, KEY_B):
        assert key not in text and key not in repr(info.value)
    assert isinstance(info.value.__cause__, ServerError)
    assert info.value.__cause__.status_code == 502
    assert len(first.requests) == len(last.requests) == 2
