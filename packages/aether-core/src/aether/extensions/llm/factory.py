"""Name → provider instance: resolve the registered class and call it with its settings."""

from __future__ import annotations

import inspect
from typing import Any

from aether import config
from aether.errors import ConfigurationError, PluginNotFoundError, UnknownProviderError
from aether.extensions.llm.registry import PROVIDER_KIND
from aether.llm._complete_only import ensure_stream
from aether.llm.contracts import LLMProvider
from aether.registry import Registry, default_registry

__all__ = ["create_provider"]


def create_provider(
    name: str | None = None,
    *,
    api_key: str | None = None,
    model: str | None = None,
    registry: Registry | None = None,
    **options: Any,
) -> LLMProvider:
    """Build the provider registered as ``name`` (default: ``LLM_PROVIDER``, then ``openai``).

    The API key is ``api_key`` if given, else the provider's ``api_key_env`` variable; the
    model is ``model`` if given, else its ``model_env`` variable, else the provider's default.
    Other ``options`` go to the provider's constructor as keywords.
    """
    target = registry if registry is not None else default_registry
    chosen = config.provider_name(name)
    try:
        entry = target.entry(PROVIDER_KIND, chosen)
    except PluginNotFoundError as exc:
        raise UnknownProviderError(chosen, exc.available) from None
    factory = entry.obj
    kwargs: dict[str, Any] = dict(options)
    key_env = entry.metadata.get("api_key_env")
    model_env = entry.metadata.get("model_env")
    key = api_key if api_key is not None else (config.env_str(key_env) if key_env else None)
    chosen_model = (
        model if model is not None else (config.env_str(model_env) if model_env else None)
    )
    accepted = _accepted_keywords(factory)
    if key is not None or accepted is None or "api_key" in accepted:
        kwargs.setdefault("api_key", key)
    if chosen_model is not None:
        kwargs.setdefault("default_model", chosen_model)
    if accepted is not None:
        unknown = sorted(set(kwargs) - accepted)
        if unknown:
            raise ConfigurationError(
                f"Provider {chosen!r} ({_qualname(factory)}) does not accept "
                f"{', '.join(unknown)}; remove them from the provider's settings "
                f"(ProviderConfig's base_url, timeout or options)."
            )
    return ensure_stream(factory(**kwargs))


def _accepted_keywords(factory: Any) -> set[str] | None:
    """Keyword names the factory accepts, or None when it takes ``**kwargs`` (or is opaque)."""
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):
        return None
    names = set()
    for parameter in signature.parameters.values():
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            return None
        if parameter.kind in (
            inspect.Parameter.KEYWORD_ONLY,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
        ):
            names.add(parameter.name)
    return names


def _qualname(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"
