"""The session-store conformance suite: subclass it to prove a store keeps the contract.

    import pytest
    from aether.testing.stores import (
        AppendableSessionStoreConformance,
        SessionGuaranteesConformance,
    )

    class TestRedisStore(ListableSessionStoreConformance, SessionGuaranteesConformance):
        @pytest.fixture
        async def store(self):
            store = RedisSessionStore(url)
            yield store
            await store.aclose()

:class:`SessionStoreConformance` checks the four methods of
:class:`~aether.memory.SessionStore`; :class:`AppendableSessionStoreConformance` adds the
atomic, idempotent ``append_turn`` and bounded ``load`` of
:class:`~aether.memory.AppendableSessionStore`, and :class:`ListableSessionStoreConformance`
the ``list_sessions()`` of :class:`~aether.memory.ListableSessionStore` on top.
:class:`SessionGuaranteesConformance` runs the spec's session guarantees (tool turns stay
out, failed or broken calls roll back, concurrent asks serialised) through a real
:class:`~aether.memory.Session` on the store, and :func:`check_concurrent_asks` is its
concurrency check on its own. The tests are async:
pytest-asyncio runs them when it is installed, else the kit's pytest plugin runs them on a
loop of its own (in pytest-asyncio's strict mode an async ``store`` fixture needs
``@pytest_asyncio.fixture``). The ``store`` fixture must give an empty store for each test.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

import pytest

from aether.client import Aether
from aether.extensions.llm.fake import FakeProvider
from aether.llm.contracts import Message, ToolCall
from aether.memory.contracts import (
    AppendableSessionStore,
    ListableSessionStore,
    SessionStore,
)
from aether.testing._guarantees import SessionGuaranteesConformance, check_concurrent_asks

__all__ = [
    "AppendableSessionStoreConformance",
    "ListableSessionStoreConformance",
    "SessionGuaranteesConformance",
    "SessionStoreConformance",
    "check_concurrent_asks",
    "tricky_messages",
]


def tricky_messages() -> list[Message]:
    """Messages that break naive stores: tool calls, ids, unicode, control characters, size."""
    arguments: dict[str, Any] = {
        "query": "naïve café ☕ 東京 🚀",
        "nested": {"list": [1, 2.5, -3e-7, None, True, {"k": "v"}], "empty": {}},
        "big": 2**70,
        "quote": "'\"; DROP TABLE x; --",
    }
    return [
        Message(role="system", content="You are helpful.\nLine two.\ttab"),
        Message(role="user", content="héllo 世界 🚀 \u2028 \x00 nul and zero-width \u200b"),
        Message(
            role="assistant",
            content="",
            tool_calls=[
                ToolCall(id="call_1", name="search", arguments=arguments),
                # What a provider needs back with the call (a signature, signed thinking).
                ToolCall(
                    id="call_2",
                    name="noargs",
                    provider_data={"thoughtSignature": "c2lnbmVk", "thinking": [{"n": 1}]},
                ),
            ],
        ),
        Message(role="tool", content='{"result": "ok"}', tool_call_id="call_1", name="search"),
        Message(role="tool", content="", tool_call_id="call_2", name="noargs"),
        Message(role="assistant", content="x" * 1_000_000),
        Message(role="user", content=""),
        Message(role="assistant", content="  leading and trailing spaces  "),
    ]


def _turn(tag: str, size: int = 2) -> list[Message]:
    messages = [Message(role="user", content=f"{tag} question")]
    messages += [Message(role="assistant", content=f"{tag} answer {i}") for i in range(size - 1)]
    return messages


class SessionStoreConformance:
    """Behaviour every :class:`~aether.memory.SessionStore` must have.

    Subclass it and override the ``store`` fixture to return a new, empty store.
    """

    pytestmark = pytest.mark.asyncio

    @pytest.fixture
    def store(self) -> SessionStore:
        """Override: an empty store of the implementation under test."""
        raise NotImplementedError("Subclasses provide a `store` fixture returning an empty store.")

    async def test_satisfies_the_protocol(self, store: SessionStore) -> None:
        assert isinstance(store, SessionStore)

    async def test_unknown_session_loads_empty_and_does_not_exist(
        self, store: SessionStore
    ) -> None:
        assert await store.load("nobody") == []
        assert await store.exists("nobody") is False

    async def test_save_then_load_round_trips_exactly(self, store: SessionStore) -> None:
        messages = tricky_messages()
        await store.save("s", messages)
        loaded = await store.load("s")
        assert loaded == messages
        assert [m.model_dump() for m in loaded] == [m.model_dump() for m in messages]
        assert await store.exists("s") is True

    async def test_content_parts_round_trip_byte_for_byte(self, store: SessionStore) -> None:
        from aether.llm.parts import AudioPart, DocumentPart, ImagePart, TextPart, VideoPart

        every_byte = bytes(range(256)) * 3
        clip = {"videoMetadata": {"startOffset": "1.5s", "endOffset": "9s", "fps": 0.5}}
        messages = [
            Message(
                role="user",
                content=[
                    TextPart(text="What is in these?", cache=True),
                    ImagePart(data=every_byte, media_type="image/png", detail="low"),
                    ImagePart(url="https://example.test/cat.jpg"),
                    DocumentPart(
                        file_id="file-123",
                        filename="report.pdf",
                        provider_options={"citations": {"enabled": True}, "title": None},
                    ),
                    AudioPart(url="https://example.test/call.mp3"),
                    VideoPart(data=every_byte, media_type="video/mp4", provider_options=clip),
                ],
            ),
            Message(role="assistant", content="A cat, a report, a call and a clip."),
        ]
        await store.save("parts", messages)
        loaded = await store.load("parts")
        assert loaded == messages
        media = loaded[0].media
        assert [type(part) for part in media] == [
            ImagePart,
            ImagePart,
            DocumentPart,
            AudioPart,
            VideoPart,
        ]
        assert media[0].data == every_byte
        assert media[4].data == every_byte
        assert media[4].provider_options == clip
        assert media[2].provider_options == {"citations": {"enabled": True}, "title": None}

    async def test_save_replaces_the_history(self, store: SessionStore) -> None:
        await store.save("s", _turn("old", 3))
        await store.save("s", _turn("new"))
        assert await store.load("s") == _turn("new")

    async def test_saving_nothing_empties_the_session(self, store: SessionStore) -> None:
        await store.save("s", _turn("a"))
        await store.save("s", [])
        assert await store.load("s") == []
        assert await store.exists("s") is False

    async def test_delete_forgets_the_session(self, store: SessionStore) -> None:
        await store.save("s", _turn("a"))
        await store.delete("s")
        assert await store.load("s") == []
        assert await store.exists("s") is False
        await store.delete("s")  # deleting twice is not an error
        await store.delete("never-existed")

    async def test_sessions_are_isolated(self, store: SessionStore) -> None:
        await store.save("a", _turn("a"))
        await store.save("b", _turn("b", 3))
        await store.delete("a")
        assert await store.load("b") == _turn("b", 3)
        assert await store.exists("a") is False

    async def test_unusual_session_ids(self, store: SessionStore) -> None:
        ids = ["user/alice", "with space", "ünïcödé 🚀", "quote'\"", "a" * 300, "%", "_"]
        for index, session_id in enumerate(ids):
            await store.save(session_id, _turn(str(index)))
        for index, session_id in enumerate(ids):
            assert await store.load(session_id) == _turn(str(index))

    async def test_loaded_messages_are_copies(self, store: SessionStore) -> None:
        await store.save("s", tricky_messages())
        loaded = await store.load("s")
        loaded[0].content = "changed"
        loaded[2].tool_calls[0].arguments["nested"]["list"].append("changed")
        loaded.append(Message(role="user", content="extra"))
        assert await store.load("s") == tricky_messages()

    async def test_saved_messages_are_copied(self, store: SessionStore) -> None:
        messages = tricky_messages()
        await store.save("s", messages)
        messages[1].content = "changed"
        messages[2].tool_calls[0].arguments["big"] = 0
        messages.clear()
        assert await store.load("s") == tricky_messages()

    async def test_long_history_keeps_its_order(self, store: SessionStore) -> None:
        messages = [
            Message(role="user" if i % 2 == 0 else "assistant", content=str(i)) for i in range(2000)
        ]
        await store.save("s", messages)
        assert await store.load("s") == messages

    async def test_concurrent_saves_to_different_sessions(self, store: SessionStore) -> None:
        async def write(index: int) -> None:
            for round_ in range(3):
                await store.save(f"s{index}", _turn(f"{index}-{round_}", 3))

        await asyncio.gather(*(write(i) for i in range(30)))
        for index in range(30):
            assert await store.load(f"s{index}") == _turn(f"{index}-2", 3)


class AppendableSessionStoreConformance(SessionStoreConformance):
    """Behaviour every :class:`~aether.memory.AppendableSessionStore` must have, on top."""

    @pytest.fixture
    def store(self) -> AppendableSessionStore:
        """Override: an empty store of the implementation under test."""
        raise NotImplementedError("Subclasses provide a `store` fixture returning an empty store.")

    async def test_satisfies_the_appendable_protocol(self, store: AppendableSessionStore) -> None:
        assert isinstance(store, AppendableSessionStore)

    async def test_appended_turns_load_in_order(self, store: AppendableSessionStore) -> None:
        assert await store.append_turn("s", "t1", _turn("one")) is True
        assert await store.append_turn("s", "t2", _turn("two", 3)) is True
        assert await store.exists("s") is True
        assert await store.load("s") == _turn("one") + _turn("two", 3)

    async def test_a_retried_append_is_a_no_op(self, store: AppendableSessionStore) -> None:
        assert await store.append_turn("s", "t1", _turn("one")) is True
        assert await store.append_turn("s", "t1", _turn("one")) is False
        assert await store.append_turn("s", "t1", _turn("different")) is False
        assert await store.load("s") == _turn("one")

    async def test_turn_ids_are_scoped_to_a_session(self, store: AppendableSessionStore) -> None:
        assert await store.append_turn("a", "t1", _turn("a")) is True
        assert await store.append_turn("b", "t1", _turn("b")) is True
        assert await store.load("b") == _turn("b")

    async def test_append_after_save_continues_the_history(
        self, store: AppendableSessionStore
    ) -> None:
        await store.save("s", _turn("saved", 3))
        await store.append_turn("s", "t1", _turn("appended"))
        assert await store.load("s") == _turn("saved", 3) + _turn("appended")

    async def test_delete_forgets_turn_ids(self, store: AppendableSessionStore) -> None:
        await store.append_turn("s", "t1", _turn("one"))
        await store.delete("s")
        assert await store.append_turn("s", "t1", _turn("again")) is True
        assert await store.load("s") == _turn("again")

    async def test_tool_turn_round_trips(self, store: AppendableSessionStore) -> None:
        turn = tricky_messages()
        await store.append_turn("s", "t1", turn)
        assert await store.load("s") == turn

    async def test_malformed_turns_are_rejected_and_store_nothing(
        self, store: AppendableSessionStore
    ) -> None:
        dangling = Message(role="assistant", content="", tool_calls=[ToolCall(id="c1", name="add")])
        orphan = Message(role="tool", content="5", tool_call_id="c9", name="add")
        for bad in ([], [Message(role="user", content="q"), dangling], [orphan]):
            with pytest.raises(ValueError):
                await store.append_turn("s", "bad", bad)
        assert await store.load("s") == []
        assert await store.exists("s") is False

    async def test_limit_loads_the_newest_whole_turns(self, store: AppendableSessionStore) -> None:
        turns = [_turn("a", 2), _turn("b", 3), _turn("c", 2), _turn("d", 4)]
        for index, turn in enumerate(turns):
            await store.append_turn("s", f"t{index}", turn)
        assert await store.load("s", limit=None) == [m for t in turns for m in t]
        assert await store.load("s", limit=4) == turns[3]
        assert await store.load("s", limit=5) == turns[3]
        assert await store.load("s", limit=6) == turns[2] + turns[3]
        assert await store.load("s", limit=9) == turns[1] + turns[2] + turns[3]
        assert await store.load("s", limit=100) == [m for t in turns for m in t]
        assert await store.load("s", limit=3) == []  # the newest turn alone is longer
        assert await store.load("s", limit=0) == []
        assert await store.load("nobody", limit=5) == []
        with pytest.raises(ValueError):
            await store.load("s", limit=-1)

    async def test_limit_splits_saved_history_at_user_messages(
        self, store: AppendableSessionStore
    ) -> None:
        saved = [Message(role="system", content="sys"), *_turn("a", 3), *_turn("b", 2)]
        await store.save("s", saved)
        assert await store.load("s", limit=2) == _turn("b", 2)
        assert await store.load("s", limit=5) == _turn("a", 3) + _turn("b", 2)
        assert await store.load("s", limit=6) == saved

    async def test_concurrent_appends_to_one_session_all_land_whole(
        self, store: AppendableSessionStore
    ) -> None:
        async def writer(task: int) -> None:
            for n in range(5):
                await store.append_turn("s", f"{task}-{n}", _turn(f"{task}-{n}", 3))

        await asyncio.gather(*(writer(task) for task in range(50)))
        loaded = await store.load("s")
        assert len(loaded) == 50 * 5 * 3
        turns = [loaded[i : i + 3] for i in range(0, len(loaded), 3)]
        tags = [turn[0].text.removesuffix(" question") for turn in turns]
        assert sorted(tags) == sorted(f"{t}-{n}" for t in range(50) for n in range(5))
        for turn, tag in zip(turns, tags, strict=True):
            assert turn == _turn(tag, 3)
        for task in range(50):  # each writer's turns stay in the order it appended them
            mine = [tag for tag in tags if tag.split("-")[0] == str(task)]
            assert mine == [f"{task}-{n}" for n in range(5)]


class _Listable(ListableSessionStore, AppendableSessionStore, Protocol):
    """What the listing checks write through: both optional capabilities."""


class ListableSessionStoreConformance(AppendableSessionStoreConformance):
    """Behaviour every :class:`~aether.memory.ListableSessionStore` must have, on top."""

    @pytest.fixture
    def store(self) -> ListableSessionStore:
        """Override: an empty store of the implementation under test."""
        raise NotImplementedError("Subclasses provide a `store` fixture returning an empty store.")

    async def test_satisfies_the_listable_protocol(self, store: ListableSessionStore) -> None:
        assert isinstance(store, ListableSessionStore)
        assert isinstance(store, AppendableSessionStore)

    async def test_sessions_are_listed_most_recently_written_first(self, store: _Listable) -> None:
        assert await store.list_sessions() == []
        for name in ("a", "b", "c"):
            await store.append_turn(name, f"turn-{name}", _turn(name))
        assert await store.list_sessions() == ["c", "b", "a"]
        await store.append_turn("a", "turn-a2", _turn("a2"))
        assert await store.list_sessions() == ["a", "c", "b"]
        assert await store.append_turn("b", "turn-b", _turn("b")) is False
        assert await store.list_sessions() == ["a", "c", "b"]  # a retried append writes nothing
        await store.save("b", _turn("b2"))
        assert await store.list_sessions() == ["b", "a", "c"]

    async def test_empty_and_deleted_sessions_are_not_listed(self, store: _Listable) -> None:
        await store.save("kept", _turn("kept"))
        await store.save("emptied", _turn("emptied"))
        await store.save("emptied", [])
        await store.append_turn("gone", "t1", _turn("gone"))
        await store.delete("gone")
        assert await store.list_sessions() == ["kept"]

    async def test_limit_lists_the_most_recent(self, store: _Listable) -> None:
        for name in ("a", "b", "c"):
            await store.save(name, _turn(name))
        assert await store.list_sessions(limit=2) == ["c", "b"]
        assert await store.list_sessions(limit=5) == ["c", "b", "a"]
        assert await store.list_sessions(limit=0) == []
        assert await store.list_sessions(limit=None) == ["c", "b", "a"]
        with pytest.raises(ValueError, match="limit must be None or an integer >= 0"):
            await store.list_sessions(limit=-1)

    async def test_sessions_a_client_writes_are_listed(self, store: _Listable) -> None:
        client = Aether(FakeProvider(), memory_store=store)
        await client.session("alice").ask("hi")
        await client.session("bob").ask("hi")
        await client.session("alice").ask("again")
        assert await store.list_sessions() == ["alice", "bob"]
