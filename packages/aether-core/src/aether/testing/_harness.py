"""One provider on one :class:`CannedTransport`, torn down and checked after each test."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx

from aether.llm.contracts import LLMProvider
from aether.testing._transport import CannedTransport

__all__ = ["Harness"]


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
