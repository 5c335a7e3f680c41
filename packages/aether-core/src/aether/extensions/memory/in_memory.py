"""``InMemorySessionStore``: the default store, a dict of turns in this process.

Shared between clients by passing the same instance (``Aether(memory_store=store)``); gone
when the process exits. It implements :class:`~aether.memory.AppendableSessionStore`, so an
appended turn costs the same whatever the history length, and
:class:`~aether.memory.ListableSessionStore`.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from aether.llm.contracts import Message
from aether.memory.turns import check_limit, newest_turns, split_turns, validate_turn

__all__ = ["InMemorySessionStore"]


@dataclass(slots=True)
class _History:
    turns: list[tuple[Message, ...]] = field(default_factory=list)
    turn_ids: set[str] = field(default_factory=set)


def _copy(message: Message) -> Message:
    # Strings are immutable; only tool calls (and their argument dicts) need a deep copy.
    if message.tool_calls:
        return message.model_copy(deep=True)
    copied = message.model_copy()
    copied.tool_calls = []  # not shared with the original
    return copied


class InMemorySessionStore:
    """A process-local session store; the default of ``Aether()``.

    Messages are copied on the way in and out, so callers can never change stored history by
    mutating what they passed or got back. Safe to share between clients and threads.
    """

    def __init__(self) -> None:
        # In the order last written (a write moves the session to the end), for list_sessions.
        self._sessions: dict[str, _History] = {}
        # The methods never await while holding it, so a plain lock also covers callers on
        # different threads (several event loops sharing one store).
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"InMemorySessionStore(sessions={len(self._sessions)})"

    async def load(self, session_id: str, *, limit: int | None = None) -> list[Message]:
        """The session's messages, oldest first; with ``limit``, the newest whole turns only."""
        check_limit(limit)
        with self._lock:
            history = self._sessions.get(session_id)
            turns = list(history.turns) if history is not None else []
        return [_copy(message) for message in newest_turns(turns, limit)]

    async def save(self, session_id: str, messages: list[Message]) -> None:
        """Replace the session's history (``[]`` removes the session)."""
        turns = [tuple(_copy(m) for m in turn) for turn in split_turns(messages)]
        with self._lock:
            self._sessions.pop(session_id, None)
            if turns:
                self._sessions[session_id] = _History(turns)

    async def append_turn(self, session_id: str, turn_id: str, messages: Sequence[Message]) -> bool:
        """Append one turn; False (and nothing added) if ``turn_id`` is already stored."""
        validate_turn(messages)
        turn = tuple(_copy(message) for message in messages)
        with self._lock:
            history = self._sessions.get(session_id) or _History()
            if turn_id in history.turn_ids:
                return False
            self._sessions.pop(session_id, None)
            self._sessions[session_id] = history
            history.turns.append(turn)
            history.turn_ids.add(turn_id)
            return True

    async def delete(self, session_id: str) -> None:
        """Forget the session and its turn ids."""
        with self._lock:
            self._sessions.pop(session_id, None)

    async def list_sessions(self, *, limit: int | None = None) -> list[str]:
        """Ids of the sessions holding messages, most recently written first."""
        check_limit(limit)
        with self._lock:
            newest_first = [
                key for key, history in reversed(self._sessions.items()) if history.turns
            ]
        return newest_first if limit is None else newest_first[:limit]

    async def exists(self, session_id: str) -> bool:
        """Whether the session holds at least one message."""
        with self._lock:
            history = self._sessions.get(session_id)
            return history is not None and bool(history.turns)
