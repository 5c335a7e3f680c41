"""Redis failures → :class:`~aether.errors.SessionStoreError`, and URLs safe to show.

Every message names the server (its URL with the password masked), what was being done and
what to check. The password never appears: not in a message, not in a ``repr``.
"""

from __future__ import annotations

import asyncio
from urllib.parse import unquote, urlsplit

from redis import exceptions as rx

from aether.errors import SessionStoreError

__all__ = ["redact_url", "secrets_of", "translate"]

_MASK = "***"


def redact_url(url: str) -> str:
    """``url`` with its password (if any) replaced by ``***``; the rest is kept for diagnosis."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        # Unparseable: show only the scheme-ish start, which cannot hold a password.
        return url.split("://", 1)[0] + "://<unparseable>" if "://" in url else "<unparseable>"
    if password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{user}:{_MASK}@{host}").geturl()


def secrets_of(url: str) -> tuple[str, ...]:
    """The password of ``url`` as written and decoded, to scrub from texts we did not write."""
    try:
        password = urlsplit(url).password
    except ValueError:
        return ()
    if not password:
        return ()
    return tuple({password, unquote(password)})


def _scrub(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        text = text.replace(secret, _MASK)
    return text


_CHECK_SERVER = (
    "check that the Redis server is running and reachable at that address, and that the URL "
    "is right (RedisSessionStore(url) or AETHER_SESSION_STORE=redis://host:port/db)"
)


def _advice(exc: BaseException, timeout: float | None, check_server: str = _CHECK_SERVER) -> str:
    """What to do about ``exc``; ``check_server`` says where the address is set."""
    if isinstance(exc, rx.AuthenticationError):
        return "the server refused the credentials; check the user name and password in the URL"
    if isinstance(exc, rx.NoPermissionError) or str(exc).startswith("NOPERM"):
        return (
            "the Redis user lacks a permission the store needs (EVALSHA, SCRIPT LOAD, LRANGE, "
            "EXISTS, DEL); grant them in the server's ACL"
        )
    if isinstance(exc, rx.BusyLoadingError):
        return "the server is still loading its data after a restart; retry in a moment"
    if isinstance(exc, rx.TimeoutError | asyncio.TimeoutError | TimeoutError):
        waited = "" if timeout is None else f" after {timeout:g} s"
        return (
            f"the server did not answer{waited}; it may be overloaded or unreachable: "
            f"{check_server}, or raise timeout="
        )
    if isinstance(exc, rx.ConnectionError | OSError):
        return check_server
    if isinstance(exc, rx.ReadOnlyError):
        return "the URL points at a read-only replica; point the store at the primary"
    if isinstance(exc, rx.OutOfMemoryError):
        return (
            "the server reached its maxmemory limit; raise maxmemory, set a TTL on sessions, "
            "or free memory (the failed write stored nothing)"
        )
    text = str(exc)
    if text.startswith("WRONGTYPE"):
        return (
            "another application uses these keys; give this store its own prefix= (the key "
            "prefix) or database number in the URL"
        )
    if text.startswith("MISCONF"):
        return (
            "the server cannot persist its data (see its log, often a full or read-only disk) "
            "and refuses writes; fix the server's disk"
        )
    if text.startswith(("CROSSSLOT", "MOVED", "ASK", "CLUSTERDOWN")):
        return (
            "this is a Redis Cluster; connect through a cluster-aware client, e.g. "
            "RedisSessionStore(client=redis.asyncio.RedisCluster(...))"
        )
    return "see the cause for the Redis server's own report"


def translate(
    exc: BaseException,
    where: str,
    doing: str,
    *,
    secrets: tuple[str, ...] = (),
    timeout: float | None = None,
    noun: str = "session store",
    advice: str | None = None,
) -> SessionStoreError:
    """The :class:`SessionStoreError` for ``exc`` raised while ``doing`` on server ``where``.

    Args:
        exc: What the client raised.
        where: The server, already redacted (see :func:`redact_url`).
        doing: What was being done, e.g. ``"appending to session 'alice'"``.
        secrets: Strings to mask if the client's own text happens to contain them.
        timeout: The configured timeout, named in the advice when the server was too slow.
        noun: What failed, after "Redis" (``"cache"``).
        advice: What to do, where the session store's advice would not fit.
    """
    detail = _scrub(str(exc) or type(exc).__name__, secrets)
    if advice is None:
        advice = _advice(exc, timeout)
    return SessionStoreError(f"Redis {noun} {where}: {doing} failed ({detail}): {advice}.")
