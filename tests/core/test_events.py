from __future__ import annotations

import asyncio
import logging

import pytest

from aether.events import (
    ALL_EVENTS,
    REQUEST_RETRY,
    REQUEST_START,
    TOOL_ERROR,
    EventBus,
    RequestStart,
    ToolError,
)
from aether.llm.contracts import LLMRequest, Message, ToolCall

REQUEST = LLMRequest(messages=[Message(role="user", content="hi")])


def test_the_ten_lifecycle_events_and_request_retry() -> None:
    assert len(ALL_EVENTS) == 11 == len(set(ALL_EVENTS))
    assert REQUEST_RETRY in ALL_EVENTS


async def test_sync_and_async_subscribers_in_order() -> None:
    bus = EventBus()
    seen: list[str] = []

    @bus.on(REQUEST_START)
    def first(event: RequestStart) -> None:
        seen.append(f"sync:{event.request.messages[0].content}")

    async def second(event: RequestStart) -> None:
        await asyncio.sleep(0)
        seen.append("async")

    bus.on(REQUEST_START, second)
    await bus.emit(RequestStart(REQUEST))
    assert seen == ["sync:hi", "async"]

    bus.off(REQUEST_START, first)
    await bus.emit(RequestStart(REQUEST))
    assert seen == ["sync:hi", "async", "async"]


async def test_subscriber_exception_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    bus = EventBus()
    after: list[int] = []

    def broken(event: object) -> None:
        raise RuntimeError("subscriber bug")

    bus.on(TOOL_ERROR, broken)
    bus.on(TOOL_ERROR, lambda event: after.append(1))
    call = ToolCall(id="c1", name="add", arguments={})
    with caplog.at_level(logging.ERROR, logger="aether.events"):
        await bus.emit(ToolError(call, ValueError("x"), 0.1))
    assert after == [1]
    assert "subscriber bug" in caplog.text


async def test_cancellation_propagates() -> None:
    bus = EventBus()

    def cancel(event: object) -> None:
        raise asyncio.CancelledError

    bus.on(REQUEST_START, cancel)
    with pytest.raises(asyncio.CancelledError):
        await bus.emit(RequestStart(REQUEST))


def test_bad_names_and_off() -> None:
    bus = EventBus()
    with pytest.raises(ValueError, match="Unknown event"):
        bus.on("request.started", print)
    with pytest.raises(ValueError, match="not subscribed"):
        bus.off(REQUEST_START, print)
    assert not bus.wants(REQUEST_START)
    bus.on(REQUEST_START, print)
    assert bus.wants(REQUEST_START)
