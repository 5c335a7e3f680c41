"""What the session store and the cache share: one server, reached from any loop or process.

The connections of a ``redis.asyncio`` client belong to the event loop that opened them, so
an owned client serves one loop: each loop gets its own, and a forked child opens its own
instead of touching its parent's sockets. A ``client=`` the caller passes is used as it is
(its loop is the caller's business) and never closed here. Whatever the client raises comes
out as one :class:`~aether.errors.SessionStoreError` naming the server, its password masked.
"""

from __future__ import annotations

import asyncio
import math
import os
import weakref
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, ClassVar, Generic, TypeVar
from urllib.parse import urlsplit

from redis import exceptions as rx
from redis.asyncio import Redis, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff

from aether.errors import SessionStoreError
from aether_memory_redis._errors import _advice, redact_url, secrets_of, translate

__all__ = ["Connected", "check_seconds", "check_url", "ttl_ms"]

T = TypeVar("T")
B = TypeVar("B")  # what a subclass's calls receive: the client, or the client and its scripts
_Self = TypeVar("_Self", bound="Connected[Any]")

_SCHEMES = ("redis", "rediss", "unix")


class Connected(Generic[B]):
    """Base of :class:`RedisSessionStore` and :class:`RedisCache`: their connections and lifecycle.

    A subclass checks its own arguments, then calls ``super().__init__``; it names itself for
    messages (``_NOUN``, ``_SHORT``), sets the reconnect backoff (``_BACKOFF``), wraps each
    client in what its calls receive (``_bind``, ``_client_of``) and may give its own advice
    for a failure (``_advice``).

    Args:
        url: ``redis://[[user]:password@]host[:port][/db]``, ``rediss://`` or ``unix://``.
        client: A configured ``redis.asyncio`` client instead of ``url``; the caller owns it.
        timeout: Seconds to wait for the server to connect or answer.
        retries: Retries of a command after a lost connection or a timeout.
    """

    _NOUN: ClassVar[str]  # in messages: "Redis session store redis://host:6379/0: ..."
    _SHORT: ClassVar[str]  # "the store was closed"
    _BACKOFF: ClassVar[tuple[float, float]]  # (cap, base) seconds between reconnect attempts

    def __init__(
        self,
        url: str | None,
        client: Redis | RedisCluster | None,
        *,
        timeout: float,
        retries: int,
    ) -> None:
        if (url is None) == (client is None):
            raise ValueError(f"{type(self).__name__} takes exactly one of url= or client=.")
        if url is not None and not isinstance(url, str):
            raise TypeError(f"url must be a str, got {type(url).__name__}.")
        self._timeout = check_seconds("timeout", timeout)
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise ValueError(f"retries must be an integer >= 0, got {retries!r}.")
        self._retries = retries
        self._url = url
        self._where = redact_url(url) if url is not None else f"<{type(client).__name__}>"
        self._secrets = secrets_of(url) if url is not None else ()
        self._closed = False
        # The client made now (no I/O) checks the URL early and serves the first loop.
        self._spare: B | None = self._bind(client if client is not None else self._connect())
        self._given = self._spare if client is not None else None
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, B] = (
            weakref.WeakKeyDictionary()
        )
        self._pid = os.getpid()

    @property
    def url(self) -> str:
        """The server's URL with the password masked (safe to log)."""
        return self._where

    async def check(self) -> None:
        """Ping the server, so a wrong URL or a stopped server shows at start-up.

        Raises:
            SessionStoreError: The server cannot be reached or refused the credentials.
        """
        await self._run("connecting", lambda bound: self._client_of(bound).ping())

    async def aclose(self) -> None:
        """Close the connections opened here (not a ``client=`` given); later calls raise."""
        if self._closed:
            return
        self._closed = True
        if self._given is not None or self._pid != os.getpid():
            return  # the caller's client; or a forked child, which must not close the parent's
        current = asyncio.get_running_loop()
        pools, self._by_loop = list(self._by_loop.items()), weakref.WeakKeyDictionary()
        for loop, bound in pools:
            client = self._client_of(bound)
            if loop is current:
                await client.aclose()
            elif loop.is_running():  # a loop in another thread: close them there
                asyncio.run_coroutine_threadsafe(client.aclose(), loop)
            # A closed loop's connections can no longer be closed; they go with it.

    async def __aenter__(self: _Self) -> _Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # --- for subclasses ----------------------------------------------------------------

    def _bind(self, client: Redis | RedisCluster) -> B:
        """What the calls of ``_run`` receive for ``client``."""
        raise NotImplementedError

    def _client_of(self, bound: B) -> Redis | RedisCluster:
        """The client inside what ``_bind`` made."""
        raise NotImplementedError

    def _advice(self, exc: BaseException) -> str:
        """What to do about ``exc``; the end of the error's message."""
        return _advice(exc, self._timeout)

    async def _run(self, doing: str, call: Callable[[B], Awaitable[T]]) -> T:
        """``call`` on this loop's client; a failure ``doing`` it as a SessionStoreError."""
        bound = self._current()
        try:
            return await call(bound)
        except (rx.RedisError, OSError, asyncio.TimeoutError) as exc:
            advice = self._advice(exc)
            raise translate(
                exc, self._where, doing, secrets=self._secrets, noun=self._NOUN, advice=advice
            ) from exc

    # --- plumbing ----------------------------------------------------------------------

    def _connect(self) -> Redis:
        assert self._url is not None
        check_url(self._url, self._where)
        cap, base = self._BACKOFF
        try:
            return Redis.from_url(
                self._url,
                socket_timeout=self._timeout,
                socket_connect_timeout=self._timeout,
                retry=Retry(ExponentialBackoff(cap=cap, base=base), self._retries),
            )
        except (ValueError, TypeError):
            # The client's message may quote the URL, password included: say it ourselves.
            raise ValueError(
                f"{self._where} is not a Redis URL the client accepts; write it as "
                f"redis://[[user]:password@]host[:port][/db] (percent-encode special "
                f"characters in the password)."
            ) from None

    def _current(self) -> B:
        if self._closed:
            raise SessionStoreError(
                f"Redis {self._NOUN} {self._where}: the {self._SHORT} was closed; create a new "
                f"{type(self).__name__}."
            )
        if self._given is not None:
            return self._given  # the caller's client: its loop is the caller's business
        loop = asyncio.get_running_loop()
        if self._pid != os.getpid():
            # Forked: the inherited connections are the parent's; leave them alone.
            self._by_loop, self._pid, self._spare = weakref.WeakKeyDictionary(), os.getpid(), None
        bound = self._by_loop.get(loop)
        if bound is None:
            bound, self._spare = self._spare or self._bind(self._connect()), None
            self._by_loop[loop] = bound
        return bound


def check_seconds(name: str, value: float, *, zero: bool = False) -> float:
    """``value`` as a float if it is a finite number of seconds (> 0, or >= 0 with ``zero``)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number of seconds, got {value!r}.")
    low_ok = value >= 0 if zero else value > 0
    if not (low_ok and math.isfinite(value)):
        bound = ">= 0" if zero else "> 0"
        raise ValueError(f"{name} must be a finite number of seconds {bound}, got {value!r}.")
    return float(value)


def ttl_ms(ttl: float | None) -> int:
    """``ttl`` seconds as whole milliseconds for ``PX``, at least 1; 0 for None (no expiry)."""
    if ttl is None:
        return 0
    return max(1, math.ceil(check_seconds("ttl", ttl) * 1000))


def check_url(url: str, where: str) -> None:
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
