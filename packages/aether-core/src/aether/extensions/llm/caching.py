"""Response cache building blocks: the request key and the in-process ``memory`` backend.

The key is a SHA-256 of the provider name and every :class:`~aether.llm.contracts.LLMRequest`
field that determines the answer: ``messages`` (with their parts), ``model``, ``temperature``,
``default_temperature``, ``max_tokens``, ``stop``, ``top_p``, ``seed``, ``presence_penalty``,
``frequency_penalty``, ``reasoning``, ``cache`` (prompt-caching controls change billing and
sometimes the model route), ``provider_options`` (they reach the request body), ``tools``,
``tool_choice``, ``output`` and ``allowed_tools``. Left out: ``extra_headers`` (transport
metadata such as tracing ids; including them would make every traced call a miss). Timeouts
are call options, never part of the request, so they cannot split the key.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from typing import Protocol, TypeVar, runtime_checkable

from pydantic import TypeAdapter

from aether.extensions.llm._layer import ProviderLayer, aclosing_stream
from aether.llm.contracts import LLMProvider, LLMRequest, LLMResponse, LLMStreamChunk

__all__ = ["KEY_EXCLUDED_FIELDS", "CacheBackend", "CachingProvider", "MemoryCache", "cache_key"]

T = TypeVar("T")

KEY_EXCLUDED_FIELDS: frozenset[str] = frozenset({"extra_headers"})


def cache_key(provider: str, request: LLMRequest) -> str:
    """A stable hex digest naming the answer ``provider`` gives to ``request``.

    Stable across processes and Python versions: the request is dumped to JSON with sorted keys.

    Args:
        provider: The provider's registered name (two providers never share an entry).
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


class CachingProvider(ProviderLayer):
    """Answers a request seen before from ``backend``; identical concurrent asks share one call.

    A stream is stored only once it has run to its end, and replayed chunk by chunk. An entry
    that no longer decodes (corrupt, truncated, from another version) is a miss, and dropped.

    Args:
        inner: The provider asked on a miss.
        backend: Where answers are kept.
        provider_name: Part of every key, so two providers never share an entry.
    """

    __slots__ = ("_backend", "_flights", "_provider_name")

    def __init__(self, inner: LLMProvider, backend: CacheBackend, provider_name: str) -> None:
        super().__init__(inner)
        self._backend = backend
        self._provider_name = provider_name
        self._flights: dict[str, asyncio.Future[LLMResponse]] = {}

    async def _load(self, key: str, decode: Callable[[bytes], T]) -> T | None:
        raw = await self._backend.get(key)
        if raw is None:
            return None
        try:
            return decode(raw)
        except ValueError:  # pydantic's ValidationError and json errors are ValueErrors
            await self._backend.delete(key)
            return None

    async def complete(self, request: LLMRequest) -> LLMResponse:
        """The cached answer, else the inner provider's (asked once per key at a time)."""
        key = "complete:" + cache_key(self._provider_name, request)
        flight = self._flights.get(key)
        if flight is not None:
            return await asyncio.shield(flight)
        cached = await self._load(key, LLMResponse.model_validate_json)
        if cached is not None:
            return cached
        flight = self._flights.get(key)  # another ask may have started while we looked
        if flight is not None:
            return await asyncio.shield(flight)
        flight = asyncio.get_running_loop().create_future()
        self._flights[key] = flight
        try:
            response = await self.inner.complete(request)
        except asyncio.CancelledError:
            flight.cancel()
            raise
        except Exception as exc:
            flight.set_exception(exc)
            flight.exception()  # marks it retrieved when no one else waits
            raise
        finally:
            del self._flights[key]
        flight.set_result(response)
        await self._backend.set(key, response.model_dump_json().encode("utf-8"))
        return response

    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        """Replays a cached stream's chunks, else streams and stores them once complete."""
        key = "stream:" + cache_key(self._provider_name, request)
        cached = await self._load(key, _CHUNKS.validate_json)
        if cached is not None:
            for chunk in cached:
                yield chunk
            return
        seen: list[LLMStreamChunk] = []
        async with aclosing_stream(self.inner.stream(request)) as chunks:
            async for chunk in chunks:
                seen.append(chunk)
                yield chunk
        await self._backend.set(key, _CHUNKS.dump_json(seen))


_CHUNKS: TypeAdapter[list[LLMStreamChunk]] = TypeAdapter(list[LLMStreamChunk])
