"""The plugin module behind the ``anthropic`` entry point of the ``aether.providers`` group.

Imported only when ``anthropic`` is asked for, never at Aether's start-up.
"""

from __future__ import annotations

from aether.plugins import hookimpl
from aether.plugins.hookspecs import Register
from aether_anthropic._provider import AnthropicProvider

__all__ = ["register_providers"]


@hookimpl
def register_providers(register: Register) -> None:
    """Register ``anthropic`` with the variables holding its key and model."""
    register(
        "anthropic",
        AnthropicProvider,
        api_key_env="ANTHROPIC_API_KEY",
        model_env="ANTHROPIC_MODEL",
    )
