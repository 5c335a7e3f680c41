"""Session: the three guarantees, streaming, sharing, limits, with the real facade."""

from __future__ import annotations

import asyncio
from contextlib import aclosing

import pytest

from aether import Aether
from aether.errors import ServerError, SessionStoreError
from aether.extensions.llm.fake import FakeProvider, Fault
from aether.extensions.memory import InMemorySessionStore
from aether.llm.contracts import LLMResponse, Message, ToolCall
from aether.memory import Session
from aether.tools import make_tool


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


async def test_tool_turns_stay_out_of_history() -> None:
    fake = FakeProvider(
        responses=[
            LLMResponse(
                text="", tool_calls=[ToolCall(id="c1", name="add", arguments={"a": 2, "b": 3})]
            ),
            "The answer is 5.",
        ]
    )
    session = Aether(fake).session("s")
    assert await session.ask("What is 2 + 3?", tools=[make_tool(add)]) == "The answer is 5."
    # The loop did run the tool (its result went to the model) ...
    assert [m.role for m in fake.calls[1].messages] == ["user", "assistant", "tool"]
    assert fake.calls[1].messages[2].content == "5"
    # ... but the session remembers only the question and the final answer.
    assert await session.history() == [user("What is 2 + 3?"), assistant("The answer is 5.")]


async def test_a_failed_call_rolls_back() -> None:
    fake = FakeProvider(responses=["first", ServerError("boom", status_code=500), "third"])
    session = Aether(fake).session("s")
    await session.ask("one")
    with pytest.raises(ServerError):
        await session.ask("two")
    assert await session.history() == [user("one"), assistant("first")]
    await session.ask("three")
    assert fake.calls[2].messages == [user("one"), assistant("first"), user("three")]


async def test_a_cancelled_call_stores_nothing_and_releases_the_lock() -> None:
    gate = asyncio.Event()

    class SlowProvider(FakeProvider):
        async def complete(self, request):  # type: ignore[no-untyped-def]
            await gate.wait()
            return await super().complete(request)

    session = Aether(SlowProvider(canned_response="late")).session("s")
    task = asyncio.create_task(session.ask("never"))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    gate.set()
    assert await session.history() == []
    assert await session.ask("next") == "late"
    assert await session.history() == [user("next"), assistant("late")]


async def test_stream_text_saves_the_final_text_when_complete() -> None:
    session = Aether(FakeProvider(canned_response="Once upon a time")).session("s")
    deltas = [delta async for delta in session.stream_text("Tell me a story")]
    assert "".join(deltas) == "Once upon a time"
    assert len(deltas) > 1
    assert await session.history() == [user("Tell me a story"), assistant("Once upon a time")]


async def test_a_stream_that_breaks_stores_nothing() -> None:
    fault = Fault(ServerError("mid-stream", status_code=500), after_chunks=2, response="a b c d")
    session = Aether(FakeProvider(responses=[fault, "fine"])).session("s")
    seen: list[str] = []

    async def consume() -> None:
        async for delta in session.stream_text("story"):
            seen.append(delta)

    with pytest.raises(ServerError):
        await consume()
    assert seen  # the caller did get part of it
    assert await session.history() == []
    assert await session.ask("again") == "fine"


async def test_a_stream_abandoned_early_stores_nothing() -> None:
    session = Aether(FakeProvider(canned_response="one two three four")).session("s")
    async with aclosing(session.stream_text("story")) as deltas:
        async for _ in deltas:
            break
    assert await session.history() == []
    await session.ask("next")  # the lock was released
    assert len(await session.history()) == 2


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


async def test_a_dangling_tool_call_in_the_prompt_is_rejected_before_the_call() -> None:
    fake = FakeProvider(canned_response="x")
    session = Aether(fake).session("s")
    dangling = Message(role="assistant", tool_calls=[ToolCall(id="c1", name="add")])
    with pytest.raises(ValueError, match="without their results"):
        await session.ask([user("q"), dangling])
    assert fake.calls == []
    assert await session.history() == []


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


class DictStore:
    """A third-party store with only the four methods of the spec."""

    def __init__(self) -> None:
        self.data: dict[str, list[Message]] = {}

    async def load(self, session_id: str) -> list[Message]:
        return list(self.data.get(session_id, []))

    async def save(self, session_id: str, messages: list[Message]) -> None:
        self.data[session_id] = list(messages)

    async def delete(self, session_id: str) -> None:
        self.data.pop(session_id, None)

    async def exists(self, session_id: str) -> bool:
        return bool(self.data.get(session_id))


async def test_a_four_method_store_keeps_working() -> None:
    store = DictStore()
    fake = FakeProvider(responses=["a", ServerError("boom"), "c"])
    session = Aether(fake, memory_store=store).session("s", system="sys")
    await session.ask("one")
    with pytest.raises(ServerError):
        await session.ask("two")
    await session.ask("three")
    assert store.data["s"] == [user("one"), assistant("a"), user("three"), assistant("c")]
    assert await session.history(limit=2) == [user("three"), assistant("c")]
    await session.clear()
    assert store.data == {}


async def test_a_store_driver_error_becomes_a_session_store_error() -> None:
    class BrokenStore(DictStore):
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
