"""``RedisSessionStore``: conversations in Redis, shared by every process that reaches it.

Each write is one Lua script (see ``_scripts``), so it is atomic on the server whatever
happens to the client: a connection lost or a task cancelled before the script arrives
stores nothing, after it arrives stores the whole turn. A retried append is recognised by its
turn id, which is also what makes the client's own reconnect-and-retry safe.

Every write is also recorded in the index of sessions (``_keys.index_key``), for
``list_sessions()``: by the same script on one server, by a second one just after on a
cluster (where the index lives in a slot of its own). The list filters out what no longer
holds messages, so an entry that outlived its session (an expiry, a delete racing a write on
a cluster) is never listed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

from pydantic import ValidationError
from redis.asyncio import Redis, RedisCluster
from redis.commands.core import AsyncScript

from aether.errors import SessionStoreError
from aether.llm.contracts import Message
from aether.memory.turns import check_limit, split_turns, validate_turn
from aether_memory_redis import _scripts
from aether_memory_redis._connection import Connected, ttl_ms
from aether_memory_redis._keys import DEFAULT_PREFIX, check_prefix, index_key, session_keys

__all__ = ["RedisSessionStore"]

_BIG_LOAD = 256 * 1024  # bytes of JSON above which decoding moves off the event loop
_MAX_LIMIT = 2**31  # Lua numbers are doubles; no history is longer than this anyway
_LIST_PAGE = 256  # index entries read per round trip when listing

_Indexed = Literal["write", "retry", "gone"]


@dataclass
class _Bound:
    """A client and its scripts; an owned one serves a single event loop."""

    client: Redis | RedisCluster
    append: AsyncScript
    save: AsyncScript
    load_newest: AsyncScript
    index: AsyncScript
    one_node: bool
    """Whether every key lives on one server, so a write updates the index in its own script."""


class RedisSessionStore(Connected[_Bound]):
    """A durable :class:`~aether.memory.AppendableSessionStore` on a Redis server.

    Many processes on many hosts may share one server: each turn is appended by one atomic
    script, so their histories interleave whole turns and never lose one. Building the store
    does no I/O; the connection is opened on first use. Close it with ``await store.aclose()``
    (or ``async with``). It is a :class:`~aether.memory.ListableSessionStore` too: every
    write is recorded in an index of sessions by the server's clock, so ``list_sessions()``
    (and ``aether logs``) names the recent ones, whichever host wrote them.

    Args:
        url: ``redis://[[user]:password@]host[:port][/db]``, ``rediss://`` (TLS) or
            ``unix:///path/to/redis.sock``. The password never appears in messages or ``repr``.
        client: An already configured ``redis.asyncio`` client (Sentinel, Cluster, custom TLS)
            instead of ``url``; the caller keeps owning it (``aclose`` leaves it open).
        prefix: Start of every key, so several applications can share one database.
        ttl: Seconds of inactivity after which a session expires; each write restarts the
            clock. None (the default) keeps sessions until deleted.
        timeout: Seconds to wait for the server to connect or answer before failing.
        retries: How often a command is retried after a lost connection or a timeout
            (appends stay exactly-once: a retry of a stored turn is recognised by its id).
    """

    _NOUN = "session store"
    _SHORT = "store"
    _BACKOFF = (1.0, 0.05)

    def __init__(
        self,
        url: str | None = None,
        *,
        client: Redis | RedisCluster | None = None,
        prefix: str = DEFAULT_PREFIX,
        ttl: float | None = None,
        timeout: float = 5.0,
        retries: int = 2,
    ) -> None:
        self._prefix = check_prefix(prefix)
        self._index_key = index_key(self._prefix)
        self._ttl_ms = ttl_ms(ttl)
        self._ttl = ttl
        super().__init__(url, client, timeout=timeout, retries=retries)

    def __repr__(self) -> str:
        ttl = "" if self._ttl is None else f", ttl={self._ttl!r}"
        return f"RedisSessionStore({self._where!r}, prefix={self._prefix!r}{ttl})"

    @property
    def prefix(self) -> str:
        """The start of every key this store writes."""
        return self._prefix

    @property
    def ttl(self) -> float | None:
        """Seconds of inactivity after which a session expires, or None."""
        return self._ttl

    # --- SessionStore ------------------------------------------------------------------

    async def load(self, session_id: str, *, limit: int | None = None) -> list[Message]:
        """The session's messages, oldest first; with ``limit``, the newest whole turns only."""
        check_limit(limit)
        keys = session_keys(self._prefix, session_id)
        if limit == 0:
            return []
        doing = f"loading session {session_id!r}"
        if limit is None:
            raw: list[Any] = await self._run(doing, lambda b: b.client.lrange(keys[0], 0, -1))
        else:
            bound = min(limit, _MAX_LIMIT)
            raw = await self._run(doing, lambda b: b.load_newest(keys=keys, args=[bound]))
        return await self._decode(raw, session_id)

    async def save(self, session_id: str, messages: list[Message]) -> None:
        """Replace the session's history atomically (``[]`` removes the session)."""
        keys = session_keys(self._prefix, session_id)
        turns = split_turns(_check_messages(messages))
        docs = [message.model_dump_json() for turn in turns for message in turn]
        args: list[str | int] = [self._ttl_ms, len(turns), *(len(turn) for turn in turns), *docs]

        action: _Indexed = "write" if turns else "gone"
        await self._run(
            f"saving session {session_id!r}",
            lambda b: self._written(b, b.save, keys, args, session_id, lambda _: action),
        )

    async def append_turn(self, session_id: str, turn_id: str, messages: Sequence[Message]) -> bool:
        """Append one turn atomically; False (nothing added) if ``turn_id`` is already stored."""
        validate_turn(messages)
        if not isinstance(turn_id, str) or not turn_id:
            raise ValueError(f"turn_id must be a non-empty string, got {turn_id!r}.")
        keys = session_keys(self._prefix, session_id)
        args: list[str | int] = [self._ttl_ms, turn_id]
        args += (message.model_dump_json() for message in messages)

        added = await self._run(
            f"appending to session {session_id!r}",
            lambda b: self._written(b, b.append, keys, args, session_id, _appended),
        )
        return bool(added)

    async def delete(self, session_id: str) -> None:
        """Forget the session and its turn ids."""
        keys = session_keys(self._prefix, session_id)

        async def delete(bound: _Bound) -> None:
            if bound.one_node:  # both in one round trip
                async with bound.client.pipeline(transaction=False) as pipe:
                    pipe.delete(*keys)
                    pipe.zrem(self._index_key, session_id)
                    await pipe.execute()
                return
            await bound.client.delete(*keys)
            await self._index(bound, session_id, "gone")

        await self._run(f"deleting session {session_id!r}", delete)

    async def exists(self, session_id: str) -> bool:
        """Whether the session holds at least one message."""
        key = session_keys(self._prefix, session_id)[0]
        found = await self._run(f"checking session {session_id!r}", lambda b: b.client.exists(key))
        return bool(found)

    # --- ListableSessionStore -----------------------------------------------------------

    async def list_sessions(self, *, limit: int | None = None) -> list[str]:
        """Ids of the sessions holding messages, most recently written first.

        Read from the index of sessions, newest first, a page at a time; an entry whose
        session no longer holds messages (expired, or deleted while another host wrote it)
        is skipped. Sessions written before this store kept an index are listed from their
        next write on.
        """
        check_limit(limit)
        if limit == 0:
            return []
        index = self._index_key

        async def listed(bound: _Bound) -> list[str]:
            found: list[str] = []
            seen: set[str] = set()  # a session written meanwhile may move between pages
            start = 0
            while limit is None or len(found) < limit:
                # Members only (no withscores), whatever the client's annotation allows.
                page = cast(
                    "list[bytes | str]",
                    await bound.client.zrevrange(index, start, start + _LIST_PAGE - 1),
                )
                if not page:
                    break
                start += len(page)
                ids = [_text(raw) for raw in page]
                async with bound.client.pipeline(transaction=False) as pipe:
                    for session_id in ids:
                        pipe.exists(session_keys(self._prefix, session_id)[0])
                    held = await pipe.execute()
                for session_id, messages in zip(ids, held, strict=True):
                    if messages and session_id not in seen:
                        seen.add(session_id)
                        found.append(session_id)
            return found if limit is None else found[:limit]

        return await self._run("listing sessions", listed)

    async def _written(
        self,
        bound: _Bound,
        script: AsyncScript,
        keys: list[str],
        args: list[str | int],
        session_id: str,
        action: Callable[[Any], _Indexed],
    ) -> Any:
        """Run a writing ``script`` and record the write in the index of sessions.

        On one server the script does both (the index key and the session id go last); on a
        cluster, where the index lives in a slot of its own, the ``INDEX`` script records
        ``action(result)`` just after.
        """
        if bound.one_node:
            return await script(keys=[*keys, self._index_key], args=[*args, session_id])
        result = await script(keys=keys, args=args)
        await self._index(bound, session_id, action(result))
        return result

    async def _index(self, bound: _Bound, session_id: str, action: _Indexed) -> None:
        """The index's own update, for a cluster client (see ``_Bound.one_node``)."""
        await bound.index(keys=[self._index_key], args=[session_id, action, self._ttl_ms])

    # --- Connected -------------------------------------------------------------------

    def _bind(self, client: Redis | RedisCluster) -> _Bound:
        return _Bound(
            client=client,
            append=client.register_script(_scripts.APPEND_TURN),
            save=client.register_script(_scripts.SAVE),
            load_newest=client.register_script(_scripts.LOAD_NEWEST),
            index=client.register_script(_scripts.INDEX),
            one_node=not isinstance(client, RedisCluster),
        )

    def _client_of(self, bound: _Bound) -> Redis | RedisCluster:
        return bound.client

    async def _decode(self, raw: list[Any], session_id: str) -> list[Message]:
        try:
            if sum(len(doc) for doc in raw) > _BIG_LOAD:
                return await asyncio.to_thread(_parse, raw)
            return _parse(raw)
        except ValidationError as exc:
            raise SessionStoreError(
                f"Redis session store {self._where}: a stored message of session "
                f"{session_id!r} is not a valid Message ({exc.error_count()} errors); it was "
                f"probably written by a newer aether-core or by another application using the "
                f"prefix {self._prefix!r}. Upgrade aether-core, or delete the session."
            ) from exc


def _appended(added: Any) -> _Indexed:
    # A retried append stores nothing, but its first try may have lost the index update.
    return "write" if added else "retry"


def _text(raw: bytes | str) -> str:
    # A client made with decode_responses=True gives str; the store's own gives bytes.
    return raw if isinstance(raw, str) else raw.decode()


def _parse(raw: list[Any]) -> list[Message]:
    return [Message.model_validate_json(doc) for doc in raw]


def _check_messages(messages: list[Message]) -> list[Message]:
    for index, message in enumerate(messages):
        if not isinstance(message, Message):
            raise ValueError(
                f"Message {index} is a {type(message).__name__}, not an aether Message."
            )
    return messages
