"""Typed answers in a session: stored as the JSON the model gave, the same in every mode."""

from __future__ import annotations

import json
from contextlib import aclosing
from typing import Any

import pytest
from pydantic import BaseModel
from typing_extensions import assert_type

from aether import Aether, Output
from aether.errors import OutputValidationError
from aether.extensions.llm.fake import FakeProvider
from aether.llm.contracts import Message, ToolCall


class Contact(BaseModel):
    name: str
    email: str


ADA = Contact(name="Ada", email="ada@example.org")


@pytest.mark.parametrize("mode", ["native", "tool", "prompted"])
async def test_the_turn_is_stored_as_the_json_text_the_model_gave(mode: Any) -> None:
    fake = FakeProvider(responses=[ADA, "Her name is Ada."])
    session = Aether(fake).session("s", system="Extract contacts.")
    contact = await session.ask("Ada, ada@example.org", output_type=Output(Contact, mode=mode))
    assert_type(contact, Contact)
    assert contact == ADA
    history = await session.history()
    assert [m.role for m in history] == ["user", "assistant"]
    stored = history[1]
    assert stored.tool_calls == []  # no output tool call: any provider can read it back
    assert Contact.model_validate_json(stored.text) == ADA
    # The next call sends it back as plain assistant text, without the output tool.
    assert await session.ask("Who was that?") == "Her name is Ada."
    follow_up = fake.calls[1]
    assert follow_up.messages[2] == stored and follow_up.tools == []
    assert follow_up.messages[0] == Message(role="system", content="Extract contacts.")


async def test_the_stored_turn_is_the_answer_that_validated_after_a_repair() -> None:
    fake = FakeProvider(responses=['{"name": "Ada"}', ADA])
    session = Aether(fake).session("s")
    assert await session.ask("Ada, ada@example.org", output_type=Contact) == ADA
    history = await session.history()
    assert [m.role for m in history] == ["user", "assistant"]  # the repair stays out
    assert json.loads(history[1].text) == ADA.model_dump()


async def test_a_typed_answer_that_never_fits_stores_nothing() -> None:
    fake = FakeProvider(responses=["{}", "{}", "later"])
    session = Aether(fake).session("s")
    with pytest.raises(OutputValidationError):
        await session.ask("?", output_type=Contact)
    assert await session.history() == []
    assert await session.ask("next") == "later"  # the lock was released


async def test_tool_rounds_then_a_typed_answer_store_one_turn() -> None:
    def lookup(name: str) -> str:
        """Find a contact's email."""
        return "ada@example.org"

    fake = FakeProvider(
        responses=[ToolCall(id="t1", name="lookup", arguments={"name": "Ada"}), ADA]
    )
    session = Aether(fake).session("s")
    assert await session.ask("Ada's email?", tools=[lookup], output_type=Contact) == ADA
    history = await session.history()
    assert [m.role for m in history] == ["user", "assistant"]
    assert Contact.model_validate_json(history[1].text) == ADA


async def test_a_streamed_typed_answer_is_stored_once_whole() -> None:
    fake = FakeProvider(responses=[ADA, "Her name is Ada."])
    session = Aether(fake).session("s", system="Extract contacts.")
    values = [
        value async for value in session.stream_output("Ada, ada@example.org", output_type=Contact)
    ]
    assert_type(values, list[Contact])
    assert values[-1] == ADA
    history = await session.history()
    assert [m.role for m in history] == ["user", "assistant"]
    assert Contact.model_validate_json(history[1].text) == ADA
    assert await session.ask("Who was that?") == "Her name is Ada."
    assert fake.calls[1].messages[2] == history[1]


async def test_a_streamed_typed_answer_left_early_stores_nothing() -> None:
    fake = FakeProvider(responses=[ADA, "later"])
    session = Aether(fake).session("s")
    async with aclosing(session.stream_output("Ada?", output_type=Contact)) as values:
        async for _ in values:
            break
    assert await session.history() == []
    assert await session.ask("next") == "later"  # the lock was released
