"""Helpers of the fleet-layer tests: a clock, providers that wait or count, and Redis counts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import redis.asyncio

from aether.llm.contracts import LLMRequest, LLMResponse, LLMStreamChunk, Message

REQUEST = LLMRequest(messages=[Message(role="user", content="hi")])


class Clock:
    """Seconds that move only when a test says so (or a recorded sleep asks)."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        """Record the wait without moving time (so reserved waits can be read in order)."""
        self.sleeps.append(seconds)


class Gate:
    """A provider whose calls all wait for ``open()``, then answer ``ok`` (or raise)."""

    name = "fake"  # the same breaker key as FakeProvider's, so tests can mix them
    default_model = "fake-model"

    def __init__(self) -> None:
        self.calls = 0
        self.entered = asyncio.Event()
        self._open = asyncio.Event()
        self._error: BaseException | None = None

    def open(self, error: BaseException | None = None) -> None:
        self._error = error
        self._open.set()

    async def complete(self, request: LLMRequest) -> LLMResponse:
        self.calls += 1
        self.entered.set()
        await self._open.wait()
        if self._error is not None:
            raise self._error
        return LLMResponse(text="ok", model="fake-model")

    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        yield LLMStreamChunk(text=(await self.complete(request)).text, finish_reason="stop")


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait (bounded) until ``condition()`` holds, letting other tasks run meanwhile."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        await asyncio.sleep(0.005)


class CountingRedis(redis.asyncio.Redis):
    """A client that counts the commands it sends: each is one round trip (no pipelining)."""

    sent = 0

    @classmethod
    def to(cls, url: str) -> CountingRedis:
        client = cls.from_url(url)
        assert isinstance(client, cls)
        return client

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        self.sent += 1
        return await super().execute_command(*args, **options)  # type: ignore[no-untyped-call]
