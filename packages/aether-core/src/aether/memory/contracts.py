"""The session-store contracts: what a store must do, and what a durable store adds.

Every store implements :class:`SessionStore`, the four methods of the original spec. A store
that can append one whole turn atomically also implements :class:`AppendableSessionStore`;
:class:`~aether.memory.Session` detects it at run time and uses it, so a store written against
the four methods alone keeps working unchanged (its turns are saved with ``load`` + ``save``
under the session's lock). A store that can name its sessions also implements
:class:`ListableSessionStore` (``aether logs`` uses it); it is optional in the same way.

A *turn* is what one ``session.ask()`` adds: the new input (usually one ``user`` message) and
the final ``assistant`` answer. Tool-loop messages never reach a store through a session.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from aether.llm.contracts import Message

__all__ = ["AppendableSessionStore", "ListableSessionStore", "SessionStore"]


@runtime_checkable
class SessionStore(Protocol):
    """Where sessions keep their conversations, keyed by session id.

    Semantics every store follows (the conformance suite in :mod:`aether.testing.stores`
    checks them):

    * ``load`` of an unknown session is ``[]``, never an error.
    * ``save`` replaces the whole history of the session; ``load`` then returns messages equal
      to the saved ones, in order (tool calls, their ids, unicode and long content included).
    * Returned lists and messages are the caller's: mutating them never changes the store, and
      mutating a list after passing it to ``save`` does not either. Copying is the store's job
      (only it knows whether what it hands out is shared); a session copies only the new turn.
    * ``exists`` is True while the session holds at least one message; saving ``[]`` or
      ``delete`` makes it False. ``delete`` of an unknown session does nothing.
    * Failures raise :class:`~aether.errors.SessionStoreError` naming what failed and what to
      do; a failed ``save`` leaves the previous history in place.
    """

    async def load(self, session_id: str) -> list[Message]:
        """The session's messages, oldest first (``[]`` when there are none)."""
        ...

    async def save(self, session_id: str, messages: list[Message]) -> None:
        """Replace the session's history with ``messages``."""
        ...

    async def delete(self, session_id: str) -> None:
        """Forget the session (its messages and the turn ids it remembered)."""
        ...

    async def exists(self, session_id: str) -> bool:
        """Whether the session holds at least one message."""
        ...


@runtime_checkable
class AppendableSessionStore(SessionStore, Protocol):
    """A store that appends one whole turn atomically, with bounded loads.

    What it adds to :class:`SessionStore`:

    * ``append_turn(session_id, turn_id, messages)`` adds the turn's messages after the
      existing history, all or nothing: a reader sees either none of them or all of them,
      including after a crash or a cancelled call. Its cost does not grow with the length of
      the history (no read-modify-write of the whole conversation).
    * ``turn_id`` makes a retried append idempotent: if the session already holds a turn with
      that id, nothing is added and the call returns False (the content is not compared).
      Turn ids are scoped to one session and forgotten by ``delete`` and ``save``.
    * ``append_turn`` rejects a malformed turn with :class:`ValueError` before storing
      anything (see :func:`aether.memory.validate_turn`): an empty turn, or an assistant
      tool call without its tool result.
    * ``load(session_id, limit=n)`` returns the most recent *whole* turns holding at most ``n``
      messages together, oldest first; it never starts in the middle of a turn, so it may
      return fewer than ``n`` messages, or none when the newest turn alone is longer.
      ``limit=None`` loads everything; a negative limit is a :class:`ValueError`. Messages
      written by ``save`` count as turns split before each ``user`` message
      (:func:`aether.memory.split_turns`).
    * A cancelled call either completed or left nothing behind, and never affects another
      session.
    """

    async def load(self, session_id: str, *, limit: int | None = None) -> list[Message]:
        """The session's messages, oldest first; with ``limit``, the newest whole turns only."""
        ...

    async def append_turn(self, session_id: str, turn_id: str, messages: Sequence[Message]) -> bool:
        """Append one turn atomically; False if ``turn_id`` was already stored (a retry)."""
        ...


@runtime_checkable
class ListableSessionStore(SessionStore, Protocol):
    """A store that can list the sessions it holds, most recently written first.

    Optional, detected at run time like :class:`AppendableSessionStore`: tools that browse
    stored conversations (``aether logs``) use it when a store has it and say so when not.

    * ``list_sessions()`` returns the ids of the sessions holding at least one message, the
      one written to most recently (a turn appended, or a history saved) first.
    * ``limit=n`` returns only the first ``n`` of them; ``limit=None`` all; a negative limit
      is a :class:`ValueError`.
    """

    async def list_sessions(self, *, limit: int | None = None) -> list[str]:
        """Ids of the sessions holding messages, most recently written first."""
        ...
