"""A reference third-party store: only the four methods of the spec, no ``append_turn``.

It keeps each session as one JSON document, as a file- or key-value-backed store would, so
what it returns is always fresh objects. The :class:`~aether.memory.SessionStore` contract
makes the store, not the session, responsible for copies: only the store knows whether what
it hands out is shared, and a durable store gets fresh objects for free by decoding.
"""

from __future__ import annotations

from pydantic import TypeAdapter

from aether.llm.contracts import Message

_HISTORY = TypeAdapter(list[Message])


class FourMethodStore:
    """``load``, ``save``, ``delete``, ``exists`` over a dict of JSON-encoded histories."""

    def __init__(self) -> None:
        self.documents: dict[str, bytes] = {}

    def __repr__(self) -> str:
        return f"FourMethodStore(sessions={len(self.documents)})"

    async def load(self, session_id: str) -> list[Message]:
        return self.messages(session_id)

    async def save(self, session_id: str, messages: list[Message]) -> None:
        if messages:
            self.documents[session_id] = _HISTORY.dump_json(messages)
        else:
            self.documents.pop(session_id, None)

    async def delete(self, session_id: str) -> None:
        self.documents.pop(session_id, None)

    async def exists(self, session_id: str) -> bool:
        return session_id in self.documents

    def messages(self, session_id: str) -> list[Message]:
        """What is stored for ``session_id``, decoded (also for assertions)."""
        document = self.documents.get(session_id)
        return [] if document is None else _HISTORY.validate_json(document)
