"""Where an HTTP provider's key, default model, base URL and timeout come from, decided one way.

Each setting is the keyword given, else the environment variable ``<PREFIX>_API_KEY`` /
``<PREFIX>_MODEL`` / ``<PREFIX>_BASE_URL``, else the provider's default. A key is required
only when the base URL is on the default endpoint's host: a gateway or a compatible server
elsewhere (a proxy that adds credentials, a local server) may need none.

A base URL or a timeout that cannot work is refused here, when the provider is built, with
the setting and its value named: ``localhost:8000/v1`` (no scheme) would otherwise fail each
request as if the network had blipped, retried before it gives up. So is a key no HTTP
header can carry (a control character, a smart quote pasted with it), naming the setting and
the position, never the key; whitespace around a key (the newline of a file it was read
from) is dropped.
"""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aether.config import env_str
from aether.errors import ConfigurationError, MissingAPIKeyError

if TYPE_CHECKING:
    import httpx

__all__ = [
    "ProviderSettings",
    "check_api_key",
    "check_base_url",
    "check_timeout",
    "header_problem",
    "resolve_settings",
    "shown_url",
]

_SCHEMES = ("http", "https")
_NOT_IN_HEADER = re.compile(r"[^\t\x20-\x7e]")
_USERINFO = re.compile(r"^([a-z][a-z0-9+.-]*://)?[^/@]*@", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ProviderSettings:
    """A provider's resolved endpoint settings (the key never shows in the repr)."""

    default_model: str
    base_url: str
    """Without a trailing slash."""
    on_default_host: bool
    """Whether ``base_url`` is on the host of the provider's default endpoint."""
    api_key: str | None = field(default=None, repr=False)
    timeout: float | httpx.Timeout | None = None
    """As given, once checked; None: the HTTP client's default."""

    @property
    def secrets(self) -> tuple[str, ...]:
        """What to mask in error messages: the key, when there is one."""
        return (self.api_key,) if self.api_key else ()


def shown_url(url: str) -> str:
    """``url`` fit for a message or a repr: credentials before an ``@`` are masked."""
    return _USERINFO.sub(lambda m: f"{m.group(1) or ''}***@", url, count=1)


def check_base_url(url: str, setting: str) -> str:
    """``url`` without its trailing slash, once it is an ``http(s)://host...`` URL.

    Args:
        url: The base URL.
        setting: Where it came from, named in the error (``"OPENAI_BASE_URL"``,
            ``"base_url"``).

    Raises:
        ConfigurationError: No scheme, another scheme than http(s), no host, or a port that
            is not a number.
    """
    root = url.strip()
    shown = f"{setting}={shown_url(url)!r}"
    example = "e.g. 'http://localhost:8000/v1'"
    parts = urlsplit(root)
    if "://" not in root:
        bare = not root.lower().startswith(("http:", "https:"))
        fix = f"'http://{shown_url(root)}' (or https://)" if bare else example
        raise ConfigurationError(
            f"{shown} is not a URL: it lacks the scheme. Write it in full, {fix}."
            if bare
            else f"{shown} is not a URL: its scheme lacks the '//'. Write it in full, {fix}."
        )
    if parts.scheme.lower() not in _SCHEMES:
        raise ConfigurationError(
            f"{shown} uses the {parts.scheme!r} scheme; a provider speaks HTTP, so the base "
            f"URL must start with http:// or https://."
        )
    try:
        parts.port  # noqa: B018 - read for its check: urllib raises on a port that is no number
    except ValueError:
        raise ConfigurationError(
            f"{shown} has a port that is not a number from 0 to 65535; write it as {example}."
        ) from None
    if not parts.hostname or any(c.isspace() for c in root):
        what = "names no host" if not parts.hostname else "contains whitespace"
        raise ConfigurationError(f"{shown} {what}; write it as {example}.")
    return root.rstrip("/")


def header_problem(text: str) -> str | None:
    """What keeps ``text`` out of an HTTP header value, without quoting it; None: nothing.

    A header carries visible ASCII, spaces and tabs only (httpx refuses anything else, and
    aiohttp would send it as UTF-8 no server reads back alike), e.g. ``"contains a
    non-ASCII character (U+201C) at position 12"``. Positions count from 0.
    """
    found = _NOT_IN_HEADER.search(text)
    if found is None:
        return None
    code = ord(found.group())
    kind = "a non-ASCII" if code > 0x7F else "a control"
    return f"contains {kind} character (U+{code:04X}) at position {found.start()}"


def check_api_key(key: str | None, setting: str) -> str | None:
    """``key`` without surrounding whitespace, once an HTTP header can carry it; None if blank.

    Args:
        key: The key as given or read.
        setting: Where it came from, named in the error (``"OPENAI_API_KEY"``,
            ``"api_key="``).

    Raises:
        ConfigurationError: The key holds a control or non-ASCII character; the message
            names the setting, the character's code point and its position, never the key.
    """
    if key is None:
        return None
    key = key.strip()
    problem = header_problem(key)
    if problem is not None:
        raise ConfigurationError(
            f"The API key ({setting}) {problem}, which no HTTP header can carry. Copy the "
            f"key again as plain text (a smart quote or an invisible character often comes "
            f"along when it is pasted); surrounding whitespace is ignored."
        )
    return key or None


def check_timeout(timeout: Any, setting: str = "timeout") -> Any:
    """``timeout`` once it is None, a positive number of seconds, or an ``httpx.Timeout``.

    An ``httpx.Timeout``'s limits must each be positive too (None in one turns that limit off).

    Args:
        timeout: The value given.
        setting: Its name in the error (``"timeout"``, ``"ProviderConfig.timeout"``).

    Raises:
        ConfigurationError: Anything else (a string, zero, a negative or infinite number).
    """
    if timeout is None:
        return None
    httpx = sys.modules.get("httpx")  # an httpx.Timeout can only exist once httpx is loaded
    if httpx is not None and isinstance(timeout, httpx.Timeout):
        limits = (timeout.connect, timeout.read, timeout.write, timeout.pool)
        if all(limit is None or _positive(limit) for limit in limits):
            return timeout
    elif _positive(timeout):
        return timeout
    raise ConfigurationError(
        f"{setting}={timeout!r} is not a timeout: give a positive number of seconds "
        f"(e.g. 30), or None for the default."
    )


def _positive(value: object) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


def resolve_settings(
    provider: str,
    *,
    env_prefix: str,
    api_key: str | None,
    default_model: str | None,
    base_url: str | None,
    fallback_model: str,
    fallback_base_url: str,
    timeout: float | httpx.Timeout | None = None,
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
        timeout: The keyword given, checked (see :func:`check_timeout`).

    The key is stripped of surrounding whitespace (a key read from a file keeps its newline
    otherwise); a blank one counts as none.

    Raises:
        MissingAPIKeyError: No key was given or found, and the base URL is on the public
            endpoint's host.
        ConfigurationError: The base URL is not an ``http(s)://host`` URL, the timeout is
            not a positive number of seconds, or the key holds a character no HTTP header
            can carry; the error names the keyword or the variable (never the key).
    """
    key = check_api_key(api_key, "api_key=") or check_api_key(
        env_str(f"{env_prefix}_API_KEY"), f"{env_prefix}_API_KEY"
    )
    from_env = None if base_url else env_str(f"{env_prefix}_BASE_URL")
    if base_url:
        root = check_base_url(base_url, "base_url")
    elif from_env:
        root = check_base_url(from_env, f"{env_prefix}_BASE_URL")
    else:
        root = fallback_base_url.rstrip("/")
    on_default_host = urlsplit(root).hostname == urlsplit(fallback_base_url).hostname
    if not key and on_default_host:
        raise MissingAPIKeyError(provider, f"{env_prefix}_API_KEY")
    return ProviderSettings(
        default_model=default_model or env_str(f"{env_prefix}_MODEL") or fallback_model,
        base_url=root,
        on_default_host=on_default_host,
        api_key=key or None,
        timeout=check_timeout(timeout),
    )
