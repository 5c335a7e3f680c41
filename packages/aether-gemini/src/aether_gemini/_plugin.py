"""The plugin module behind the ``gemini`` entry point of the ``aether.providers`` group.

Imported only when ``gemini`` is asked for, never at Aether's start-up.
"""

from __future__ import annotations

from aether.plugins import hookimpl
from aether.plugins.hookspecs import Register
from aether_gemini._provider import GeminiProvider


@hookimpl
def register_providers(register: Register) -> None:
    """Register ``gemini`` with the variables holding its key and model."""
    register("gemini", GeminiProvider, api_key_env="GEMINI_API_KEY", model_env="GEMINI_MODEL")
