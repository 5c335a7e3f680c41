"""Session: the three guarantees, streaming, sharing, limits, with the real facade."""

from __future__ import annotations

import asyncio
import gc
import weakref
from typing import Any

import pytest

from aether import Aether
from aether.errors import (
    ConfigurationError,
    MaxToolIterationsError,
    ResponseBlockedError,
    ServerError,
    SessionStoreError,
)
from aether.extensions.llm.fake import FakeProvider
from aether.extensions.memory import InMemorySessionStore
from aether.llm.contracts import LLMRequest, LLMResponse, Message, ToolCall
from aether.memory import Session
from aether.tools import DeferredToolCallsError, Tool, make_tool
from tests.memory._four_method_store import FourMethodStore


def user(text: str) -> Message:
    return Message(role="user", content=text)


def assistant(text: str) -> Message:
    return Message(role="assistant", content=text)


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


async def test_ask_stores_the_turn_and_sends_system_first() -> None:
    fake = FakeProvider()
    client = Aether(fake)
    session = client.session("alice", system="You are helpful.")
    assert await session.ask("My name is Alice.") == "You said: My name is Alice."
    assert await session.ask("What's my name?") == "You said: What's my name?"
    assert fake.calls[1].messages == [
        Message(role="system", content="You are helpful."),
        user("My name is Alice."),
        assistant("You said: My name is Alice."),
        user("What's my name?"),
    ]
    assert await session.history() == [
        user("My name is Alice."),
        assistant("You said: My name is Alice."),
        user("What's my name?"),
        assistant("You said: What's my name?"),
    ]


async def test_same_id_gives_the_same_session_and_stores_are_shared() -> None:
    store = InMemorySessionStore()
    client_a = Aether(FakeProvider(canned_response="a"), memory_store=store)
    client_b = Aether(FakeProvider(canned_response="b"), memory_store=store)
    session = client_a.session("alice")
    assert client_a.session("alice") is session
    assert client_a.session("bob") is not session
    assert isinstance(session, Session)
    await session.ask("hi")
    assert await client_b.session("alice").history() == [user("hi"), assistant("a")]


async def test_stream_with_tools_saves_only_text() -> None:
    fake = FakeProvider(
        responses=[
            LLMResponse(
                text="Let me add. ",
                tool_calls=[ToolCall(id="c1", name="add", arguments={"a": 17, "b": 25})],
            ),
            "The answer is 42.",
        ]
    )
    session = Aether(fake).session("s")
    text = "".join([d async for d in session.stream_text("17+25?", tools=[make_tool(add)])])
    history = await session.history()
    assert history == [user("17+25?"), assistant(text)]
    assert "42" in text
    assert all(not m.tool_calls and m.role != "tool" for m in history)


@pytest.mark.parametrize("streamed", [False, True], ids=["ask", "stream_text"])
async def test_max_tool_iterations_counts_tool_rounds(streamed: bool) -> None:
    def looping(n: int) -> LLMResponse:
        return LLMResponse(text="", tool_calls=[ToolCall(id=f"c{n}", name="add", arguments={})])

    async def turn(session: Session, prompt: str) -> str:
        tools = [make_tool(add)]
        if streamed:
            chunks = session.stream_text(prompt, tools=tools, max_tool_iterations=1)
            return "".join([delta async for delta in chunks])
        return await session.ask(prompt, tools=tools, max_tool_iterations=1)

    # One round allowed: the tool runs once and the answer after it is stored.
    fake = FakeProvider(responses=[looping(1), "done", looping(2), looping(3), "unused"])
    session = Aether(fake).session("s")
    assert await turn(session, "first") == "done"
    assert len(fake.calls) == 2
    # A model still asking after that round: an error after two calls, and nothing stored.
    with pytest.raises(MaxToolIterationsError):
        await turn(session, "second")
    assert len(fake.calls) == 4
    assert await session.history() == [user("first"), assistant("done")]


async def test_history_limit_bounds_what_is_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeProvider()
    client = Aether(fake)
    session = Session(client=client, session_id="s", store=client.memory_store, history_limit=2)
    for text in ("one", "two", "three"):
        await session.ask(text)
    assert fake.calls[-1].messages == [user("two"), assistant("You said: two"), user("three")]
    assert len(await session.history()) == 6
    assert await session.history(limit=2) == [user("three"), assistant("You said: three")]

    monkeypatch.setenv("AETHER_SESSION_HISTORY_LIMIT", "4")
    other = client.session("s")
    await other.ask("four")
    assert [m.content for m in fake.calls[-1].messages] == [
        "two",
        "You said: two",
        "three",
        "You said: three",
        "four",
    ]


async def test_clear_deletes_the_history() -> None:
    store = InMemorySessionStore()
    session = Aether(FakeProvider(), memory_store=store).session("s")
    await session.ask("hi")
    await session.clear()
    assert await session.history() == []
    assert await store.exists("s") is False


async def test_a_four_method_store_keeps_working() -> None:
    store = FourMethodStore()
    fake = FakeProvider(responses=["a", ServerError("boom"), "c"])
    session = Aether(fake, memory_store=store).session("s", system="sys")
    await session.ask("one")
    with pytest.raises(ServerError):
        await session.ask("two")
    await session.ask("three")
    assert store.messages("s") == [user("one"), assistant("a"), user("three"), assistant("c")]
    assert await session.history(limit=2) == [user("three"), assistant("c")]
    await session.clear()
    assert store.documents == {}


async def test_a_store_driver_error_becomes_a_session_store_error() -> None:
    class BrokenStore(FourMethodStore):
        async def save(self, session_id: str, messages: list[Message]) -> None:
            raise ConnectionError("redis://:secret@host down")

    session = Aether(FakeProvider(), memory_store=BrokenStore()).session("s")
    with pytest.raises(SessionStoreError, match=r"BrokenStore\.save") as caught:
        await session.ask("hi")
    assert "secret" not in str(caught.value)
    assert isinstance(caught.value.__cause__, ConnectionError)


async def test_bad_session_ids_and_limits_are_rejected() -> None:
    client = Aether(FakeProvider())
    with pytest.raises(ValueError):
        client.session("")
    with pytest.raises(ValueError):
        Session(client=client, session_id="s", store=client.memory_store, history_limit=-1)


class Stalling(FakeProvider):
    """A fake whose calls announce themselves on ``entered`` and wait for ``gate``."""

    def __init__(self) -> None:
        super().__init__()
        self.entered, self.gate = asyncio.Event(), asyncio.Event()

    async def complete(self, request: LLMRequest) -> LLMResponse:
        self.entered.set()
        await self.gate.wait()
        return await super().complete(request)


async def test_the_turn_stored_is_the_one_sent_even_if_the_caller_changes_it() -> None:
    store = InMemorySessionStore()
    fake = Stalling()
    session = Aether(fake, memory_store=store).session("s")
    question = user("original")
    call = asyncio.create_task(session.ask([question]))
    await fake.entered.wait()
    question.content = "changed while the call was in flight"
    fake.gate.set()
    assert await call == "You said: original"
    assert await store.load("s") == [user("original"), assistant("You said: original")]


async def test_the_client_keeps_a_session_only_while_someone_holds_it() -> None:
    client = Aether(FakeProvider())
    session = client.session("alice")
    await session.ask("hi")
    assert client.session("alice") is session
    alive = weakref.ref(session)
    del session
    gc.collect()
    assert alive() is None, "the client kept a session nobody holds"
    reopened = client.session("alice")  # a new object, the same history (it is in the store)
    assert [m.content for m in await reopened.history()] == ["hi", "You said: hi"]


async def test_a_call_in_progress_keeps_its_session_alive() -> None:
    fake = Stalling()
    client = Aether(fake)
    call = asyncio.create_task(client.session("bob").ask("first"))  # nobody else holds it
    await fake.entered.wait()
    gc.collect()
    held = client.session("bob")
    second = asyncio.create_task(held.ask("second"))  # same object: waits for the same lock
    await asyncio.sleep(0)
    fake.gate.set()
    await asyncio.gather(call, second)
    # One lock: the second call waited for the first turn and sent it back to the model.
    assert fake.calls[1].messages == [user("first"), assistant("You said: first"), user("second")]
    assert [m.content for m in await held.history()] == [
        "first",
        "You said: first",
        "second",
        "You said: second",
    ]


async def _consume(session: Session, method: str, prompt: str, **kwargs: Any) -> None:
    if method == "ask":
        await session.ask(prompt, **kwargs)
        return
    async for _ in getattr(session, method)(prompt, **kwargs):
        pass


@pytest.mark.parametrize("method", ["ask", "stream", "stream_text"])
async def test_settings_and_allowed_tools_reach_the_request(method: str) -> None:
    def mult(a: int, b: int) -> int:
        return a * b

    fake = FakeProvider(canned_response="ok")
    session = Aether(fake).session("s")
    await _consume(
        session,
        method,
        "hi",
        tools=[make_tool(add), make_tool(mult)],
        allowed_tools=["add"],
        max_tokens=5,
        settings={"seed": 3, "max_tokens": 99, "extra_headers": {"x-trace": "t"}},
    )
    request = fake.calls[0]
    assert (request.seed, request.max_tokens, request.extra_headers) == (3, 5, {"x-trace": "t"})
    assert request.allowed_tools == ["add"]
    assert await session.history() == [user("hi"), assistant("ok")]


async def test_bad_settings_are_refused_and_nothing_is_stored() -> None:
    fake = FakeProvider(canned_response="ok")
    session = Aether(fake).session("s")
    with pytest.raises(ConfigurationError, match="Unknown call setting"):
        await session.ask("hi", settings={"temprature": 0.1})  # type: ignore[arg-type]
    assert fake.calls == [] and await session.history() == []


async def test_a_refusal_raises_as_from_aether_ask_and_nothing_is_stored() -> None:
    refused = LLMResponse(text="", refusal="I can't help with that.")
    session = Aether(FakeProvider(responses=[refused])).session("s")
    with pytest.raises(ResponseBlockedError) as info:
        await session.ask("something it refuses")
    assert info.value.refusal == "I can't help with that."
    assert await session.history() == []


async def test_deferred_tool_calls_leave_the_history_untouched() -> None:
    ask_user = Tool.from_schema("ask_user", {"properties": {"q": {"type": "string"}}})
    fake = FakeProvider(
        responses=[
            LLMResponse(text="", tool_calls=[ToolCall(id="c1", name="ask_user", arguments={})])
        ]
    )
    session = Aether(fake).session("s")
    with pytest.raises(DeferredToolCallsError) as info:
        await session.ask("Book a table", tools=[ask_user])
    assert info.value.messages[-1].tool_calls[0].id == "c1"
    assert await session.history() == []
