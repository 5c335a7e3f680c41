"""A server on 127.0.0.1 that answers each request as the test scripts it, echoing the key.

The key is read back from the request's own credential header, as a careless or hostile
server would echo it, so what the provider sent is what comes back.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from tests.support.loopback import (
    LoopbackServer,
    Request,
    end_chunks,
    send_chunk,
    send_json,
    start_chunked,
)


@dataclass
class Answer:
    """What to send: a whole body, or chunks (then ``end``: ``"end"``, ``"close"``, ``"hang"``)."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    chunks: list[bytes] | None = None
    end: str = "end"


HANG = "hang"  # accept the request, never answer
CLOSE = "close"  # read the request, close the connection without answering

Script = Callable[[Request, str], "Answer | str"]
"""Given the request and the key it carried, what to answer."""


def key_of(request: Request) -> str:
    """The credential the request carried (``Bearer`` stripped)."""
    headers = request["headers"]
    value = headers.get("authorization") or headers.get("x-goog-api-key") or ""
    value = value or headers.get("x-api-key") or ""
    return value.removeprefix("Bearer ")


@asynccontextmanager
async def scripted(script: Script) -> AsyncIterator[LoopbackServer]:
    async def respond(
        request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        answer = script(request, key_of(request))
        if answer == HANG:
            await asyncio.sleep(60)
            return False
        if answer == CLOSE or isinstance(answer, str):
            return False
        if answer.chunks is None:
            headers = {"content-type": "application/json", **answer.headers}
            await send_json(writer, answer.status, answer.body, headers)
            return True
        await start_chunked(writer, answer.status, answer.headers)
        for chunk in answer.chunks:
            await send_chunk(writer, chunk)
        if answer.end == "hang":
            await asyncio.sleep(60)
        if answer.end != "end":
            return False
        await end_chunks(writer)
        return True

    server = await LoopbackServer(respond).start()
    try:
        yield server
    finally:
        await server.stop()
