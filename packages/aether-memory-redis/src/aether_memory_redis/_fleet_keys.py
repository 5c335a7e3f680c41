"""Where the fleet layers keep their state: one key per prefix, provider and model.

``PREFIX:PROVIDER:MODEL``, e.g. ``aether:breaker:openai:gpt-4o-mini``. The provider name is
percent-encoded (a ``:`` in it becomes ``%3A``), so the model, which may hold colons itself
(``meta-llama/llama-3-8b:free``), is everything after the second colon and two pairs never
share a key. Each script touches one key, so a Redis Cluster needs no hash tag; the one that
touches two (the breaker's admission taking the limiter's slot, ``ADMIT_ACQUIRE``) is never
sent through a Cluster client, so the keys stay as they are.
"""

from __future__ import annotations

from urllib.parse import quote

__all__ = ["check_prefix", "fleet_key", "model_of", "provider_of"]

_UNKNOWN_MODEL = "default"


def check_prefix(prefix: str) -> str:
    """Return ``prefix`` if it is a usable key prefix, else raise :class:`ValueError`."""
    if not isinstance(prefix, str) or not prefix:
        raise ValueError(f"The Redis key prefix must be a non-empty string, got {prefix!r}.")
    return prefix


def fleet_key(prefix: str, provider: str, model: str) -> str:
    """The key holding the state of ``provider``'s ``model`` under ``prefix``."""
    return f"{prefix}:{quote(provider, safe='')}:{model}"


def provider_of(stack: object) -> str:
    """The provider's registered name, found by walking the layers' ``inner`` chain.

    Layers (retry, breaker) have no name of their own, so the first ``name`` that is a
    non-empty string on the way in is the provider's; a provider without one is named by its
    class, lower-cased.
    """
    seen: set[int] = set()
    current: object | None = stack
    last: object = stack
    while current is not None and id(current) not in seen:
        name = getattr(current, "name", None)
        if isinstance(name, str) and name:
            return name
        seen.add(id(current))
        last = current
        current = getattr(current, "inner", None)
    return type(last).__name__.lower()


def model_of(stack: object) -> str:
    """The stack's default model (what a request without ``model`` gets), else ``default``."""
    try:
        model = getattr(stack, "default_model", None)
    except Exception:  # a misbehaving property must not break building the layer
        model = None
    return model if isinstance(model, str) and model else _UNKNOWN_MODEL
