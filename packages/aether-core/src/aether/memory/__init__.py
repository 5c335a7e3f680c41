"""Sessions: conversations that remember themselves, and the stores that keep them.

    session = client.session("user_alice", system="You are helpful.")
    await session.ask("My name is Alice.")

A store implements :class:`SessionStore` (``load``, ``save``, ``delete``, ``exists``); a
durable one also :class:`AppendableSessionStore` (atomic, idempotent ``append_turn`` and
bounded ``load``), and one that can name its sessions :class:`ListableSessionStore`.
:func:`create_session_store` builds one from a spec such as
``AETHER_SESSION_STORE=sqlite:///var/lib/app/sessions.db``.
"""

from __future__ import annotations

from aether.memory.contracts import AppendableSessionStore, ListableSessionStore, SessionStore
from aether.memory.factory import create_session_store, parse_store_spec
from aether.memory.session import Session
from aether.memory.turns import check_limit, new_turn_id, newest_turns, split_turns, validate_turn

__all__ = [
    "AppendableSessionStore",
    "ListableSessionStore",
    "Session",
    "SessionStore",
    "check_limit",
    "create_session_store",
    "new_turn_id",
    "newest_turns",
    "parse_store_spec",
    "split_turns",
    "validate_turn",
]
