"""Call scopes: opened around each logical call, entered around its work, ended once with why."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

import pytest

from aether import Aether
from aether.errors import ServerError
from aether.events import TOOL_ERROR, CallInfo, EventBus, ToolError
from aether.extensions.llm.fake import FakeProvider
from aether.llm.contracts import LLMRequest, LLMStreamChunk, ToolCall

current: contextvars.ContextVar[str] = contextvars.ContextVar("current", default="outside")


class Scope:
    """Sets ``current`` while entered, and writes down what happens to it."""

    def __init__(self, log: list[Any], name: str) -> None:
        self.log = log
        self.name = name

    def enter(self) -> object:
        self.log.append("enter")
        return current.set(self.name)

    def exit(self, token: object, /) -> None:
        self.log.append("exit")
        current.reset(token)  # type: ignore[arg-type]

    def end(self, error: BaseException | None, /) -> None:
        self.log.append(("end", type(error).__name__ if error is not None else None))


class Recorder:
    """A scope factory keeping the infos it was given and the log of its scopes."""

    def __init__(self) -> None:
        self.infos: list[CallInfo] = []
        self.log: list[Any] = []

    def __call__(self, info: CallInfo) -> Scope:
        self.infos.append(info)
        return Scope(self.log, f"call {len(self.infos)}")


class SeesContext(FakeProvider):
    """Writes down the scope current when it is called and at each chunk it makes."""

    seen: list[str]

    async def complete(self, request: LLMRequest) -> Any:
        self.seen.append(current.get())
        return await super().complete(request)

    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        async for chunk in super().stream(request):
            self.seen.append(current.get())
            yield chunk


def provider(*answers: Any) -> SeesContext:
    made = SeesContext(responses=list(answers)) if answers else SeesContext("a b c")
    made.seen = []
    return made


async def test_a_call_runs_inside_its_scope() -> None:
    scopes = Recorder()
    fake = provider()
    client = Aether(fake)
    client.events.add_scope(scopes)
    assert current.get() == "outside"
    await client.ask("hi")
    assert fake.seen == ["call 1"]
    assert current.get() == "outside"
    assert scopes.log == ["enter", "exit", ("end", None)]
    [info] = scopes.infos
    assert (info.kind, info.provider, info.request.messages[0].content) == (
        "complete",
        "fake",
        "hi",
    )


async def test_a_stream_is_inside_its_scope_at_each_step_and_the_consumer_never_is() -> None:
    scopes = Recorder()
    fake = provider()
    client = Aether(fake)
    client.events.add_scope(scopes)
    consumer = []
    async for _ in client.stream_text("hi"):
        consumer.append(current.get())
    assert set(fake.seen) == {"call 1"} and len(fake.seen) >= 3
    assert set(consumer) == {"outside"}
    steps = scopes.log[:-1]
    assert steps == ["enter", "exit"] * (len(steps) // 2)
    assert scopes.log[-1] == ("end", None)
    assert scopes.infos[0].kind == "stream"


def shout(text: str) -> str:
    """A sync tool: it runs on a worker thread."""
    return f"{text.upper()} from {current.get()}"


async def test_tool_threads_and_tool_rounds_see_the_scope() -> None:
    scopes = Recorder()
    fake = provider(ToolCall(id="1", name="shout", arguments={"text": "hi"}), "done")
    client = Aether(fake)
    client.events.add_scope(scopes)
    response = await client.complete("go", tools=[shout])
    assert response.text == "done"
    assert fake.seen == ["call 1", "call 1"]
    assert fake.calls[1].messages[-1].content == "HI from call 1"
    assert scopes.log == ["enter", "exit", ("end", None)]


async def test_a_failed_call_ends_with_its_error() -> None:
    scopes = Recorder()
    client = Aether(FakeProvider(responses=[ServerError("down", status_code=500)] * 3))
    client.events.add_scope(scopes)
    with pytest.raises(ServerError):
        await client.ask("hi")
    assert scopes.log[-1] == ("end", "ServerError")


async def test_a_cancelled_call_ends_cancelled() -> None:
    scopes = Recorder()

    class Slow(FakeProvider):
        async def complete(self, request: LLMRequest) -> Any:
            await asyncio.sleep(30)

    client = Aether(Slow())
    client.events.add_scope(scopes)
    task = asyncio.create_task(client.ask("hi"))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert scopes.log == ["enter", "exit", ("end", "CancelledError")]


async def test_a_stream_closed_early_ends_abandoned() -> None:
    scopes = Recorder()
    client = Aether(provider())
    client.events.add_scope(scopes)
    stream = client.stream("hi")
    async with aclosing(stream):  # type: ignore[type-var]
        async for _ in stream:
            break
    assert scopes.log[-1] == ("end", "GeneratorExit")
    assert current.get() == "outside"


async def test_sessions_and_typed_streams_open_scopes_too() -> None:
    scopes = Recorder()
    client = Aether(FakeProvider(responses=["one", "two", {"n": 1}]))
    client.events.add_scope(scopes)
    session = client.session("s")
    await session.ask("hi")
    async for _ in session.stream_text("again"):
        pass
    async for _ in client.stream_output("n?", output_type=dict[str, int]):
        pass
    assert [info.kind for info in scopes.infos] == ["complete", "stream", "stream"]


async def test_a_scope_that_raises_never_breaks_the_call(caplog: pytest.LogCaptureFixture) -> None:
    class Broken:
        def enter(self) -> object:
            raise RuntimeError("enter")

        def exit(self, token: object, /) -> None:
            raise RuntimeError("exit")

        def end(self, error: BaseException | None, /) -> None:
            raise RuntimeError("end")

    def factory_that_raises(info: CallInfo) -> None:
        raise RuntimeError("factory")

    client = Aether(FakeProvider("fine"))
    client.events.add_scope(factory_that_raises)
    client.events.add_scope(lambda info: Broken())
    client.events.add_scope(lambda info: None)  # stays out of the call
    assert await client.ask("hi") == "fine"
    assert [c async for c in client.stream_text("hi")] == ["fine"]
    logged = [r.getMessage() for r in caplog.records if r.name == "aether.events"]
    assert any("factory" in m or "Scope factory" in m for m in logged)
    assert any("raised entering" in m for m in logged)
    assert any("raised ending" in m for m in logged)


def test_adding_and_removing_scopes() -> None:
    bus = EventBus()
    scopes = Recorder()
    assert bus.add_scope(scopes) is scopes
    assert bus.scopes == (scopes,) and "scopes=1" in repr(bus)
    bus.remove_scope(scopes)
    assert bus.scopes == ()
    with pytest.raises(ValueError, match="not a scope factory"):
        bus.remove_scope(scopes)
    with pytest.raises(TypeError, match="must be callable"):
        bus.add_scope("nope")  # type: ignore[arg-type]


async def test_a_cancelled_tool_still_fires_tool_error() -> None:
    started = asyncio.Event()

    async def wait_forever() -> str:
        """Never returns."""
        started.set()
        await asyncio.sleep(30)
        return "never"

    client = Aether(FakeProvider(responses=[ToolCall(id="1", name="wait_forever"), "done"]))
    ended: list[ToolError] = []
    client.on(TOOL_ERROR, ended.append)
    task = asyncio.create_task(client.ask("go", tools=[wait_forever]))
    await asyncio.wait_for(started.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    [event] = ended
    assert isinstance(event.error, asyncio.CancelledError)
    assert event.call.name == "wait_forever"


def test_nothing_is_logged_when_no_scope_raises(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="aether.events")
    asyncio.run(Aether(FakeProvider("x")).ask("hi"))
    assert [r for r in caplog.records if r.name == "aether.events"] == []
