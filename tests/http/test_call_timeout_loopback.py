"""A call's ``timeout`` setting against a real server that never answers, for each provider.

The server accepts the connection, reads the request and then says nothing, as an API does
while a model thinks past every deadline. The call must end with ``ProviderTimeoutError`` no
sooner than its timeout and long before the server would have answered. How close to the
value it fires is measured, not asserted: ``bench/bench_requests.py`` prints it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from aether import Aether
from aether.errors import ProviderTimeoutError
from aether.llm.contracts import LLMProvider
from aether_anthropic import AnthropicProvider
from aether_gemini import GeminiProvider
from aether_openai import OpenAIProvider
from tests.support.loopback import LoopbackServer, Request

TIMEOUT = 0.4
KEY = "sk-timeout-test"


async def _silent(
    request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> bool:
    await asyncio.sleep(30)  # far past any timeout below; cancelled when the server stops
    return False


@pytest.fixture
async def server() -> AsyncIterator[LoopbackServer]:
    started = await LoopbackServer(_silent).start()
    yield started
    await started.stop()


def _provider(name: str, root: str) -> LLMProvider:
    if name == "openai":
        return OpenAIProvider(api_key=KEY, base_url=f"{root}/v1", default_model="gpt-4o-mini")
    if name == "gemini":
        return GeminiProvider(api_key=KEY, base_url=root, default_model="gemini-2.5-flash")
    return AnthropicProvider(api_key=KEY, base_url=root, default_model="claude-sonnet-4-5")


@pytest.mark.parametrize("name", ["openai", "gemini", "anthropic"])
@pytest.mark.parametrize("streamed", [False, True])
async def test_the_call_ends_at_its_timeout(
    server: LoopbackServer, name: str, streamed: bool
) -> None:
    client = Aether(_provider(name, server.root))

    async def call() -> None:
        if streamed:
            async for _ in client.stream_text("hi", settings={"timeout": TIMEOUT}):
                pass
        else:
            await client.ask("hi", settings={"timeout": TIMEOUT})

    started = time.monotonic()
    with pytest.raises(ProviderTimeoutError, match="timeout"):
        await call()
    elapsed = time.monotonic() - started
    assert elapsed >= TIMEOUT  # never before its value
    assert elapsed < 10  # and not when the server would have answered (30 s)
    assert server.requests, "the request reached the server"
    await client.aclose()
