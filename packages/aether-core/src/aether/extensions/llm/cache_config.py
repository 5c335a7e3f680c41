"""``CacheConfig`` and the cache backends, named by a spec as session stores are.

The backend spec is ``NAME``, ``NAME?key=value&...`` or ``NAME://LOCATION[?key=value&...]``
(the format of :mod:`aether.memory.factory`):

| Spec | Builds |
|---|---|
| ``memory`` (the default) | a bounded LRU in this process (``memory?max_entries=5000``) |
| ``sqlite:///var/cache/app/answers.db`` | a file shared by processes (``aether-memory-sqlite``) |
| ``redis://localhost:6379/0?prefix=app:cache`` | a Redis server (``aether-memory-redis``) |

``NAME`` is looked up under the ``cache`` kind of the registry (code registrations first, then
the installed plugin whose ``aether.caches`` entry point declares it). A backend factory is
called like a store's: ``factory(location=None, **options)``, with the options as strings.
``AETHER_CACHE`` names the backend when the cache is on and no backend is given; it does not
turn the cache on by itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from aether._specs import SpecKind, build_from_spec
from aether.errors import ConfigurationError
from aether.extensions.llm._layer import find_layer
from aether.extensions.llm.caching import CacheBackend, CachingProvider, MemoryCache
from aether.extensions.llm.cost_tracking import CostTrackingProvider
from aether.llm.contracts import LLMProvider
from aether.registry import Registry

__all__ = [
    "CACHE_ENV",
    "CACHE_KIND",
    "CacheConfig",
    "cache_layer",
    "create_cache",
    "create_memory_cache",
]

CACHE_KIND = "cache"
"""The registry kind of cache backends (entry-point group ``aether.caches``)."""

CACHE_ENV = "AETHER_CACHE"
"""The variable naming the backend of a cache turned on without one."""

_CACHES = SpecKind(
    kind=CACHE_KIND,
    noun="cache",
    short="cache",
    env=CACHE_ENV,
    default="memory",
    examples=("memory", "sqlite", "redis"),
)


class CacheConfig(BaseModel):
    """The response cache's settings (``ProviderConfig(cache=...)``; see
    :mod:`aether.extensions.llm.caching`).

    Every request is cached by default: a cache is turned on for tests, evaluations and
    repeated prompts, where a repeat is expected to be served. ``deterministic_only=True``
    keeps sampled answers fresh by caching only requests with temperature 0 or a seed.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    backend: str | CacheBackend | None = Field(
        default=None,
        description="A backend spec (memory, sqlite:///path.db, redis://host:6379/0) or a "
        "CacheBackend object; None: AETHER_CACHE, else memory.",
    )
    ttl: float | None = Field(
        default=None,
        description="Seconds an entry lives; None: no expiry (a bounded backend still evicts).",
    )
    deterministic_only: bool = Field(
        default=False,
        description="Cache only requests whose temperature is 0 or that set a seed.",
    )

    @field_validator("backend", mode="before")
    @classmethod
    def _check_backend(cls, value: Any) -> Any:
        if value is None or isinstance(value, (str, CacheBackend)):
            return value
        raise ConfigurationError(
            f"CacheConfig.backend must be a backend spec such as 'memory' or "
            f"'sqlite:///cache.db', or an object with async get, set and delete; got a "
            f"{type(value).__name__}."
        )

    @field_validator("ttl", mode="before")
    @classmethod
    def _check_ttl(cls, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ConfigurationError(
                f"CacheConfig.ttl must be a positive number of seconds, or None for no "
                f"expiry; got {value!r}."
            )
        return float(value)

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        # A spec's location or options may hold a password (redis://:secret@host), so only
        # the backend's name shows.
        for name, value in super().__repr_args__():
            if name == "backend" and isinstance(value, str):
                value = _shown_spec(value)
            yield name, value


def _shown_spec(spec: str) -> str:
    if "://" in spec:
        return spec.partition("://")[0] + "://..."
    if "?" in spec:
        return spec.partition("?")[0] + "?..."
    return spec


def create_cache(spec: str | None = None, *, registry: Registry | None = None) -> CacheBackend:
    """Build the cache backend named by ``spec``, else ``AETHER_CACHE``, else ``memory``.

    Args:
        spec: A backend spec (see the module docs); None reads ``AETHER_CACHE``.
        registry: Where the name is resolved; default: the process-wide registry.

    Raises:
        PluginNotFoundError: No registered backend and no installed plugin has that name; the
            message names the closest ones.
        ConfigurationError: The spec is malformed, the factory does not take its options, or
            what it built is not a :class:`~aether.extensions.llm.caching.CacheBackend`.
    """
    name, backend = build_from_spec(spec, _CACHES, registry=registry)
    if not isinstance(backend, CacheBackend):
        raise ConfigurationError(
            f"Cache {name!r} built a {type(backend).__name__}, which lacks the CacheBackend "
            f"methods (async get, set and delete); fix the plugin's factory."
        )
    return backend


def create_memory_cache(
    *, max_entries: int | str = 1024, ttl: float | str | None = None
) -> MemoryCache:
    """The ``memory`` backend's factory: ``memory?max_entries=5000&ttl=600``.

    Raises:
        ConfigurationError: An option is not a number, or out of range.
    """
    try:
        entries = int(max_entries)
        lifetime = None if ttl is None or ttl == "" else float(ttl)
        return MemoryCache(max_entries=entries, ttl=lifetime)
    except ValueError as exc:
        raise ConfigurationError(
            f"The memory cache's options are wrong: {exc} (max_entries: a whole number >= 1; "
            f"ttl: seconds > 0)."
        ) from None


def cache_layer(
    inner: LLMProvider,
    config: CacheConfig,
    *,
    provider_name: str | None = None,
    registry: Registry | None = None,
) -> CachingProvider:
    """``inner`` in a response cache built from ``config`` (what the builder puts outermost).

    The key names the provider by ``provider_name`` (else the provider's ``name``) and its
    endpoint (``base_url``), so two servers never share an entry. When cost tracking is in
    ``inner``, each hit is counted there (``usage.cache_hits``, ``usage.cost_saved_usd``).
    """
    backend = config.backend
    if backend is None or isinstance(backend, str):
        backend = create_cache(backend, registry=registry)
    base: object = inner
    for _ in range(64):  # a stack is a few layers deep; a cycle must not hang the builder
        below = getattr(base, "inner", None)
        if below is None:
            break
        base = below
    name = provider_name or getattr(base, "name", None)
    if not isinstance(name, str):
        name = type(base).__name__
    base_url = getattr(base, "base_url", None)
    identity = f"{name} {base_url}" if isinstance(base_url, str) and base_url else name
    layer = CachingProvider(
        inner, backend, identity, ttl=config.ttl, deterministic_only=config.deterministic_only
    )
    cost = find_layer(inner, CostTrackingProvider)
    if cost is not None:
        layer.add_listener(cost.count_hit)
    return layer
