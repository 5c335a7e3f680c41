"""Registers the ``openai`` provider; imported only when ``openai`` is asked for."""

from __future__ import annotations

from aether.plugins import hookimpl
from aether.plugins.hookspecs import Register

__all__ = ["register_providers"]


@hookimpl
def register_providers(register: Register) -> None:
    from aether_openai._provider import OpenAIProvider

    register("openai", OpenAIProvider, api_key_env="OPENAI_API_KEY", model_env="OPENAI_MODEL")
