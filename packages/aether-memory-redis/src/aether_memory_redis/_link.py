"""``RedisLink``: how the fleet layers reach Redis, and what they do when they cannot.

The shared circuit breaker and rate limiter keep their state in Redis so every process that
uses the same server and key sees one state. An LLM call must never wait long on Redis, nor
fail because of it, so:

* every script runs with a short ``timeout`` (connect and reply) and is not retried after a
  timeout (a script that may have run is not run twice); a dropped connection is retried
  once, which is what a server restart looks like to a pooled connection;
* the first failure logs one WARNING (the URL's password masked), and for ``recheck``
  seconds the link answers "unavailable" (``None``) at once, without touching the network,
  while the layers use their own per-process state;
* the first call after that tries Redis again; when it answers, an INFO line says the state
  is shared again.

Connections belong to the event loop that opened them, so each loop gets its own client (as
in :class:`~aether_memory_redis.RedisSessionStore`), and a forked child opens its own.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

from redis import exceptions as rx
from redis.asyncio import Redis, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript

from aether_memory_redis._connection import check_seconds, check_url
from aether_memory_redis._errors import redact_url, secrets_of

__all__ = ["RedisLink"]

logger = logging.getLogger("aether.redis")


class _Bound:
    """A client and its registered scripts; an owned one serves a single event loop."""

    __slots__ = ("client", "scripts")

    def __init__(self, client: Redis | RedisCluster, sources: Mapping[str, str]) -> None:
        self.client = client
        self.scripts: dict[str, AsyncScript] = {
            name: client.register_script(source) for name, source in sources.items()
        }


class RedisLink:
    """Runs named Lua scripts on one Redis server; ``None`` instead of an error when it is down.

    Args:
        url: ``redis://[[user]:password@]host[:port][/db]``, ``rediss://`` or ``unix://``.
        client: A configured ``redis.asyncio`` client instead of ``url``; the caller owns it.
        scripts: The Lua sources this link runs, by name.
        purpose: What the state is for, in the log lines (``"circuit breaker"``).
        timeout: Seconds to wait for the server to connect or answer.
        recheck: Seconds between attempts to reach a server that failed.
    """

    __slots__ = (
        "_by_loop",
        "_down_until",
        "_given",
        "_pid",
        "_secrets",
        "_sources",
        "_spare",
        "_url",
        "_users",
        "outages",
        "purpose",
        "recheck",
        "timeout",
        "where",
    )

    def __init__(
        self,
        url: str | None,
        *,
        client: Redis | RedisCluster | None,
        scripts: Mapping[str, str],
        purpose: str,
        timeout: float,
        recheck: float,
    ) -> None:
        if (url is None) == (client is None):
            raise ValueError(f"The Redis {purpose} takes exactly one of url= or client=.")
        if url is not None and not isinstance(url, str):
            raise TypeError(f"url must be a str, got {type(url).__name__}.")
        self.purpose = purpose
        self.timeout = check_seconds("timeout", timeout)
        self.recheck = check_seconds("recheck", recheck, zero=True)
        self.where = redact_url(url) if url is not None else f"<{type(client).__name__}>"
        self._url = url
        self._secrets = secrets_of(url) if url is not None else ()
        self._sources = dict(scripts)
        # Building the first client now (no I/O) rejects a bad URL at construction.
        self._spare: _Bound | None = _Bound(
            client if client is not None else self._connect(), self._sources
        )
        self._given = self._spare if client is not None else None
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Bound] = (
            weakref.WeakKeyDictionary()
        )
        self._pid = os.getpid()
        self._down_until: float | None = None
        self._users = 0
        self.outages = 0
        """How many times the server became unavailable; a layer's local state is per outage."""

    def shares_server(self, other: RedisLink) -> bool:
        """Whether ``other`` surely reaches the same server and database, and not a Cluster.

        Only then may one script touch both links' keys. Told by the configuration, without
        I/O: the same URL, or the same ``client=`` object. Two URLs naming one server in
        different words (``localhost`` and ``127.0.0.1``) are not recognised.
        """
        if self._given is not None:
            same = other._given is not None and self._given.client is other._given.client
            return same and not isinstance(self._given.client, RedisCluster)
        return other._given is None and self._url == other._url

    @property
    def available(self) -> bool:
        """False while a failure is recent (calls then use local state without trying Redis)."""
        return self._down_until is None

    async def run(self, name: str, keys: Sequence[str], args: Sequence[str | int]) -> Any:
        """The reply of script ``name``, or None when Redis is unavailable (logged once)."""
        down_until = self._down_until
        if down_until is not None and time.monotonic() < down_until:
            return None
        try:
            reply = await self._current().scripts[name](keys=keys, args=args)
        except (rx.RedisError, OSError, asyncio.TimeoutError) as exc:
            self._failed(exc)
            return None
        if down_until is not None:
            self._down_until = None
            logger.info(
                "Redis at %s answers again: the %s state is shared across processes again.",
                self.where,
                self.purpose,
            )
        return reply

    def attach(self) -> None:
        """Count one more layer using this link (each layer's ``aclose`` detaches it)."""
        self._users += 1

    async def detach(self) -> None:
        """One layer is done with the link; the last one closes its connections."""
        self._users = max(0, self._users - 1)
        if self._users == 0:
            await self.aclose()

    async def aclose(self) -> None:
        """Close the connections this link opened (never a ``client=`` it was given).

        The link stays usable: a later call opens a new connection.
        """
        if self._given is not None or self._pid != os.getpid():
            return  # the caller's client; or a forked child, which must not close the parent's
        current = asyncio.get_running_loop()
        pools, self._by_loop = list(self._by_loop.items()), weakref.WeakKeyDictionary()
        for loop, bound in pools:
            if loop is current:
                await bound.client.aclose()
            elif loop.is_running():  # a loop in another thread: close them there
                asyncio.run_coroutine_threadsafe(bound.client.aclose(), loop)

    # --- plumbing ----------------------------------------------------------------------

    def _failed(self, exc: BaseException) -> None:
        first = self._down_until is None
        self._down_until = time.monotonic() + self.recheck
        if not first:
            return
        self.outages += 1
        detail = str(exc) or type(exc).__name__
        for secret in self._secrets:
            detail = detail.replace(secret, "***")
        logger.warning(
            "Redis at %s is unavailable to the %s (%s: %s); %s. Until it answers, each process "
            "keeps its own %s state, so limits hold per process rather than across the fleet; "
            "calls are not held up. Trying Redis again in %gs.",
            self.where,
            self.purpose,
            type(exc).__name__,
            detail,
            _advice(exc),
            self.purpose,
            self.recheck,
        )

    def _connect(self) -> Redis:
        assert self._url is not None
        check_url(self._url, self.where)
        try:
            return Redis.from_url(
                self._url,
                socket_timeout=self.timeout,
                socket_connect_timeout=self.timeout,
                # One retry, after a dropped connection only: a pooled connection to a server
                # that restarted fails once. A timeout is not retried: the script may have run.
                retry=Retry(NoBackoff(), 1, supported_errors=(rx.ConnectionError,)),
            )
        except (ValueError, TypeError):
            # The client's message may quote the URL, password included: say it ourselves.
            raise ValueError(
                f"{self.where} is not a Redis URL the client accepts; write it as "
                f"redis://[[user]:password@]host[:port][/db] (percent-encode special "
                f"characters in the password)."
            ) from None

    def _current(self) -> _Bound:
        if self._given is not None:
            return self._given
        loop = asyncio.get_running_loop()
        if self._pid != os.getpid():
            # Forked: the inherited connections are the parent's; leave them alone.
            self._by_loop, self._pid, self._spare = weakref.WeakKeyDictionary(), os.getpid(), None
        bound = self._by_loop.get(loop)
        if bound is None:
            bound, self._spare = self._spare or _Bound(self._connect(), self._sources), None
            self._by_loop[loop] = bound
        return bound


def _advice(exc: BaseException) -> str:
    text = str(exc)
    if isinstance(exc, rx.AuthenticationError):
        return "the server refused the credentials; check the user name and password in the URL"
    if isinstance(exc, rx.NoPermissionError) or text.startswith("NOPERM"):
        return "the Redis user needs EVALSHA and SCRIPT LOAD; grant them in the server's ACL"
    if text.startswith("WRONGTYPE"):
        return "another application uses this key; give these layers their own prefix="
    return "check that the Redis server is running and reachable at that address"
