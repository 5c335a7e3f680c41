"""A call's keywords have one home: every public entry takes them all and hands them all on.

``Aether.ask`` & co., the same methods of ``Session`` and ``aether.ask`` spell the keywords out
in their signatures and gather them into one ``CallOptions``. These tests fail when a keyword
is added to one place and not the others, or is given and then dropped on its way in.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest

from aether import Aether, Message, ProviderConfig
from aether._call import CallOptions
from aether.errors import ConfigurationError
from aether.extensions.llm.fake import FakeProvider
from aether.llm.ask import ask
from aether.memory.session import Session

# Each entry, and whether it takes output_type.
ENTRIES: list[tuple[Callable[..., Any], bool]] = [
    (Aether.ask, True),
    (Aether.complete, True),
    (Aether.stream, False),
    (Aether.stream_text, False),
    (Aether.stream_output, True),
    (Session.ask, True),
    (Session.stream, False),
    (Session.stream_text, False),
    (ask, True),
]
# What an entry takes besides the call's keywords.
NOT_OPTIONS = {"self", "prompt", "question", "provider", "events"}


def _name(entry: Callable[..., Any]) -> str:
    return entry.__qualname__


@pytest.mark.parametrize(("entry", "typed"), ENTRIES, ids=[_name(e) for e, _ in ENTRIES])
def test_every_entry_spells_out_exactly_the_options(entry: Callable[..., Any], typed: bool) -> None:
    parameters = inspect.signature(entry).parameters
    keywords = {name for name in parameters if name not in NOT_OPTIONS}
    expected = set(CallOptions._fields) - (set() if typed else {"output_type"})
    assert keywords == expected
    for name in keywords:
        assert parameters[name].kind is inspect.Parameter.KEYWORD_ONLY
        if not (entry is Aether.stream_output and name == "output_type"):
            assert parameters[name].default is None  # None is "not given" to CallOptions


class _Gathered(Exception):
    """Stops a call once its options are gathered."""

    def __init__(self, call: CallOptions) -> None:
        super().__init__()
        self.call = call


def _given(typed: bool) -> dict[str, Any]:
    """A value for each keyword that differs from its default (None)."""
    given: dict[str, Any] = {
        "tools": [],
        "model": "m-1",
        "temperature": 0.25,
        "max_tokens": 7,
        "stop": "END",
        "tool_choice": "none",
        "allowed_tools": [],
        "max_tool_iterations": 3,
        "tool_timeout": 2.5,
        "settings": {"seed": 1},
    }
    if typed:
        given["output_type"] = int
    return given


async def _run(entry: Callable[..., Any], given: dict[str, Any]) -> None:
    client = Aether(FakeProvider(canned_response="1"))
    if entry is ask:
        await ask("hi", client.provider, **given)
        return
    owner: object = client.session("s") if entry.__qualname__.startswith("Session.") else client
    result = getattr(owner, entry.__name__)("hi", **given)
    if inspect.isasyncgen(result):
        async for _ in result:
            pass
    else:
        await result


@pytest.mark.parametrize(("entry", "typed"), ENTRIES, ids=[_name(e) for e, _ in ENTRIES])
async def test_every_keyword_given_to_an_entry_reaches_the_call(
    entry: Callable[..., Any], typed: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    def gathered(self: Aether, prompt: object, call: CallOptions, *rest: object) -> Any:
        raise _Gathered(call)

    # Where each entry hands its call over: the answer, the chunks, or (typed streams) the
    # request itself.
    for name in ("_completion", "_chunks", "_request"):
        monkeypatch.setattr(Aether, name, gathered)
    given = _given(typed)
    with pytest.raises(_Gathered) as caught:
        await _run(entry, given)
    assert caught.value.call == CallOptions(**given)


async def test_a_plain_prompt_makes_the_request_a_message_list_makes() -> None:
    fake = FakeProvider(canned_response="ok")
    client = Aether(fake)
    await client.ask("hi")
    await client.ask([Message(role="user", content="hi")])
    await client.ask("hi", model="m-2")
    await client.ask([Message(role="user", content="hi")], model="m-2")
    plain, listed, plain_model, listed_model = (r.model_dump() for r in fake.calls)
    assert plain == listed
    assert plain_model == listed_model
    assert plain_model["model"] == "m-2"


async def test_a_plain_prompt_still_gets_the_clients_settings() -> None:
    fake = FakeProvider(canned_response="ok")
    client = Aether(fake)
    client.config = client.config.model_copy(
        update={"settings": ProviderConfig(settings={"seed": 3, "timeout": 30}).settings}
    )
    await client.ask("hi")
    assert fake.calls[0].seed == 3


@pytest.mark.parametrize("entry", ["stream", "stream_text"])
async def test_a_bad_stream_is_refused_when_first_read_not_when_made(entry: str) -> None:
    fake = FakeProvider(canned_response="ok")
    client = Aether(fake)
    session = client.session("s")
    for owner in (client, session):
        stream = getattr(owner, entry)("hi", settings={"temprature": 1})
        with pytest.raises(ConfigurationError, match="temprature"):
            async for _ in stream:
                pass
    assert fake.calls == []
    assert await session.ask("again") == "ok"  # the session's lock was given back
