"""``RedisSessionStore``: conversations in Redis, shared by every process that reaches it.

Each write is one Lua script (see ``_scripts``), so it is atomic on the server whatever
happens to the client: a connection lost or a task cancelled before the script arrives
stores nothing, after it arrives stores the whole turn. A retried append is recognised by its
turn id, which is also what makes the client's own reconnect-and-retry safe.
"""

from __future__ import annotations

import asyncio
import math
import os
import weakref
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urlsplit

from pydantic import ValidationError
from redis import exceptions as rx
from redis.asyncio import Redis, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.commands.core import AsyncScript

from aether.errors import SessionStoreError
from aether.llm.contracts import Message
from aether.memory.turns import check_limit, split_turns, validate_turn
from aether_memory_redis import _scripts
from aether_memory_redis._errors import redact_url, secrets_of, translate
from aether_memory_redis._keys import DEFAULT_PREFIX, check_prefix, session_keys

__all__ = ["RedisSessionStore"]

T = TypeVar("T")

_SCHEMES = ("redis", "rediss", "unix")
_BIG_LOAD = 256 * 1024  # bytes of JSON above which decoding moves off the event loop
_MAX_LIMIT = 2**31  # Lua numbers are doubles; no history is longer than this anyway


@dataclass
class _Bound:
    """A client and its scripts; an owned one serves a single event loop."""

    client: Redis | RedisCluster
    append: AsyncScript
    save: AsyncScript
    load_newest: AsyncScript


class RedisSessionStore:
    """A durable :class:`~aether.memory.AppendableSessionStore` on a Redis server.

    Many processes on many hosts may share one server: each turn is appended by one atomic
    script, so their histories interleave whole turns and never lose one. Building the store
    does no I/O; the connection is opened on first use. Close it with ``await store.aclose()``
    (or ``async with``).

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
        if (url is None) == (client is None):
            raise ValueError("RedisSessionStore takes exactly one of url= or client=.")
        if url is not None and not isinstance(url, str):
            raise TypeError(f"url must be a str, got {type(url).__name__}.")
        self._prefix = check_prefix(prefix)
        self._ttl_ms = _ttl_ms(ttl)
        self._ttl = ttl
        self._timeout = _seconds("timeout", timeout)
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise ValueError(f"retries must be an integer >= 0, got {retries!r}.")
        self._retries = retries
        self._url = url
        self._where = redact_url(url) if url is not None else f"<{type(client).__name__}>"
        self._secrets = secrets_of(url) if url is not None else ()
        self._closed = False
        self._owned = client is None
        # The client made now (no I/O) checks the URL early and serves the first loop; an
        # owned client's connections belong to one event loop, so each loop gets its own.
        self._spare: _Bound | None = self._bind(client if client is not None else self._connect())
        self._given = self._spare if client is not None else None
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Bound] = (
            weakref.WeakKeyDictionary()
        )
        self._pid = os.getpid()

    def __repr__(self) -> str:
        ttl = "" if self._ttl is None else f", ttl={self._ttl!r}"
        return f"RedisSessionStore({self._where!r}, prefix={self._prefix!r}{ttl})"

    @property
    def url(self) -> str:
        """The server's URL with the password masked (safe to log)."""
        return self._where

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
        await self._run(f"saving session {session_id!r}", lambda b: b.save(keys=keys, args=args))

    async def append_turn(self, session_id: str, turn_id: str, messages: Sequence[Message]) -> bool:
        """Append one turn atomically; False (nothing added) if ``turn_id`` is already stored."""
        validate_turn(messages)
        if not isinstance(turn_id, str) or not turn_id:
            raise ValueError(f"turn_id must be a non-empty string, got {turn_id!r}.")
        keys = session_keys(self._prefix, session_id)
        args: list[str | int] = [self._ttl_ms, turn_id]
        args += (message.model_dump_json() for message in messages)
        added = await self._run(
            f"appending to session {session_id!r}", lambda b: b.append(keys=keys, args=args)
        )
        return bool(added)

    async def delete(self, session_id: str) -> None:
        """Forget the session and its turn ids."""
        keys = session_keys(self._prefix, session_id)
        await self._run(f"deleting session {session_id!r}", lambda b: b.client.delete(*keys))

    async def exists(self, session_id: str) -> bool:
        """Whether the session holds at least one message."""
        key = session_keys(self._prefix, session_id)[0]
        found = await self._run(f"checking session {session_id!r}", lambda b: b.client.exists(key))
        return bool(found)

    # --- lifecycle ---------------------------------------------------------------------

    async def check(self) -> None:
        """Ping the server, so a wrong URL or a stopped server shows at start-up.

        Raises:
            SessionStoreError: The server cannot be reached or refused the credentials.
        """
        await self._run("connecting", lambda b: b.client.ping())

    async def aclose(self) -> None:
        """Close this store's connections (not a ``client=`` it was given); later calls raise."""
        if self._closed:
            return
        self._closed = True
        if not self._owned or self._pid != os.getpid():
            return  # a forked child must not close the parent's sockets
        current = asyncio.get_running_loop()
        pools, self._by_loop = list(self._by_loop.items()), weakref.WeakKeyDictionary()
        for loop, bound in pools:
            if loop is current:
                await bound.client.aclose()
            elif loop.is_running():  # a loop in another thread: close them there
                asyncio.run_coroutine_threadsafe(bound.client.aclose(), loop)
            # A closed loop's connections can no longer be closed; they go with it.

    async def __aenter__(self) -> RedisSessionStore:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # --- plumbing ----------------------------------------------------------------------

    def _connect(self) -> Redis:
        assert self._url is not None
        _check_url(self._url, self._where)
        try:
            return Redis.from_url(
                self._url,
                socket_timeout=self._timeout,
                socket_connect_timeout=self._timeout,
                retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), self._retries),
            )
        except (ValueError, TypeError):
            # The client's message may quote the URL, password included: say it ourselves.
            raise ValueError(
                f"{self._where} is not a Redis URL the client accepts; write it as "
                f"redis://[[user]:password@]host[:port][/db] (percent-encode special "
                f"characters in the password)."
            ) from None

    @staticmethod
    def _bind(client: Redis | RedisCluster) -> _Bound:
        return _Bound(
            client=client,
            append=client.register_script(_scripts.APPEND_TURN),
            save=client.register_script(_scripts.SAVE),
            load_newest=client.register_script(_scripts.LOAD_NEWEST),
        )

    def _current(self) -> _Bound:
        if self._closed:
            raise SessionStoreError(
                f"Redis session store {self._where}: the store was closed; create a new "
                f"RedisSessionStore."
            )
        if self._given is not None:
            return self._given  # the caller's client: its loop is the caller's business
        loop = asyncio.get_running_loop()
        if self._pid != os.getpid():
            # Forked: the inherited connections are the parent's; leave them alone.
            self._by_loop, self._pid = weakref.WeakKeyDictionary(), os.getpid()
        bound = self._by_loop.get(loop)
        if bound is None:
            bound, self._spare = self._spare or self._bind(self._connect()), None
            self._by_loop[loop] = bound
        return bound

    async def _run(self, doing: str, call: Callable[[_Bound], Awaitable[T]]) -> T:
        bound = self._current()
        try:
            return await call(bound)
        except (rx.RedisError, OSError, asyncio.TimeoutError) as exc:
            raise translate(
                exc, self._where, doing, secrets=self._secrets, timeout=self._timeout
            ) from exc

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


def _parse(raw: list[Any]) -> list[Message]:
    return [Message.model_validate_json(doc) for doc in raw]


def _check_messages(messages: list[Message]) -> list[Message]:
    for index, message in enumerate(messages):
        if not isinstance(message, Message):
            raise ValueError(
                f"Message {index} is a {type(message).__name__}, not an aether Message."
            )
    return messages


def _seconds(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number of seconds, got {value!r}.")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number of seconds > 0, got {value!r}.")
    return float(value)


def _ttl_ms(ttl: float | None) -> int:
    if ttl is None:
        return 0
    return max(1, math.ceil(_seconds("ttl", ttl) * 1000))


def _check_url(url: str, where: str) -> None:
    """Reject what the client would accept silently or fail on late, without echoing ``url``."""
    hint = "write it as redis://[[user]:password@]host[:port][/db]"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - parsing the port is the check
    except ValueError:
        raise ValueError(f"{where} is not a valid Redis URL; {hint}.") from None
    if parts.scheme not in _SCHEMES:
        raise ValueError(
            f"{where} is not a Redis URL: the scheme must be one of "
            f"{', '.join(s + '://' for s in _SCHEMES)}; {hint}."
        )
    if parts.scheme != "unix":
        db = parts.path.lstrip("/")
        if db and not db.isdigit():
            raise ValueError(
                f"{where}: the database after the host must be a number such as /0; {hint}."
            )
