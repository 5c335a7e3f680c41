"""Where an HTTP provider's key, default model and base URL come from, decided one way.

Each setting is the keyword given, else the environment variable ``<PREFIX>_API_KEY`` /
``<PREFIX>_MODEL`` / ``<PREFIX>_BASE_URL``, else the provider's default. A key is required
only when the base URL is on the default endpoint's host: a gateway or a compatible server
elsewhere (a proxy that adds credentials, a local server) may need none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from aether.config import env_str
from aether.errors import MissingAPIKeyError

__all__ = ["ProviderSettings", "resolve_settings"]


@dataclass(frozen=True, slots=True)
class ProviderSettings:
    """A provider's resolved endpoint settings (the key never shows in the repr)."""

    default_model: str
    base_url: str
    """Without a trailing slash."""
    on_default_host: bool
    """Whether ``base_url`` is on the host of the provider's default endpoint."""
    api_key: str | None = field(default=None, repr=False)

    @property
    def secrets(self) -> tuple[str, ...]:
        """What to mask in error messages: the key, when there is one."""
        return (self.api_key,) if self.api_key else ()


def resolve_settings(
    provider: str,
    *,
    env_prefix: str,
    api_key: str | None,
    default_model: str | None,
    base_url: str | None,
    fallback_model: str,
    fallback_base_url: str,
) -> ProviderSettings:
    """Resolve a provider's settings from its keywords, the environment and its defaults.

    Args:
        provider: The provider's name, for the error.
        env_prefix: ``"OPENAI"`` reads ``OPENAI_API_KEY``, ``OPENAI_MODEL``, ``OPENAI_BASE_URL``.
        api_key: The keyword given (None: from the environment).
        default_model: The keyword given (None: from the environment, else ``fallback_model``).
        base_url: The keyword given (None: from the environment, else ``fallback_base_url``).
        fallback_model: The provider's default model.
        fallback_base_url: The provider's public endpoint.

    Raises:
        MissingAPIKeyError: No key was given or found, and the base URL is on the public
            endpoint's host.
    """
    key = api_key or env_str(f"{env_prefix}_API_KEY")
    root = (base_url or env_str(f"{env_prefix}_BASE_URL") or fallback_base_url).rstrip("/")
    on_default_host = urlsplit(root).hostname == urlsplit(fallback_base_url).hostname
    if not key and on_default_host:
        raise MissingAPIKeyError(provider, f"{env_prefix}_API_KEY")
    return ProviderSettings(
        default_model=default_model or env_str(f"{env_prefix}_MODEL") or fallback_model,
        base_url=root,
        on_default_host=on_default_host,
        api_key=key or None,
    )
