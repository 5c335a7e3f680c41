"""Turn helpers every store shares: validate a turn, split a history into turns, bound it.

They live in core so a third-party store implements the
:class:`~aether.memory.AppendableSessionStore` semantics with the same rules as the built-in
ones instead of re-deriving them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from aether.llm.contracts import Message

__all__ = ["check_limit", "newest_turns", "new_turn_id", "split_turns", "validate_turn"]


def new_turn_id() -> str:
    """A fresh, globally unique turn id."""
    return uuid.uuid4().hex


def check_limit(limit: int | None) -> None:
    """Reject a history bound that is not None or a non-negative integer."""
    if limit is None:
        return
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise ValueError(f"limit must be None or an integer >= 0, got {limit!r}.")


def validate_turn(messages: Sequence[Message]) -> None:
    """Raise :class:`ValueError` unless ``messages`` is a well-formed turn.

    A turn is non-empty, holds only :class:`~aether.llm.contracts.Message` objects, and every
    assistant tool call is answered by a ``tool`` message with its id later in the same turn
    (and every ``tool`` message answers such a call). This is what keeps a stored history
    replayable: providers reject a tool call without its result.
    """
    if not messages:
        raise ValueError("A turn needs at least one message; got an empty sequence.")
    pending: dict[str, str] = {}
    for index, message in enumerate(messages):
        if not isinstance(message, Message):
            raise ValueError(
                f"Turn item {index} is a {type(message).__name__}, not an aether Message."
            )
        if message.role == "tool":
            call_id = message.tool_call_id
            if call_id is None or call_id not in pending:
                raise ValueError(
                    f"Turn message {index} is a tool result for call {call_id!r}, which no "
                    f"earlier assistant message of the turn asked for."
                )
            del pending[call_id]
        for call in message.tool_calls:
            if message.role != "assistant":
                raise ValueError(f"Turn message {index} has tool calls but role {message.role!r}.")
            if call.id in pending:
                raise ValueError(f"Turn message {index} repeats tool call id {call.id!r}.")
            pending[call.id] = call.name
    if pending:
        missing = ", ".join(f"{name} ({call_id})" for call_id, name in pending.items())
        raise ValueError(
            f"The turn has assistant tool calls without their results: {missing}. Store the "
            f"tool results in the same turn, or only the final assistant text."
        )


def split_turns(messages: Sequence[Message]) -> list[list[Message]]:
    """Split a flat history into turns: a new turn starts at each ``user`` message.

    Messages before the first ``user`` message (a system prompt, say) form the first turn.
    """
    turns: list[list[Message]] = []
    for message in messages:
        if not turns or message.role == "user":
            turns.append([message])
        else:
            turns[-1].append(message)
    return turns


def newest_turns(turns: Sequence[Sequence[Message]], limit: int | None) -> list[Message]:
    """The most recent whole turns holding at most ``limit`` messages, flattened, oldest first."""
    check_limit(limit)
    if limit is None:
        return [message for turn in turns for message in turn]
    kept: list[Sequence[Message]] = []
    total = 0
    for turn in reversed(turns):
        if total + len(turn) > limit:
            break
        kept.append(turn)
        total += len(turn)
    return [message for turn in reversed(kept) for message in turn]
