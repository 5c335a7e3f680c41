"""The response cache: a provider layer that answers a request seen before without a call.

Off by default; ``Aether(with_cache=True)`` or ``ProviderConfig(cache=CacheConfig(...))``
turns it on (see :mod:`aether.extensions.llm.cache_config` for the backends, ``memory``,
``sqlite`` and ``redis``, and the ``AETHER_CACHE`` variable). The builder puts it outermost,
outside cost tracking, so an answer from the cache is never billed: cost tracking counts it
in ``usage.cache_hits`` and prices what it saved in ``usage.cost_saved_usd``.

**The key** is a SHA-256 of the provider (its name and endpoint) and every
:class:`~aether.llm.contracts.LLMRequest` field that determines the answer: ``messages`` (with
their parts), ``model``, ``temperature``, ``default_temperature``, ``max_tokens``, ``stop``,
``top_p``, ``seed``, ``presence_penalty``, ``frequency_penalty``, ``reasoning``, ``cache``
(prompt-caching controls change billing and sometimes the model route), ``provider_options``
(they reach the request body), ``tools``, ``tool_choice``, ``output`` (the typed answer's
schema) and ``allowed_tools``. Left out: ``extra_headers`` (transport metadata such as
tracing ids; including them would make every traced call a miss). Timeouts are call
options, never part of the request, so they cannot split the key.

**What is cached.** A whole answer once it has come; a stream once it has run to its end,
replayed chunk by chunk (a stream that fails, is cancelled or is left early is never
stored). Identical concurrent ``complete`` calls in one process make one provider call
(single-flight); the others share its answer, and count as hits. An entry that no longer
decodes (corrupt, truncated, from another version) is a miss, and is dropped; a backend that
fails is a miss too, never a failed call (one WARNING on ``aether.cache``). The cache answers
model calls only: in a tool loop, tools still run.

**Which requests.** Every one, by default: a cache is turned on for tests, evaluations and
repeated prompts, where a repeat is expected to be served. ``deterministic_only=True``
caches only requests whose temperature is 0 or that set a seed, for applications that want
a sampled answer to stay fresh. Per call, ``ask(..., cache=False)`` neither reads nor writes
the cache and ``cache=True`` caches even where ``deterministic_only`` would not. That
``cache=`` keyword is this cache; ``CallSettings(cache=...)`` is the provider's *prompt*
caching, which the provider bills and this layer only keys on.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from typing import Protocol, TypeVar, runtime_checkable

from pydantic import TypeAdapter

from aether import config
from aether.extensions.llm._cache_call import CACHE_SWITCH, mark_served, served_from_cache
from aether.extensions.llm._layer import ProviderLayer, aclosing_stream
from aether.llm.contracts import LLMProvider, LLMRequest, LLMResponse, LLMStreamChunk

__all__ = [
    "KEY_EXCLUDED_FIELDS",
    "CacheBackend",
    "CachingProvider",
    "HitListener",
    "MemoryCache",
    "cache_key",
    "is_deterministic",
    "served_from_cache",
]

logger = logging.getLogger("aether.cache")

T = TypeVar("T")

KEY_EXCLUDED_FIELDS: frozenset[str] = frozenset({"extra_headers"})


def cache_key(provider: str, request: LLMRequest) -> str:
    """A stable hex digest naming the answer ``provider`` gives to ``request``.

    Stable across processes and Python versions: the request is dumped to JSON with sorted keys.

    Args:
        provider: Names the provider, so two never share an entry (the builder passes its
            registered name and its endpoint).
        request: The request; fields in :data:`KEY_EXCLUDED_FIELDS` do not count.
    """
    body = request.model_dump(mode="json", exclude=set(KEY_EXCLUDED_FIELDS))
    text = json.dumps(
        {"provider": provider, "request": body},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@runtime_checkable
class CacheBackend(Protocol):
    """Where a response cache keeps its entries: opaque bytes under a hex key.

    Backends are plugins of kind ``cache`` (``memory`` in core, ``sqlite`` and ``redis`` in
    their packages). A backend never interprets a value; the cache layer decodes it and treats
    anything that does not decode as a miss. ``aether.testing`` has a conformance suite.
    """

    async def get(self, key: str) -> bytes | None:
        """The value stored under ``key``, or None when absent or expired."""
        ...

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        """Store ``value`` under ``key``; ``ttl`` seconds overrides the backend's default."""
        ...

    async def delete(self, key: str) -> None:
        """Forget ``key``; an absent key is not an error."""
        ...


class MemoryCache:
    """A bounded LRU of bytes with a per-entry time to live, for one process.

    Args:
        max_entries: Entries kept; the least recently used is evicted past it.
        ttl: Default seconds an entry lives; None: until evicted.
        clock: Monotonic seconds; injectable so expiry is testable without sleeping.
    """

    def __init__(
        self,
        max_entries: int = 1024,
        ttl: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, got {max_entries}.")
        if ttl is not None and ttl <= 0:
            raise ValueError(f"ttl must be positive seconds or None (no expiry), got {ttl}.")
        self.max_entries = max_entries
        self.ttl = ttl
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float | None, bytes]] = OrderedDict()

    def __repr__(self) -> str:
        return f"MemoryCache(max_entries={self.max_entries}, ttl={self.ttl})"

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key: str) -> bytes | None:
        """The stored value, or None when absent or expired (an expired entry is dropped)."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires_at, value = entry
        if expires_at is not None and self._clock() >= expires_at:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        """Store ``value``; ``ttl`` overrides the default for this entry."""
        lifetime = self.ttl if ttl is None else ttl
        expires_at = None if lifetime is None else self._clock() + lifetime
        self._entries[key] = (expires_at, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    async def delete(self, key: str) -> None:
        """Forget ``key``; absent keys are fine."""
        self._entries.pop(key, None)


HitListener = Callable[[LLMRequest, "LLMResponse | LLMStreamChunk"], None]
"""Told of each answer the cache gives: the request, and the response (or the chunk of a
replayed stream that carries its usage). Called in the task of the call, so it sees the
call's context (its tracing span)."""


def is_deterministic(request: LLMRequest) -> bool:
    """Whether ``request`` asks for a repeatable answer: temperature 0, or a seed."""
    temperature = request.temperature
    if temperature is None:
        temperature = request.default_temperature
    return temperature == 0 or request.seed is not None


class _LeaderGone(Exception):
    """The call an identical one was waiting on was cancelled: the waiter asks again."""


class CachingProvider(ProviderLayer):
    """Answers a request seen before from ``backend``; identical concurrent asks share one call.

    See the module docs for the key and what is cached. Put it outside cost tracking (the
    builder does, and tells cost tracking of each hit through :meth:`add_listener`): inside,
    a hit would be counted as a billed call.

    Args:
        inner: The provider asked on a miss.
        backend: Where answers are kept.
        provider_name: Part of every key, so two providers never share an entry (the
            builder adds the endpoint, so two servers never do either).
        ttl: Seconds an entry lives; None: the backend's default (``memory``: until evicted).
        deterministic_only: Cache only requests with temperature 0 or a seed.
    """

    __slots__ = (
        "_backend",
        "_flights",
        "_listeners",
        "_provider_name",
        "deterministic_only",
        "ttl",
    )

    def __init__(
        self,
        inner: LLMProvider,
        backend: CacheBackend,
        provider_name: str,
        *,
        ttl: float | None = None,
        deterministic_only: bool = False,
    ) -> None:
        super().__init__(inner)
        if ttl is not None and ttl <= 0:
            raise ValueError(f"ttl must be positive seconds or None (no expiry), got {ttl}.")
        self._backend = backend
        self._provider_name = provider_name
        self.ttl = ttl
        self.deterministic_only = deterministic_only
        self._flights: dict[str, asyncio.Future[LLMResponse]] = {}
        self._listeners: tuple[HitListener, ...] = ()

    def __repr__(self) -> str:
        return f"CachingProvider({self.inner!r}, backend={self._backend!r})"

    @property
    def backend(self) -> CacheBackend:
        """Where the answers are kept."""
        return self._backend

    # --- hits ------------------------------------------------------------------------------

    @property
    def listeners(self) -> tuple[HitListener, ...]:
        """Who is told of each hit, in the order they were added."""
        return self._listeners

    def add_listener(self, listener: HitListener) -> HitListener:
        """Tell ``listener`` of every hit (cost tracking and tracing do); returns it."""
        # Replaced, not changed in place: a hit being told never sees the tuple change.
        self._listeners = (*self._listeners, listener)
        return listener

    def remove_listener(self, listener: HitListener) -> None:
        """Stop telling ``listener``; an unknown listener is an error."""
        if listener not in self._listeners:
            raise ValueError(f"{listener!r} is not a listener of this cache.")
        remaining = list(self._listeners)
        remaining.remove(listener)
        self._listeners = tuple(remaining)

    def _hit(self, request: LLMRequest, answer: LLMResponse | LLMStreamChunk) -> None:
        for listener in self._listeners:
            try:
                listener(request, answer)
            except Exception:
                logger.exception("Cache hit listener %r raised; ignored.", listener)

    # --- the calls -------------------------------------------------------------------------

    def wants(self, request: LLMRequest) -> bool:
        """Whether ``request`` goes through the cache: the call's ``cache=``, else the rule."""
        switch = CACHE_SWITCH.get()
        if switch is not None:
            return switch
        return not self.deterministic_only or is_deterministic(request)

    async def complete(self, request: LLMRequest) -> LLMResponse:
        """The cached answer, else the inner provider's (asked once per key at a time)."""
        if not self.wants(request):
            return await self.inner.complete(request)
        key = "complete:" + cache_key(self._provider_name, request)
        flights = self._flights
        while True:
            flight = flights.get(key)
            if flight is None:
                cached = await self._load(key, LLMResponse.model_validate_json)
                if cached is not None:
                    mark_served(cached)
                    self._hit(request, cached)
                    return cached
                flight = flights.get(key)  # an identical call may have started while we looked
                if flight is None:
                    return await self._lead(key, request)
            try:
                shared = await asyncio.shield(flight)
            except _LeaderGone:
                continue  # its caller was cancelled: look again, and lead if no one does
            # A copy each: callers may set fields (a typed answer's ``output``) on theirs.
            answer = shared.model_copy()
            mark_served(answer)
            self._hit(request, answer)
            return answer

    async def _lead(self, key: str, request: LLMRequest) -> LLMResponse:
        """Make the call identical ones wait on, and store its answer."""
        flight: asyncio.Future[LLMResponse] = asyncio.get_running_loop().create_future()
        self._flights[key] = flight
        try:
            try:
                response = await self.inner.complete(request)
            except Exception as exc:
                flight.set_exception(exc)  # the waiters fail as this call did
                flight.exception()  # marks it retrieved when no one else waits
                raise
            except BaseException:
                flight.set_exception(_LeaderGone())
                flight.exception()
                raise
            flight.set_result(response)
            # Stored while the flight is still listed, so an identical call arriving before
            # the backend has it shares this answer instead of making a call of its own.
            await self._store(key, response.model_dump_json().encode("utf-8"))
            return response
        finally:
            del self._flights[key]

    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        """Replays a cached stream's chunks, else streams and stores them once complete."""
        if not self.wants(request):
            async with aclosing_stream(self.inner.stream(request)) as passed:
                async for chunk in passed:
                    yield chunk
            return
        key = "stream:" + cache_key(self._provider_name, request)
        cached = await self._load(key, _chunks().validate_json)
        if cached:  # an empty list is no answer: the contract's streams yield a chunk at least
            for chunk in cached:
                mark_served(chunk)
            self._hit(request, _usage_chunk(cached))
            for chunk in cached:
                yield chunk
            return
        seen: list[LLMStreamChunk] = []
        async with aclosing_stream(self.inner.stream(request)) as chunks:
            async for chunk in chunks:
                seen.append(chunk)
                yield chunk
        # Only here when the stream ran to its end: one that failed or was left never is.
        await self._store(key, _chunks().dump_json(seen))

    # --- the backend -----------------------------------------------------------------------

    async def _load(self, key: str, decode: Callable[[bytes], T]) -> T | None:
        try:
            raw = await self._backend.get(key)
        except Exception as exc:
            _backend_failed("read", exc)
            return None
        if raw is None:
            return None
        try:
            return decode(raw)
        except (ValueError, TypeError):  # pydantic's ValidationError is a ValueError
            try:
                await self._backend.delete(key)
            except Exception as exc:
                _backend_failed("delete", exc)
            return None

    async def _store(self, key: str, value: bytes) -> None:
        try:
            await self._backend.set(key, value, self.ttl)
        except Exception as exc:
            _backend_failed("write", exc)


def _backend_failed(operation: str, error: Exception) -> None:
    # The error's type only: a backend's message may hold its URL, password included.
    config.warn_once(
        logger,
        f"{operation} {type(error).__name__}",
        f"The response cache could not {operation} an entry ({type(error).__name__}); the "
        f"call went on without the cache. Check the cache backend (AETHER_CACHE or "
        f"CacheConfig(backend=...)).",
    )


def _usage_chunk(chunks: list[LLMStreamChunk]) -> LLMStreamChunk:
    """The chunk of a stream that carries its usage (the last, by the contract)."""
    for chunk in reversed(chunks):
        if chunk.input_tokens or chunk.output_tokens:
            return chunk
    return chunks[-1]


@functools.cache
def _chunks() -> TypeAdapter[list[LLMStreamChunk]]:
    # Built on first use, not at import: every client imports this module.
    return TypeAdapter(list[LLMStreamChunk])
