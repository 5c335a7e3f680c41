"""Call settings: every knob of one model call, in one typed place.

``CallSettings`` is a ``TypedDict``, so a plain dict literal type-checks and only what is set is
sent. Every call accepts ``settings=``; ``ProviderConfig(settings=...)`` gives a client's
defaults. Precedence: the call's settings, then the client's, then the environment
(``AETHER_DEFAULT_TEMPERATURE``), then the provider's own defaults::

    await client.ask("...", settings={"temperature": 0, "seed": 7, "reasoning": {"effort": "low"}})

``provider_options`` is the escape hatch for what Aether does not model: a dict deep-merged into
the provider's request body last (Gemini ``safetySettings``, OpenAI ``web_search_options``...).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from typing_extensions import TypedDict

from aether.errors import ConfigurationError

__all__ = [
    "CallSettings",
    "PromptCacheSettings",
    "ReasoningEffort",
    "ReasoningSettings",
    "check_settings",
    "deep_merge",
    "merge_settings",
    "stop_sequences",
]

ReasoningEffort = Literal["minimal", "low", "medium", "high"]


class ReasoningSettings(TypedDict, total=False):
    """How much the model thinks before it answers, and whether its thoughts come back."""

    effort: ReasoningEffort
    """OpenAI ``reasoning_effort``; Gemini ``thinkingLevel``; Anthropic: a budget of that size."""
    budget_tokens: int
    """Tokens the model may spend thinking (Gemini ``thinkingBudget``, Anthropic ``budget_tokens``;
    0 turns thinking off where the model allows it)."""
    include_thoughts: bool
    """Return the model's thought summaries as ``reasoning_text`` (Gemini ``includeThoughts``)."""


class PromptCacheSettings(TypedDict, total=False):
    """Prompt caching: each provider takes the controls it has and ignores none silently."""

    key: str
    """OpenAI ``prompt_cache_key``: requests sharing a prefix and key share a cache."""
    cached_content: str
    """Gemini ``cachedContent``: the name of a cache created beforehand (``cachedContents/...``)."""
    system: bool
    """Anthropic: a cache breakpoint after the system prompt."""
    tools: bool
    """Anthropic: a cache breakpoint after the tool list."""
    messages: bool
    """Anthropic: a cache breakpoint after the last message (a growing conversation)."""


class CallSettings(TypedDict, total=False):
    """Settings of one model call; unset keys fall back as the module docs say."""

    temperature: float
    max_tokens: int
    stop: str | Sequence[str]
    """A stop sequence, or several. A string is one sequence, never a list of characters."""
    top_p: float
    seed: int
    presence_penalty: float
    frequency_penalty: float
    reasoning: ReasoningSettings
    timeout: float
    """A deadline for the whole call in seconds, retries and tool rounds included."""
    cache: PromptCacheSettings
    provider_options: dict[str, Any]
    """Deep-merged into the provider's request body last (documented per provider)."""
    extra_headers: dict[str, str]
    """Sent with the request, beside the provider's own headers."""


_KEYS = frozenset(CallSettings.__annotations__)
_NUMBERS: dict[str, tuple[float | None, float | None]] = {
    "temperature": (0.0, None),
    "top_p": (0.0, 1.0),
    "presence_penalty": (-2.0, 2.0),
    "frequency_penalty": (-2.0, 2.0),
    "timeout": (None, None),
}
_EFFORTS = ("minimal", "low", "medium", "high")


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``override`` laid over it; nested dicts merge, anything else replaces."""
    merged = dict(base)
    for key, value in override.items():
        current = merged.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            merged[key] = deep_merge(current, value)
        else:
            merged[key] = value
    return merged


def merge_settings(*layers: CallSettings | Mapping[str, Any] | None) -> CallSettings:
    """Later layers win key by key; ``reasoning``, ``cache``, ``provider_options`` and
    ``extra_headers`` merge inside too, so a call can add one option to a client's defaults."""
    merged: dict[str, Any] = {}
    for layer in layers:
        if layer:
            merged = deep_merge(merged, layer)
    return merged  # type: ignore[return-value]


def check_settings(settings: Mapping[str, Any]) -> CallSettings:
    """``settings`` checked key by key, ``stop`` as a list; a clear error for anything wrong.

    Raises:
        ConfigurationError: An unknown key (with the close ones), a value of the wrong type or
            out of range.
    """
    unknown = sorted(set(settings) - _KEYS)
    if unknown:
        raise ConfigurationError(
            f"Unknown call setting(s) {', '.join(map(repr, unknown))}; the settings are "
            f"{', '.join(sorted(_KEYS))}. For a provider's own request fields use "
            f"provider_options={{...}}."
        )
    checked: dict[str, Any] = dict(settings)
    for key, (low, high) in _NUMBERS.items():
        if key in checked and checked[key] is not None:
            checked[key] = _number(key, checked[key], low, high)
    if checked.get("timeout") is not None and checked["timeout"] <= 0:
        raise ConfigurationError(f"timeout must be > 0 seconds, got {checked['timeout']!r}.")
    for key in ("max_tokens", "seed"):
        value = checked.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ConfigurationError(f"{key} must be an integer, got {value!r}.")
    if checked.get("max_tokens") is not None and checked["max_tokens"] < 1:
        raise ConfigurationError(f"max_tokens must be >= 1, got {checked['max_tokens']!r}.")
    if "stop" in checked and checked["stop"] is not None:
        checked["stop"] = stop_sequences(checked["stop"])
    reasoning = checked.get("reasoning")
    if reasoning is not None:
        _check_reasoning(reasoning)
    for key in ("provider_options", "extra_headers", "cache"):
        value = checked.get(key)
        if value is not None and not isinstance(value, Mapping):
            raise ConfigurationError(f"{key} must be a dict, got {type(value).__name__}.")
    return checked  # type: ignore[return-value]


def stop_sequences(stop: str | Sequence[str]) -> list[str]:
    """``stop`` as a list: a string is ONE stop sequence (``"\\n\\n"`` stays whole)."""
    if isinstance(stop, str):
        return [stop]
    if isinstance(stop, (bytes, Mapping)) or not isinstance(stop, Sequence):
        raise ConfigurationError(
            f"stop must be a string or a list of strings, got {type(stop).__name__}."
        )
    items = list(stop)
    bad = [item for item in items if not isinstance(item, str)]
    if bad:
        raise ConfigurationError(f"stop sequences must be strings, got {bad[0]!r}.")
    return items


def _number(key: str, value: Any, low: float | None, high: float | None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigurationError(f"{key} must be a finite number, got {value!r}.")
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f">= {low}"
        raise ConfigurationError(f"{key} must be {bounds}, got {value!r}.")
    return value


def _check_reasoning(reasoning: Any) -> None:
    if not isinstance(reasoning, Mapping):
        raise ConfigurationError(
            "reasoning must be a dict such as {'effort': 'low'} or {'budget_tokens': 2048}."
        )
    unknown = sorted(set(reasoning) - set(ReasoningSettings.__annotations__))
    if unknown:
        raise ConfigurationError(
            f"Unknown reasoning setting(s) {', '.join(map(repr, unknown))}; use effort, "
            f"budget_tokens or include_thoughts."
        )
    effort = reasoning.get("effort")
    if effort is not None and effort not in _EFFORTS:
        raise ConfigurationError(
            f"reasoning effort must be one of {', '.join(_EFFORTS)}, got {effort!r}."
        )
    budget = reasoning.get("budget_tokens")
    if budget is not None and (
        isinstance(budget, bool) or not isinstance(budget, int) or budget < 0
    ):
        raise ConfigurationError(
            f"reasoning budget_tokens must be an integer >= 0, got {budget!r}."
        )
