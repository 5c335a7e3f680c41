"""``CannedTransport``: an httpx transport that serves scripted answers and watches the client.

The provider suite needs more than ``httpx.MockTransport`` gives: answers whose body arrives in
pieces and then breaks or hangs, a record of every request (to see internal retries), and a
count of responses not yet closed (to see a connection that never goes back to the pool).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import httpx

__all__ = ["CannedReply", "CannedTransport"]


@dataclass(frozen=True)
class CannedReply:
    """One scripted answer.

    Attributes:
        status: The HTTP status.
        headers: Response headers (``content-type`` included).
        pieces: The body, sent one piece per read.
        then_raise: A transport error raised after the pieces (a connection that breaks).
        then_hang: Block after the pieces until cancelled (a server gone silent).
        raise_instead: A transport error raised instead of answering (nothing reached us).
    """

    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    pieces: Sequence[bytes] = ()
    then_raise: Exception | None = None
    then_hang: bool = False
    raise_instead: Exception | None = None


class _CountedBody(httpx.AsyncByteStream):
    def __init__(self, transport: CannedTransport, reply: CannedReply) -> None:
        self._transport = transport
        self._reply = reply
        self._closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self._reply.pieces:
            yield piece
        if self._reply.then_raise is not None:
            raise self._reply.then_raise
        if self._reply.then_hang:
            self._transport.hanging.set()
            await asyncio.Event().wait()

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            self._transport.open_responses -= 1


class CannedTransport(httpx.AsyncBaseTransport):
    """Serves queued :class:`CannedReply` objects in order, one per request.

    Attributes:
        requests: Every request received, body read.
        open_responses: Responses handed out and not closed yet; 0 when the client gave every
            connection back.
        hanging: Set once a ``then_hang`` reply has sent its pieces.
    """

    def __init__(self, replies: Iterable[CannedReply] = ()) -> None:
        self._replies: deque[CannedReply] = deque(replies)
        self.requests: list[httpx.Request] = []
        self.open_responses = 0
        self.hanging = asyncio.Event()

    def queue(self, *replies: CannedReply) -> None:
        """Add replies to serve after the ones already queued."""
        self._replies.extend(replies)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        self.requests.append(request)
        if not self._replies:
            reply = CannedReply(
                status=500,
                headers={"content-type": "text/plain"},
                pieces=[b"aether kit: no canned reply left for this request"],
            )
        else:
            reply = self._replies.popleft()
        if reply.raise_instead is not None:
            raise reply.raise_instead
        self.open_responses += 1
        return httpx.Response(
            reply.status, headers=dict(reply.headers), stream=_CountedBody(self, reply)
        )
