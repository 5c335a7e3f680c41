"""One provider on one :class:`CannedTransport`, torn down and checked after each test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from typing import Any

import httpx

from aether.llm.contracts import LLMProvider, LLMStreamChunk
from aether.testing._transport import CannedTransport

__all__ = ["Harness", "collect", "first_chunk_then_close"]


class Harness:
    """``async with Harness(build) as h``: ``h.provider`` sends through ``h.transport``.

    On a clean exit it checks that every response was closed, so each test of the suite also
    proves the connection went back to the pool on its path.
    """

    provider: LLMProvider

    def __init__(self, build: Callable[[httpx.AsyncClient], Awaitable[LLMProvider]]) -> None:
        self._build = build
        self.transport = CannedTransport()
        self.client = httpx.AsyncClient(transport=self.transport)

    async def __aenter__(self) -> Harness:
        try:
            self.provider = await self._build(self.client)
        except BaseException:
            await self.client.aclose()
            raise
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        try:
            close = getattr(self.provider, "aclose", None)
            if close is not None:
                await close()
        finally:
            await self.client.aclose()
        if exc_type is None:
            assert self.transport.open_responses == 0, (
                f"{self.transport.open_responses} response(s) were never closed: the provider "
                f"keeps connections out of the pool"
            )


async def collect(stream: AsyncIterator[LLMStreamChunk]) -> list[LLMStreamChunk]:
    """Every chunk of ``stream``."""
    return [chunk async for chunk in stream]


async def first_chunk_then_close(stream: AsyncIterator[Any]) -> None:
    """Take one chunk and stop, the way a consumer that ``break``s out of a loop does."""
    aclose = getattr(stream, "aclose", None)
    assert aclose is not None, "stream() must return an async generator (it has no aclose())"
    async with aclosing(stream):  # type: ignore[type-var]
        await stream.__anext__()
