"""serialize_result: the size cap and its note; lazy results refused before anything reads them."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from aether.errors import ToolExecutionError
from aether.extensions.llm.fake import FakeProvider
from aether.llm.contracts import ToolCall
from aether.tools import dispatch_tool, make_tool, serialize_result
from aether.tools.results import RESULT_MAX_CHARS_ENV, result_max_chars
from tests.tools.test_loop import answer, calls, run, tool_messages

# --- the cap ---------------------------------------------------------------------------


def test_a_result_within_the_cap_is_untouched() -> None:
    assert serialize_result("abcd", max_chars=4) == "abcd"
    assert serialize_result([1, 2], max_chars=5) == "[1,2]"


def test_a_longer_result_is_cut_with_a_note_saying_how_much_was_left_out() -> None:
    text = serialize_result("x" * 25_000, max_chars=10_000)
    kept, note = text.split("\n", 1)
    assert kept == "x" * 10_000
    assert "25,000 characters" in note and "first 10,000" in note
    cut_json = serialize_result(list(range(100)), max_chars=20)
    assert cut_json.startswith("[0,1,2,3,4,5,6,7,8,9\n[Result cut")


def test_the_cap_comes_from_the_environment_with_a_generous_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(RESULT_MAX_CHARS_ENV, raising=False)
    assert result_max_chars() == 200_000
    monkeypatch.setenv(RESULT_MAX_CHARS_ENV, "8")
    assert serialize_result("123456789").startswith("12345678\n[Result cut")
    assert result_max_chars(3) == 3  # an explicit cap wins
    with pytest.raises(ValueError, match="max_chars must be >= 1"):
        result_max_chars(0)


async def test_the_model_reads_a_cut_result_through_the_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(RESULT_MAX_CHARS_ENV, "100")

    def dump() -> str:
        return "y" * 1000

    fake = FakeProvider(responses=[calls(("c1", "dump", {})), answer("ok")])
    await run(fake, [make_tool(dump)])
    [(_, content)] = tool_messages(fake.calls[1])
    assert content.startswith("y" * 100 + "\n[Result cut: the tool returned 1,000 characters")


# --- lazy results ----------------------------------------------------------------------


@dataclasses.dataclass
class Page:
    rows: Any


class Report(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)
    rows: Any


async def _agen() -> AsyncIterator[int]:
    yield 1


async def _coro() -> int:
    return 1


@pytest.mark.parametrize(
    "make",
    [
        lambda: itertools.count(),
        lambda: (i for i in itertools.count()),
        lambda: map(str, itertools.count()),
        lambda: {"rows": itertools.count()},
        lambda: [1, [2, {"deep": iter([3])}]],
        lambda: Page(rows=itertools.count()),
        lambda: Report(rows=itertools.count()),
        lambda: {"keys": {frozenset({1}): 1}, "value": (itertools.repeat(0),)},
    ],
    ids=["count", "generator", "map", "in-dict", "nested", "dataclass", "model", "in-tuple"],
)
async def test_an_endless_iterator_anywhere_is_refused_not_read(make: Any) -> None:
    with pytest.raises(ToolExecutionError, match=r"an iterator.*Return a list"):
        # The bound proves it: serialising itertools.count() would never return.
        await asyncio.wait_for(asyncio.to_thread(serialize_result, make()), 5)


@pytest.mark.parametrize(
    ("make", "fragment"),
    [(_agen, "async_generator"), (_coro, "un-awaited coroutine")],
    ids=["async-generator", "coroutine"],
)
def test_async_values_are_refused_instead_of_sent_as_their_repr(make: Any, fragment: str) -> None:
    value = make()
    try:
        with pytest.raises(ToolExecutionError, match=fragment):
            serialize_result({"value": value})
    finally:
        if hasattr(value, "close"):
            value.close()


def test_shared_and_circular_values_are_walked_once() -> None:
    shared = [1, 2]
    assert serialize_result({"a": shared, "b": shared}) == '{"a":[1,2],"b":[1,2]}'
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(ToolExecutionError, match="Circular reference"):
        serialize_result(loop)


def test_finite_collections_are_still_serialised() -> None:
    assert (
        serialize_result({"s": {1}, "t": (1, 2), "r": range(2)})
        == '{"s":[1],"t":[1,2],"r":"range(0, 2)"}'
    )


async def test_a_sync_tool_returning_an_endless_iterator_does_not_block_the_loop() -> None:
    def numbers() -> Iterator[int]:  # not a generator function: it returns one
        return itertools.count()

    result = await asyncio.wait_for(
        dispatch_tool(ToolCall(id="c1", name="numbers", arguments={}), [make_tool(numbers)]), 5
    )
    assert isinstance(result.error, ToolExecutionError)
    assert result.content.startswith("Error: The tool returned a count (an iterator)")


async def test_an_async_tool_returning_an_async_generator_is_an_error_not_a_repr() -> None:
    async def stream() -> Any:
        return _agen()

    result = await dispatch_tool(
        ToolCall(id="c1", name="stream", arguments={}), [make_tool(stream)]
    )
    assert result.error is not None
    assert "async_generator" in result.content and "<async_generator object" not in result.content
