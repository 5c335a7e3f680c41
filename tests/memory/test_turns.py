"""The turn helpers stores share: validation, splitting, bounding."""

from __future__ import annotations

import pytest

from aether.llm.contracts import Message, ToolCall
from aether.memory import check_limit, new_turn_id, newest_turns, split_turns, validate_turn


def m(role: str, content: str = "", **kwargs: object) -> Message:
    return Message(role=role, content=content, **kwargs)  # type: ignore[arg-type]


CALL = ToolCall(id="c1", name="add", arguments={"a": 1})


def test_a_complete_tool_turn_is_valid() -> None:
    validate_turn(
        [
            m("user", "q"),
            m("assistant", tool_calls=[CALL]),
            m("tool", "2", tool_call_id="c1", name="add"),
            m("assistant", "2"),
        ]
    )


@pytest.mark.parametrize(
    ("turn", "message"),
    [
        ([], "at least one"),
        ([m("user"), m("assistant", tool_calls=[CALL])], "without their results"),
        ([m("tool", tool_call_id="c1")], "no earlier assistant"),
        ([m("tool")], "no earlier assistant"),
        ([m("user", tool_calls=[CALL])], "role 'user'"),
        ([m("assistant", tool_calls=[CALL, CALL])], "repeats"),
        (["text"], "not an aether Message"),
    ],
)
def test_malformed_turns(turn: list[Message], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_turn(turn)


def test_split_turns_starts_a_turn_at_each_user_message() -> None:
    history = [m("system"), m("user", "1"), m("assistant"), m("user", "2"), m("user", "3")]
    assert split_turns(history) == [
        [history[0]],
        [history[1], history[2]],
        [history[3]],
        [history[4]],
    ]
    assert split_turns([]) == []


def test_newest_turns_keeps_whole_turns() -> None:
    turns = [[m("user", "a"), m("assistant")], [m("user", "b")], [m("user", "c"), m("assistant")]]
    assert newest_turns(turns, None) == [x for t in turns for x in t]
    assert newest_turns(turns, 3) == turns[1] + turns[2]
    assert newest_turns(turns, 1) == []
    assert newest_turns([], 5) == []


@pytest.mark.parametrize("bad", [-1, 1.5, True, "3"])
def test_check_limit_rejects_bad_values(bad: object) -> None:
    with pytest.raises(ValueError):
        check_limit(bad)  # type: ignore[arg-type]


def test_turn_ids_are_unique() -> None:
    assert len({new_turn_id() for _ in range(1000)}) == 1000
