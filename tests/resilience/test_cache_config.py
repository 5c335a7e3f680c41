"""CacheConfig, backends built from specs, and the cache layer the builder makes."""

from __future__ import annotations

from typing import Any

import pytest

from aether import ProviderConfig, build_provider
from aether.errors import ConfigurationError, PluginNotFoundError
from aether.extensions.llm.cache_config import (
    CacheConfig,
    cache_layer,
    create_cache,
    create_memory_cache,
)
from aether.extensions.llm.caching import CachingProvider, MemoryCache, cache_key
from aether.extensions.llm.cost_tracking import CostTrackingProvider
from aether.extensions.llm.fake import FakeProvider
from aether.llm.contracts import LLMRequest, Message
from aether.plugins.manager import plugin_manager
from aether.registry import Registry

REQUEST = LLMRequest(messages=[Message(role="user", content="hi")], model="m")


def test_the_default_config_caches_everything_without_expiry() -> None:
    config = CacheConfig()
    assert (config.backend, config.ttl, config.deterministic_only) == (None, None, False)


@pytest.mark.parametrize("ttl", [0, -1, "soon", True])
def test_a_bad_ttl_is_a_configuration_error(ttl: Any) -> None:
    with pytest.raises(ConfigurationError, match=r"CacheConfig\.ttl"):
        CacheConfig(ttl=ttl)


def test_a_backend_is_a_spec_or_a_backend_object() -> None:
    backend = MemoryCache()
    assert CacheConfig(backend=backend).backend is backend
    assert CacheConfig(backend="memory").backend == "memory"
    with pytest.raises(ConfigurationError, match="async get, set and delete"):
        CacheConfig(backend=42)  # type: ignore[arg-type]


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValueError, match="max_entries"):
        CacheConfig(max_entries=3)  # type: ignore[call-arg]


@pytest.mark.parametrize("spec", ["redis://:hunter2@cache:6379/0", "redis?password=hunter2"])
def test_the_repr_never_shows_a_specs_location_or_options(spec: str) -> None:
    shown = repr(CacheConfig(backend=spec))
    assert "hunter2" not in shown and "redis" in shown
    assert "hunter2" not in repr(ProviderConfig(cache=CacheConfig(backend=spec)))


def test_memory_is_core_s_and_is_found_through_its_entry_point() -> None:
    assert "memory" in plugin_manager().declared_names("cache")
    backend = create_cache("memory?max_entries=5&ttl=30")
    assert isinstance(backend, MemoryCache)
    assert (backend.max_entries, backend.ttl) == (5, 30.0)


def test_aether_cache_is_read_when_no_spec_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AETHER_CACHE", "memory?max_entries=9")
    backend = create_cache()
    assert isinstance(backend, MemoryCache) and backend.max_entries == 9
    monkeypatch.delenv("AETHER_CACHE")
    assert isinstance(create_cache(), MemoryCache)


@pytest.mark.parametrize(
    ("spec", "word"),
    [
        ("memory?max_entries=many", "max_entries"),
        ("memory?max_entries=0", "max_entries"),
        ("memory?ttl=-3", "ttl"),
        ("memory?size=3", "size"),
        ("memory://:secret@host", "location"),
        ("-bad", "cache name"),
        ("memory?x=1&x=2", "more than once"),
    ],
)
def test_bad_specs_are_configuration_errors_without_values(spec: str, word: str) -> None:
    with pytest.raises(ConfigurationError, match=word) as caught:
        create_cache(spec)
    assert "secret" not in str(caught.value)


def test_an_unknown_name_lists_what_exists() -> None:
    registry = Registry()
    registry.add("cache", "memory", create_memory_cache)
    registry.add("cache", "sqlite", create_memory_cache)
    with pytest.raises(PluginNotFoundError) as caught:
        create_cache("sqlit:///tmp/x.db", registry=registry)
    assert caught.value.suggestions == ("sqlite",)
    assert str(caught.value).startswith(
        "No cache named 'sqlit'. Did you mean 'sqlite'? Available: memory, sqlite."
    )


def test_location_and_options_reach_the_factory_as_strings() -> None:
    seen: dict[str, Any] = {}

    def factory(location: str | None = None, **options: str) -> MemoryCache:
        seen.update(location=location, **options)
        return MemoryCache()

    registry = Registry()
    registry.add("cache", "custom", factory)
    create_cache("custom://host:1/2?namespace=app", registry=registry)
    assert seen == {"location": "host:1/2", "namespace": "app"}


def test_a_factory_must_build_a_backend() -> None:
    registry = Registry()
    registry.add("cache", "bogus", lambda: object())
    with pytest.raises(ConfigurationError, match="CacheBackend methods"):
        create_cache("bogus", registry=registry)


# --- the layer the builder makes ---------------------------------------------------------


def test_the_builder_wires_hits_to_cost_tracking() -> None:
    stack = build_provider(
        ProviderConfig(provider="fake", cache=CacheConfig(ttl=5, deterministic_only=True))
    )
    assert isinstance(stack, CachingProvider)
    assert stack.ttl == 5 and stack.deterministic_only
    assert isinstance(stack.inner, CostTrackingProvider)
    assert stack.listeners == (stack.inner.count_hit,)


def test_a_fallback_may_not_set_a_cache_of_its_own() -> None:
    fallback = ProviderConfig(provider="fake", cache=CacheConfig())
    with pytest.raises(ConfigurationError, match="cache"):
        build_provider(ProviderConfig(provider="fake", fallbacks=[fallback]))


class Endpoint(FakeProvider):
    def __init__(self, base_url: str) -> None:
        super().__init__(canned_response="x")
        self.base_url = base_url


async def test_the_key_names_the_provider_and_its_endpoint() -> None:
    backend = MemoryCache()
    local = cache_layer(Endpoint("http://localhost:8000/v1"), CacheConfig(backend=backend))
    other = cache_layer(Endpoint("http://localhost:9000/v1"), CacheConfig(backend=backend))
    await local.complete(REQUEST)
    await other.complete(REQUEST)
    assert len(backend) == 2  # two servers never share an entry
    assert await backend.get("complete:" + cache_key("fake http://localhost:8000/v1", REQUEST))
    plain = cache_layer(FakeProvider(canned_response="x"), CacheConfig(backend=backend))
    await plain.complete(REQUEST)
    assert await backend.get("complete:" + cache_key("fake", REQUEST))


def test_a_nameless_provider_is_named_by_its_class() -> None:
    class Nameless:
        async def complete(self, request: LLMRequest) -> Any: ...

        def stream(self, request: LLMRequest) -> Any: ...

    layer = cache_layer(Nameless(), CacheConfig(backend=MemoryCache()))  # type: ignore[arg-type]
    assert layer._provider_name == "Nameless"
