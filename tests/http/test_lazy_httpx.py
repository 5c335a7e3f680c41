"""On the aiohttp transport nothing imports httpx (memory and start-up spent for nothing): in
a fresh interpreter, ``Aether()`` over a provider asks, streams and maps errors against a
server on 127.0.0.1, and httpx is still not loaded at the end."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable

import httpx
import pytest

import aether.http
from tests.anthropic import _server as anthropic_server
from tests.openai._server import CannedServer
from tests.support.loopback import (
    LoopbackServer,
    Request,
    end_chunks,
    send_chunk,
    send_json,
    start_chunked,
)

_CHILD = """
import asyncio, json, socket, sys

from aether import Aether
from aether.errors import NotFoundError, ProviderConnectionError
from aether.http import HTTPProviderClient


async def expect(error, http):
    try:
        await http.post_json("missing", {})
    except error:
        return
    raise AssertionError(f"no {error.__name__}")


async def main(root):
    async with Aether() as client:
        assert await client.ask("hi") == "Hello there"
        assert "".join([text async for text in client.stream_text("hi")]) == "Hello there"
    async with HTTPProviderClient(provider="acme", base_url=root) as http:
        await expect(NotFoundError, http)  # a status error, mapped
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    async with HTTPProviderClient(provider="acme", base_url=f"http://127.0.0.1:{closed}") as http:
        await expect(ProviderConnectionError, http)  # a transport failure, mapped


asyncio.run(main(sys.argv[1]))
print(json.dumps({name: name in sys.modules for name in ("httpx", "httpcore", "aiohttp")}))
"""


_GEMINI_ANSWER = {
    "candidates": [
        {"content": {"role": "model", "parts": [{"text": "Hello there"}]}, "finishReason": "STOP"}
    ],
    "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 2},
}


async def _answer_as_gemini(
    request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> bool:
    """Gemini's two methods, each answering the text ``Hello there``; 404 elsewhere."""
    if ":streamGenerateContent" in request["path"]:
        await start_chunked(writer)
        await send_chunk(writer, f"data: {json.dumps(_GEMINI_ANSWER)}\r\n\r\n")
        await end_chunks(writer)
    elif ":generateContent" in request["path"]:
        await send_json(writer, 200, _GEMINI_ANSWER)
    else:
        await send_json(writer, 404, {"error": {"code": 404, "message": "no such route"}})
    return True


def _openai(root: str) -> dict[str, str]:
    return {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": f"{root}/v1"}


def _gemini(root: str) -> dict[str, str]:
    return {"GEMINI_API_KEY": "gemini-test", "GEMINI_BASE_URL": f"{root}/v1beta"}


def _anthropic(root: str) -> dict[str, str]:
    return {
        "ANTHROPIC_API_KEY": anthropic_server.KEY,
        "ANTHROPIC_BASE_URL": root,
        "ANTHROPIC_MODEL": anthropic_server.MODEL,
    }


@pytest.mark.parametrize(
    ("provider", "make_server", "settings"),
    [
        ("openai", CannedServer, _openai),
        ("gemini", lambda: LoopbackServer(_answer_as_gemini), _gemini),
        ("anthropic", anthropic_server.MessagesServer, _anthropic),
    ],
)
async def test_aiohttp_transport_never_imports_httpx(
    provider: str,
    make_server: Callable[[], LoopbackServer],
    settings: Callable[[str], dict[str, str]],
) -> None:
    server = await make_server().start()
    env = {
        **os.environ,
        "AETHER_HTTP_TRANSPORT": "aiohttp",
        "LLM_PROVIDER": provider,
        **settings(server.root),
    }
    try:
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _CHILD,
            server.root,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(child.communicate(), timeout=60)
    finally:
        await server.stop()
    assert child.returncode == 0, err.decode()
    loaded = json.loads(out.decode().strip().splitlines()[-1])
    assert loaded == {"httpx": False, "httpcore": False, "aiohttp": True}, err.decode()
    assert len(server.requests) >= 3  # the answer, the stream and the 404 came from it


def test_httpx_defaults_are_still_there_built_once() -> None:
    timeout, limits = aether.http.DEFAULT_TIMEOUT, aether.http.DEFAULT_LIMITS
    assert timeout == httpx.Timeout(600.0, connect=5.0)
    # The openai SDK's pool: above 20 concurrent calls httpx's 100/20 reopened connections.
    assert limits == httpx.Limits(max_connections=1000, max_keepalive_connections=100)
    assert aether.http.DEFAULT_TIMEOUT is timeout and aether.http.DEFAULT_LIMITS is limits
    assert {"DEFAULT_LIMITS", "DEFAULT_TIMEOUT"} <= set(dir(aether.http))
    with pytest.raises(AttributeError, match=r"'aether\.http' has no attribute 'DEFAULT_NONE'"):
        _ = aether.http.DEFAULT_NONE  # type: ignore[attr-defined]
