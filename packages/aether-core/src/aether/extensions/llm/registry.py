"""``register_provider``: make a provider class selectable by name (``LLM_PROVIDER=<name>``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from aether.registry import Registry, default_registry

__all__ = ["PROVIDER_KIND", "register_provider"]

PROVIDER_KIND = "provider"

T = TypeVar("T")


def register_provider(
    name: str,
    *,
    api_key_env: str | None = None,
    model_env: str | None = None,
    registry: Registry | None = None,
    **metadata: Any,
) -> Callable[[T], T]:
    """Decorator: register a provider class (or factory) under ``name``.

    Args:
        name: What ``LLM_PROVIDER`` (or ``ProviderConfig.provider``) selects it by.
        api_key_env: The environment variable holding its API key, read at build time.
        model_env: The environment variable overriding its default model.
        registry: Where to register; the process-wide registry by default.
        **metadata: Anything else a plugin wants to record.

    The class is called with ``api_key=`` (the key or None) and, when the model variable is
    set, ``default_model=``; plus any ``ProviderConfig.options``.
    """
    target = registry if registry is not None else default_registry
    return target.register(
        PROVIDER_KIND, name, api_key_env=api_key_env, model_env=model_env, **metadata
    )
