"""Config → composed provider stack.

The load-bearing order: cost tracking outermost, then the circuit breaker, then retry, then
the provider, so one retry-exhausted call counts as one breaker failure and only what billed
is counted. Each layer wraps the :class:`~aether.llm.LLMProvider` contract and satisfies it.
Layers of your own (``layers=``) go innermost, so they see every attempt. With
``fallbacks=``, each provider of the chain gets its own retry layer and breaker, and the
:class:`~aether.extensions.llm.fallback.FallbackProvider` over them sits inside cost tracking,
which counts whichever answered under its model. The response cache (``cache=``, off by
default) goes outside everything, so an answer it gives is never billed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from aether.config import redacted
from aether.errors import ConfigurationError
from aether.extensions.llm._default_stack import DefaultStack
from aether.extensions.llm._layer import ProviderLayer, find_layer
from aether.extensions.llm.cache_config import CacheConfig, cache_layer
from aether.extensions.llm.circuit_breaker import CircuitBreakerConfig, CircuitBreakerProvider
from aether.extensions.llm.cost_tracking import CostTrackingConfig, CostTrackingProvider
from aether.extensions.llm.factory import create_provider
from aether.extensions.llm.fallback import FallbackPolicy, FallbackProvider, FallbackTarget
from aether.extensions.llm.retrying import OnRetry, RetryConfig, RetryingProvider
from aether.llm.contracts import LLMProvider
from aether.llm.settings import CallSettings
from aether.registry import Registry

__all__ = ["LayerFactory", "ProviderConfig", "ProviderLayer", "build_provider", "find_layer"]

LayerFactory = Callable[[LLMProvider], LLMProvider]
"""Wraps a provider in a layer of your own: ``lambda inner: RateLimited(inner, per_second=5)``.

The result must satisfy :class:`~aether.llm.LLMProvider` (a :class:`ProviderLayer` subclass
does); ``ProviderConfig(layers=[...])`` and ``ProviderConfig(circuit_breaker=...)`` take them.
"""

# Options that would collide with the factory's own parameters, and where they belong.
_RESERVED_OPTIONS = {
    "model": "ProviderConfig(model=...)",
    "name": "ProviderConfig(provider=...)",
    "registry": "build_provider(registry=...)",
}
# Fields passed to the provider's constructor as the keyword of the same name.
_PROVIDER_KEYWORDS = ("base_url", "timeout")


class ProviderConfig(BaseModel):
    """Everything needed to build a provider stack; unset fields fall back to the environment."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    provider: str | None = Field(default=None, description="Provider name; None: LLM_PROVIDER.")
    model: str | None = Field(default=None, description="Default model; None: <PROVIDER>_MODEL.")
    api_key: SecretStr | None = Field(default=None, description="Key; None: <PROVIDER>_API_KEY.")
    base_url: str | None = Field(
        default=None,
        description="API root, e.g. a local server's http://localhost:8000/v1; None: "
        "<PROVIDER>_BASE_URL, else the provider's public endpoint.",
    )
    timeout: float | None = Field(
        default=None,
        description="Seconds a request may take; None: the provider's default.",
    )
    options: dict[str, Any] = Field(
        default_factory=dict, description="Extra keyword arguments for the provider's constructor."
    )
    settings: CallSettings = Field(
        default_factory=lambda: CallSettings(),
        description="The client's default call settings; a call's own settings win key by key.",
    )
    retry: RetryConfig | None = Field(
        default_factory=RetryConfig, description="The retry layer's rules; None: no retry layer."
    )
    circuit_breaker: CircuitBreakerConfig | LayerFactory | None = Field(
        default_factory=CircuitBreakerConfig,
        description="The circuit breaker's thresholds; or a LayerFactory building a breaker "
        "of your own (one that keeps its state elsewhere, e.g. shared by several processes), "
        "put where the local one goes, outside retry; None: no circuit breaker.",
    )
    layers: list[LayerFactory] = Field(
        default_factory=list,
        description="Layers of your own (a rate limiter, a request log), innermost: the first "
        "wraps the provider, the next wraps that, all inside retry, so each sees every attempt.",
    )
    fallbacks: list[str | ProviderConfig] = Field(
        default_factory=list,
        description="Providers to ask, in order, when this one fails with an error that falls "
        "over (see fallback_policy): a name (its settings from the environment) or a "
        "ProviderConfig. Each gets its own retry layer and breaker, from its own retry / "
        "circuit_breaker when it sets them, else this config's; its own layers, none "
        "unless it sets them; and answers with its own model (its model=, else its default).",
    )
    fallback_policy: FallbackPolicy = Field(
        default_factory=FallbackPolicy,
        description="Which errors fall over to the next of fallbacks; see FallbackPolicy.",
    )
    max_context_tokens: int | None = Field(
        default=None,
        gt=0,
        description="The model's context window in tokens, for fallbacks: a context-length "
        "error falls over only to a fallback whose max_context_tokens is larger. None: unknown.",
    )
    cost_tracking: CostTrackingConfig | None = Field(
        default_factory=CostTrackingConfig,
        description="Price overrides for cost tracking; None: no cost tracking.",
    )
    cache: CacheConfig | None = Field(
        default=None,
        description="The response cache, outermost so a hit is never billed; None (the "
        "default): no cache. See aether.extensions.llm.caching.",
    )
    output_retries: int = Field(
        default=1,
        description="How many times a typed answer (output_type=) that does not validate is "
        "sent back to the model with its errors, each a billed call; Output(retries=...) "
        "sets it per call. 0: never.",
    )

    @field_validator("timeout", mode="before")
    @classmethod
    def _check_timeout(cls, value: Any) -> Any:
        # A ConfigurationError, not a ValidationError: pydantic lets it through as raised,
        # so a bad timeout fails like every other bad setting.
        if value is None:
            return None
        from aether.http._settings import check_timeout  # only when a timeout is given

        return check_timeout(value, "ProviderConfig.timeout")

    @field_validator("output_retries", mode="before")
    @classmethod
    def _check_output_retries(cls, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigurationError(
                f"ProviderConfig.output_retries must be a whole number >= 0 (0: no repair), "
                f"got {value!r}."
            )
        return value

    @field_validator("fallbacks", mode="after")
    @classmethod
    def _check_fallbacks(cls, value: list[str | ProviderConfig]) -> list[str | ProviderConfig]:
        for number, item in enumerate(value):
            if isinstance(item, str) and not item.strip():
                raise ConfigurationError(
                    f"ProviderConfig.fallbacks[{number}] is an empty name; give a provider's "
                    f"name (such as 'openai') or a ProviderConfig."
                )
        return value

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        # ``api_key`` is a SecretStr already; free-form ``options`` may carry a key or token
        # too (``options={"api_key": ...}``), settings an auth header (``extra_headers``), and
        # a base URL a password, so mask those wherever the config shows.
        for name, value in super().__repr_args__():
            if name in ("options", "settings"):
                value = redacted(value)
            elif name == "base_url" and value and "@" in value:
                from aether.http._settings import shown_url

                value = shown_url(value)
            yield name, value


def build_provider(
    config: ProviderConfig | None = None,
    *,
    provider: LLMProvider | None = None,
    registry: Registry | None = None,
    on_retry: OnRetry | None = None,
) -> LLMProvider:
    """Build the provider named by ``config`` (or wrap ``provider``) in the configured layers.

    The result, outermost first: the response cache (only with ``cache``), cost tracking,
    circuit breaker, retry, ``layers`` (the last outermost), the provider; a layer whose
    config is None is left out. With ``fallbacks``:
    cost tracking around a :class:`~aether.extensions.llm.fallback.FallbackProvider` whose
    ``inner`` is this provider's stack (breaker, retry, layers, provider) and whose
    ``fallbacks`` hold one such stack per fallback. Read a layer back with :func:`find_layer`
    (it walks ``inner``, so it finds the first provider's).

    Args:
        config: Provider choice and layer settings; default: ``ProviderConfig()``.
        provider: A provider to wrap instead of building one from ``config``.
        registry: Where the provider name is resolved; default: the process-wide registry.
        on_retry: Told of each retry by the retry layer (``Aether`` publishes it as
            ``request.retry``); see :class:`~aether.extensions.llm.retrying.RetryingProvider`.

    Raises:
        ConfigurationError: A setting is given twice (``api_key``, ``base_url`` or ``timeout``
            both as a field and in ``options``), or the provider does not take it; a layer
            factory returned something other than a provider; a fallback's config sets what
            only the first provider's may (``settings``, ``cost_tracking``...).
    """
    config = config or ProviderConfig()
    stack = _resilient(config, provider, registry, on_retry)
    if config.fallbacks:
        stack = _fallback_chain(stack, config, registry, on_retry)
    if config.cost_tracking is not None:
        if type(stack) is CircuitBreakerProvider and type(stack.inner) is RetryingProvider:
            # All three: the same layers, with their common path run in one frame.
            stack = DefaultStack(stack, config.cost_tracking)
        else:
            stack = CostTrackingProvider(stack, config.cost_tracking)
    if config.cache is not None:
        # Outside cost tracking: a hit is never billed (it is counted there as a hit).
        stack = cache_layer(stack, config.cache, provider_name=config.provider, registry=registry)
    return stack


# Fields a fallback's own config may set; the others belong to the chain (the client's
# settings, cost tracking...) and are set on the first provider's config only.
_FALLBACK_FIELDS = frozenset(
    {
        "provider",
        "model",
        "api_key",
        "base_url",
        "timeout",
        "options",
        "retry",
        "circuit_breaker",
        "layers",
        "max_context_tokens",
    }
)
# What a fallback takes from the first provider's config when it does not set it itself.
_INHERITED_FIELDS = ("retry", "circuit_breaker")


def _create(config: ProviderConfig, registry: Registry | None) -> LLMProvider:
    """The bare provider ``config`` names, built by the factory with its settings."""
    options = dict(config.options)
    api_key = config.api_key.get_secret_value() if config.api_key else None
    if "api_key" in options:  # accepted there too, as the factory passes it through
        if api_key is not None:
            raise ConfigurationError(
                "The API key is given twice, as ProviderConfig(api_key=...) and in "
                "options; keep only api_key=..."
            )
        api_key = options.pop("api_key")
    for field_name in _PROVIDER_KEYWORDS:
        value = getattr(config, field_name)
        if value is None:
            continue
        if field_name in options:
            raise ConfigurationError(
                f"The {field_name} is given twice, as ProviderConfig({field_name}=...) "
                f"and in options; keep only {field_name}=..."
            )
        options[field_name] = value
    for field_name, target in _RESERVED_OPTIONS.items():
        if field_name in options:
            raise ConfigurationError(
                f"ProviderConfig options may not contain {field_name!r}; use {target}."
            )
    return create_provider(
        config.provider, api_key=api_key, model=config.model, registry=registry, **options
    )


def _resilient(
    config: ProviderConfig,
    provider: LLMProvider | None,
    registry: Registry | None,
    on_retry: OnRetry | None,
) -> LLMProvider:
    """One provider's stack, outermost first: circuit breaker, retry, ``layers``, provider."""
    if provider is None:
        provider = _create(config, registry)
    name = config.provider or getattr(provider, "name", None)
    stack: LLMProvider = provider
    for number, layer in enumerate(config.layers):
        stack = layer(stack)
        if not isinstance(stack, LLMProvider):
            raise ConfigurationError(
                f"ProviderConfig.layers[{number}] ({layer!r}) returned {stack!r}, which is not "
                f"a provider: a layer factory returns the layer wrapping what it is given."
            )
    if config.retry is not None:
        stack = RetryingProvider(stack, config.retry, on_retry=on_retry)
    breaker = config.circuit_breaker
    if isinstance(breaker, CircuitBreakerConfig):
        stack = CircuitBreakerProvider(stack, breaker, name=name if isinstance(name, str) else None)
    elif breaker is not None:
        stack = breaker(stack)
        if not isinstance(stack, LLMProvider):
            raise ConfigurationError(
                f"ProviderConfig.circuit_breaker ({breaker!r}) returned {stack!r}, which is "
                f"not a provider: a breaker factory returns the breaker wrapping what it is given."
            )
    return stack


def _fallback_chain(
    primary: LLMProvider,
    config: ProviderConfig,
    registry: Registry | None,
    on_retry: OnRetry | None,
) -> FallbackProvider:
    """``primary`` and a stack of its own for each of ``config.fallbacks``, in a chain."""
    targets = [FallbackTarget(primary, config.provider, config.model, config.max_context_tokens)]
    for number, item in enumerate(config.fallbacks):
        own = ProviderConfig(provider=item) if isinstance(item, str) else item
        foreign = sorted(own.model_fields_set - _FALLBACK_FIELDS)
        if foreign:
            raise ConfigurationError(
                f"ProviderConfig.fallbacks[{number}] sets {', '.join(foreign)}, which a chain "
                f"has once: set {'them' if len(foreign) > 1 else 'it'} on the first "
                f"provider's ProviderConfig. A fallback sets only "
                f"{', '.join(sorted(_FALLBACK_FIELDS))}."
            )
        inherited = {
            field: getattr(config, field)
            for field in _INHERITED_FIELDS
            if field not in own.model_fields_set
        }
        chosen = own.model_copy(update=inherited) if inherited else own
        stack = _resilient(chosen, None, registry, on_retry)
        targets.append(
            FallbackTarget(stack, chosen.provider, chosen.model, chosen.max_context_tokens)
        )
    # The retry layers' listener hears of fall-overs too: ``Aether`` publishes both.
    return FallbackProvider(targets, policy=config.fallback_policy, on_fallback=on_retry)
