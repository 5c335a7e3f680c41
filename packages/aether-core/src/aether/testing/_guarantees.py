"""The session guarantees, checked through a real :class:`~aether.memory.Session` on any store.

The store suites check what a store does when called directly; this one checks what the spec
promises a *session* user, with a scripted :class:`~aether.extensions.llm.fake.FakeProvider`
answering and the store under test keeping the history. A store passes only if the session's
rules survive its round trip: its turns stored whole, in order, with nothing from a call that
failed. Re-exported by :mod:`aether.testing.stores`; see there for how to subclass it.
"""

from __future__ import annotations

import asyncio
from contextlib import aclosing

import pytest

from aether.client import Aether
from aether.errors import MaxToolIterationsError, ServerError
from aether.extensions.llm.fake import FakeProvider, Fault
from aether.llm.contracts import LLMResponse, Message, ToolCall
from aether.memory.contracts import SessionStore
from aether.memory.session import Session
from aether.memory.turns import split_turns, validate_turn
from aether.tools import make_tool

__all__ = ["SessionGuaranteesConformance", "check_concurrent_asks"]


async def check_concurrent_asks(
    store: SessionStore, *, tasks: int = 50, asks: int = 20, history_limit: int | None = 20
) -> None:
    """``tasks`` tasks times ``asks`` asks on one session: history complete, ordered, never mixed.

    Raises AssertionError (with pytest's rewriting when called from a test) if a turn is
    missing, duplicated, split, or if any call saw a history other than exactly the turns
    stored before it. ``history_limit`` keeps the run linear (each call sends the newest
    turns only); the stored history is still checked whole.
    """
    fake = FakeProvider()  # echoes the last user message
    client = Aether(fake, memory_store=store)
    session = Session(
        client=client, session_id="shared", store=store, system="sys", history_limit=history_limit
    )

    async def worker(task: int) -> None:
        for n in range(asks):
            assert await session.ask(f"{task}:{n}") == f"You said: {task}:{n}"

    await asyncio.gather(*(worker(task) for task in range(tasks)))

    history = await session.history()
    assert len(history) == 2 * tasks * asks, "turns were lost or duplicated"
    questions = [m.text for m in history[0::2]]
    assert all(m.role == "user" for m in history[0::2]), "a turn was split or interleaved"
    assert [m.text for m in history[1::2]] == [f"You said: {q}" for q in questions]
    assert sorted(questions) == sorted(f"{t}:{n}" for t in range(tasks) for n in range(asks))
    for task in range(tasks):  # each task's asks land in the order it made them
        mine = [q for q in questions if q.startswith(f"{task}:")]
        assert mine == [f"{task}:{n}" for n in range(asks)]
    # Serialised: call k saw exactly the (newest) turns before it, then its own question.
    system = Message(role="system", content="sys")
    for k, request in enumerate(fake.calls):
        first = 0 if history_limit is None else max(0, 2 * k - history_limit)
        assert request.messages == [system, *history[first : 2 * k], history[2 * k]]


def _user(text: str) -> Message:
    return Message(role="user", content=text)


def _assistant(text: str) -> Message:
    return Message(role="assistant", content=text)


def _add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


_ADD = make_tool(_add, name="add")


def _call(call_id: str, a: int = 2, b: int = 3) -> ToolCall:
    return ToolCall(id=call_id, name="add", arguments={"a": a, "b": b})


def _session(store: SessionStore, fake: FakeProvider, session_id: str = "s") -> Session:
    return Aether(fake, memory_store=store).session(session_id, system="sys")


async def _assert_replayable(store: SessionStore, session_id: str) -> None:
    # What the store really holds, not what a session shows: every turn well-formed.
    for turn in split_turns(await store.load(session_id)):
        validate_turn(turn)


class SessionGuaranteesConformance:
    """The session guarantees of the spec, run through :class:`~aether.memory.Session`.

    Subclass it and override the ``store`` fixture to give a new, empty store (the same fixture
    as the store suites, so one test module can run both). Works for a store with the four
    methods only and for an :class:`~aether.memory.AppendableSessionStore` alike.
    """

    pytestmark = pytest.mark.asyncio

    @pytest.fixture
    def store(self) -> SessionStore:
        """Override: an empty store of the implementation under test."""
        raise NotImplementedError("Subclasses provide a `store` fixture returning an empty store.")

    async def test_tool_turns_stay_out_of_history(self, store: SessionStore) -> None:
        fake = FakeProvider(
            responses=[LLMResponse(text="", tool_calls=[_call("c1")]), "The answer is 5."]
        )
        session = _session(store, fake)
        assert await session.ask("What is 2 + 3?", tools=[_ADD]) == "The answer is 5."
        assert [m.role for m in fake.calls[1].messages] == ["system", "user", "assistant", "tool"]
        assert fake.calls[1].messages[3].content == "5"  # the tool did run ...
        expected = [_user("What is 2 + 3?"), _assistant("The answer is 5.")]
        assert await session.history() == expected  # ... but only the answer is remembered
        assert await store.load("s") == expected

    async def test_a_failed_call_rolls_back(self, store: SessionStore) -> None:
        fake = FakeProvider(responses=["first", ServerError("boom", status_code=500), "third"])
        session = _session(store, fake)
        await session.ask("one")
        with pytest.raises(ServerError):
            await session.ask("two")
        assert await store.load("s") == [_user("one"), _assistant("first")]
        await session.ask("three")
        assert fake.calls[2].messages[1:] == [_user("one"), _assistant("first"), _user("three")]

    async def test_a_stream_that_breaks_midway_rolls_back(self, store: SessionStore) -> None:
        broken = Fault(ServerError("cut", status_code=502), after_chunks=2, response="a b c d e")
        session = _session(store, FakeProvider(responses=["first", broken, "third"]))
        await session.ask("one")
        seen: list[str] = []

        async def consume() -> None:
            async with aclosing(session.stream_text("two")) as deltas:
                async for delta in deltas:
                    seen.append(delta)

        with pytest.raises(ServerError):
            await consume()
        assert seen, "the caller should have seen part of the answer before the break"
        assert await store.load("s") == [_user("one"), _assistant("first")]
        assert await session.ask("three") == "third"  # the lock was released
        assert len(await store.load("s")) == 4

    async def test_a_stream_abandoned_early_stores_nothing(self, store: SessionStore) -> None:
        session = _session(store, FakeProvider(canned_response="one two three four"))
        async with aclosing(session.stream_text("story")) as deltas:
            async for _ in deltas:
                break
        assert await store.load("s") == []
        assert await store.exists("s") is False

    async def test_stream_text_saves_the_final_text(self, store: SessionStore) -> None:
        session = _session(store, FakeProvider(canned_response="Once upon a time"))
        deltas = [delta async for delta in session.stream_text("Tell me a story")]
        assert len(deltas) > 1
        assert "".join(deltas) == "Once upon a time"
        expected = [_user("Tell me a story"), _assistant("Once upon a time")]
        assert await store.load("s") == expected
        assert await session.history() == expected

    async def test_a_cancelled_call_stores_nothing(self, store: SessionStore) -> None:
        entered, gate = asyncio.Event(), asyncio.Event()

        class Stalling(FakeProvider):
            async def complete(self, request):  # type: ignore[no-untyped-def]
                entered.set()
                await gate.wait()
                return await super().complete(request)

        session = _session(store, Stalling(canned_response="late"))
        task = asyncio.create_task(session.ask("never"))
        await entered.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        gate.set()
        assert await store.load("s") == []
        assert await session.ask("next") == "late"
        assert await store.load("s") == [_user("next"), _assistant("late")]

    async def test_concurrent_asks_are_serialised(self, store: SessionStore) -> None:
        await check_concurrent_asks(store, tasks=50, asks=20)

    async def test_no_tool_call_turn_without_its_results(self, store: SessionStore) -> None:
        # A model that never stops calling tools: the loop gives up, and nothing is stored.
        looping = [LLMResponse(text="", tool_calls=[_call(f"c{i}")]) for i in range(3)]
        session = _session(store, FakeProvider(responses=[*looping, "done"]))
        with pytest.raises(MaxToolIterationsError):
            await session.ask("loop", tools=[_ADD], max_tool_iterations=2)
        assert await store.load("s") == []
        # A prompt carrying a whole tool exchange is stored whole, results included ...
        exchange = [
            _user("q"),
            Message(role="assistant", content="", tool_calls=[_call("x1", 1, 1)]),
            Message(role="tool", content="2", tool_call_id="x1", name="add"),
        ]
        assert await session.ask(exchange) == "done"
        assert await store.load("s") == [*exchange, _assistant("done")]
        # ... and one with a tool call but no result is refused before the model is called.
        fake = FakeProvider(canned_response="never")
        dangling = Message(role="assistant", content="", tool_calls=[_call("x2")])
        with pytest.raises(ValueError, match="without their results"):
            await _session(store, fake).ask([_user("q2"), dangling])
        assert fake.calls == []
        assert await store.load("s") == [*exchange, _assistant("done")]
        await _assert_replayable(store, "s")
