"""Where a session lives in Redis: three keys sharing one hash tag.

A session ``alice`` under the default prefix is stored as::

    {aether:session:alice}:messages   list of message JSON documents, oldest first
    {aether:session:alice}:turns      list of each turn's message count, oldest first
    {aether:session:alice}:turn_ids   set of the turn ids appended (retries are no-ops)

The braces are a Redis Cluster hash tag: only the part inside them picks the slot, so the
three keys of one session always live on one node and a script may touch them together.
Any session id is safe: the suffixes differ and none ends another, so two sessions can never
share a key, even when an id itself contains braces or colons.

One more key lists the sessions, for ``list_sessions()``::

    aether:session:index                sorted set of session ids, by their last write

It has no hash tag (it lives wherever its name hashes to) and no brace, so it never equals a
session's key.
"""

from __future__ import annotations

__all__ = ["DEFAULT_PREFIX", "check_prefix", "index_key", "session_keys"]

DEFAULT_PREFIX = "aether:session"
"""The key prefix when none is given."""

_SUFFIXES = (":messages", ":turns", ":turn_ids")


def check_prefix(prefix: str) -> str:
    """Return ``prefix`` if it can start a hash tag, else raise :class:`ValueError`."""
    if not isinstance(prefix, str) or not prefix:
        raise ValueError(f"The Redis key prefix must be a non-empty string, got {prefix!r}.")
    if "{" in prefix or "}" in prefix:
        raise ValueError(
            f"The Redis key prefix must not contain braces (the store adds the hash tag "
            f"itself), got {prefix!r}."
        )
    return prefix


def session_keys(prefix: str, session_id: str) -> list[str]:
    """The message, turn-size and turn-id keys of one session, in the scripts' order."""
    if not isinstance(session_id, str):
        raise TypeError(f"session_id must be a str, got {type(session_id).__name__}.")
    tag = f"{{{prefix}:{session_id}}}"
    return [tag + suffix for suffix in _SUFFIXES]


def index_key(prefix: str) -> str:
    """The sorted set naming the sessions under ``prefix``, most recently written last."""
    return f"{prefix}:index"
