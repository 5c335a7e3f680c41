"""Config → composed provider stack.

The load-bearing order: cost tracking outermost, then the circuit breaker, then retry, then
the provider, so one retry-exhausted call counts as one breaker failure and only what billed
is counted. Each layer wraps the :class:`~aether.llm.LLMProvider` contract and satisfies it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from aether.config import redacted
from aether.errors import ConfigurationError
from aether.extensions.llm._default_stack import DefaultStack
from aether.extensions.llm._layer import ProviderLayer, find_layer
from aether.extensions.llm.circuit_breaker import CircuitBreakerConfig, CircuitBreakerProvider
from aether.extensions.llm.cost_tracking import CostTrackingConfig, CostTrackingProvider
from aether.extensions.llm.factory import create_provider
from aether.extensions.llm.retrying import OnRetry, RetryConfig, RetryingProvider
from aether.llm.contracts import LLMProvider
from aether.llm.settings import CallSettings
from aether.registry import Registry

__all__ = ["ProviderConfig", "ProviderLayer", "build_provider", "find_layer"]

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
    circuit_breaker: CircuitBreakerConfig | None = Field(
        default_factory=CircuitBreakerConfig,
        description="The circuit breaker's thresholds; None: no circuit breaker.",
    )
    cost_tracking: CostTrackingConfig | None = Field(
        default_factory=CostTrackingConfig,
        description="Price overrides for cost tracking; None: no cost tracking.",
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

    The result, outermost first: cost tracking, circuit breaker, retry, the provider; a layer
    whose config is None is left out. Read a layer back with :func:`find_layer`.

    Args:
        config: Provider choice and layer settings; default: ``ProviderConfig()``.
        provider: A provider to wrap instead of building one from ``config``.
        registry: Where the provider name is resolved; default: the process-wide registry.
        on_retry: Told of each retry by the retry layer (``Aether`` publishes it as
            ``request.retry``); see :class:`~aether.extensions.llm.retrying.RetryingProvider`.

    Raises:
        ConfigurationError: A setting is given twice (``api_key``, ``base_url`` or ``timeout``
            both as a field and in ``options``), or the provider does not take it.
    """
    config = config or ProviderConfig()
    if provider is None:
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
        provider = create_provider(
            config.provider, api_key=api_key, model=config.model, registry=registry, **options
        )
    name = config.provider or getattr(provider, "name", None)
    stack: LLMProvider = provider
    if config.retry is not None:
        stack = RetryingProvider(stack, config.retry, on_retry=on_retry)
    if config.circuit_breaker is not None:
        stack = CircuitBreakerProvider(
            stack, config.circuit_breaker, name=name if isinstance(name, str) else None
        )
    if config.cost_tracking is not None:
        if isinstance(stack, CircuitBreakerProvider) and config.retry is not None:
            # All three: the same layers, with their common path run in one frame.
            stack = DefaultStack(stack, config.cost_tracking)
        else:
            stack = CostTrackingProvider(stack, config.cost_tracking)
    return stack
