"""Runtime configuration, read from the environment at call time (never at import time).

Precedence everywhere: a per-call keyword argument, then the environment variable, then the
in-code default. An environment value that cannot be used is not silently ignored: the default
is used and one line naming the variable and the bad value goes to the ``aether.config``
logger at WARNING, once per (variable, value) per process (:func:`report_invalid`). With no
logging configured, Python prints just that line on stderr. With ``AETHER_STRICT=1`` a
:class:`~aether.errors.ConfigurationError` saying the value was refused is raised instead.

| Variable | Default | Affects |
|---|---|---|
| ``LLM_PROVIDER`` | ``openai`` | which provider ``Aether()`` builds |
| ``<PROVIDER>_API_KEY`` / ``<PROVIDER>_MODEL`` | | declared by each provider plugin |
| ``AETHER_DEFAULT_TEMPERATURE`` | ``0.7`` | default sampling temperature |
| ``AETHER_MAX_TOOL_ITERATIONS`` | ``10`` | tool-loop cap |
| ``AETHER_HTTP_TOOL_TIMEOUT`` | ``10.0`` | ``http_get`` total deadline (s) |
| ``AETHER_HTTP_TOOL_MAX_BYTES`` | ``100000`` | ``http_get`` body cap |
| ``AETHER_FILE_TOOL_MAX_BYTES`` | ``200000`` | ``read_file`` cap |
| ``AETHER_SESSION_STORE`` | ``memory`` | the session store, ``NAME`` or ``NAME://LOCATION?k=v`` |
| ``AETHER_SESSION_HISTORY_LIMIT`` | (all) | messages of history a session sends to the model |
| ``AETHER_STRICT`` | off | invalid settings and broken plugins raise instead of warning |
| ``AETHER_DISABLE_PLUGIN_AUTOLOAD`` | off | load no third-party plugin from entry points |
| ``AETHER_PLUGINS_ALLOW`` | (all) | comma-separated distributions allowed to load |
| ``AETHER_PLUGINS_BLOCK`` | (none) | comma-separated distributions never loaded |
"""

from __future__ import annotations

import logging
import math
import os
import re
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from aether.errors import ConfigurationError

__all__ = [
    "default_temperature",
    "env_bool",
    "env_float",
    "env_int",
    "env_list",
    "env_str",
    "forget_warnings",
    "is_secret_name",
    "max_tool_iterations",
    "provider_name",
    "redacted",
    "report_invalid",
    "strict_mode",
    "warn_once",
]

T = TypeVar("T")

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})
_DEFAULT_TEMPERATURE = 0.7


logger = logging.getLogger("aether.config")

# (variable, value) pairs already reported: a setting read on every call is reported once.
_reported: set[tuple[str, str]] = set()
_reported_lock = threading.Lock()
_warned: set[tuple[str, str]] = set()


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def warn_once(logger: logging.Logger, key: str, message: str) -> None:
    """Log ``message`` at WARNING on ``logger`` the first time ``key`` is seen there.

    For what a provider leaves out by design (a cache mark it has no place for, a setting
    another provider's): a tool loop sends the same request many times, and one line says all
    there is to say. Once per process for each (logger, key); :func:`forget_warnings` resets it.
    """
    seen = (logger.name, key)
    with _reported_lock:
        if seen in _warned:
            return
        _warned.add(seen)
    logger.warning(message)


def forget_warnings() -> None:
    """Forget what :func:`warn_once` and :func:`report_invalid` said, so they say it again.

    For tests that check a message that an earlier test may already have caused.
    """
    with _reported_lock:
        _warned.clear()
        _reported.clear()


def strict_mode() -> bool:
    """Whether ``AETHER_STRICT`` asks for errors instead of warnings."""
    return (_raw("AETHER_STRICT") or "").lower() in _TRUE


def report_invalid(name: str, value: str, problem: str, *, fallback: str) -> None:
    """Say that environment variable ``name`` holds a value that cannot be used.

    Logging rather than :mod:`warnings`: a warning prints a source line that is not the
    user's, and its "once" is per call site and reset by test runners and ``-W``. Plugins
    reading their own variables call this too, so every setting behaves alike.

        config.report_invalid("ACME_RETRIES", "many", "not an integer", fallback="the default 3")
        # Environment variable ACME_RETRIES='many' is not an integer; using the default 3
        # instead. Fix or unset ACME_RETRIES.

    Args:
        name: The environment variable.
        value: Its value; masked when the name looks like a credential.
        problem: What is wrong, completing "NAME='value' is ...", e.g. ``"not an integer"``.
        fallback: What is used instead, e.g. ``"the default 3"``.

    Raises:
        ConfigurationError: ``AETHER_STRICT=1`` is set; the message says the value was refused.
    """
    shown = _MASK if is_secret_name(name) else repr(value)
    if strict_mode():
        raise ConfigurationError(
            f"Environment variable {name}={shown} is {problem}; refused because "
            f"AETHER_STRICT=1 is set (without it, {fallback} would be used). "
            f"Fix or unset {name}."
        )
    with _reported_lock:
        if (name, value) in _reported:
            return
        _reported.add((name, value))
    logger.warning(
        "Environment variable %s=%s is %s; using %s instead. Fix or unset %s.",
        name,
        shown,
        problem,
        fallback,
        name,
    )


def _invalid(name: str, raw: str, expected: str, default: object) -> None:
    report_invalid(name, raw, f"not {expected}", fallback=f"the default {default!r}")


def _parse(
    name: str,
    default: T,
    parse: Callable[[str], T],
    expected: str,
    check: Callable[[T], bool] | None = None,
) -> T:
    raw = _raw(name)
    if raw is None:
        return default
    try:
        value = parse(raw)
    except ValueError:
        _invalid(name, raw, expected, default)
        return default
    if check is not None and not check(value):
        _invalid(name, raw, expected, default)
        return default
    return value


def env_str(name: str, default: str | None = None) -> str | None:
    """The variable's value, stripped; ``default`` when unset or blank."""
    raw = _raw(name)
    return default if raw is None else raw


def env_float(
    name: str, default: float, *, minimum: float | None = None, maximum: float | None = None
) -> float:
    """A finite float within the bounds, or ``default`` (reported if it was invalid)."""

    def check(value: float) -> bool:
        return (
            math.isfinite(value)
            and (minimum is None or value >= minimum)
            and (maximum is None or value <= maximum)
        )

    return _parse(name, default, float, _bounds_text("a number", minimum, maximum), check)


def env_int(
    name: str, default: int, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """An integer within the bounds, or ``default`` (reported if it was invalid)."""

    def check(value: int) -> bool:
        return (minimum is None or value >= minimum) and (maximum is None or value <= maximum)

    return _parse(name, default, int, _bounds_text("an integer", minimum, maximum), check)


def env_bool(name: str, default: bool = False) -> bool:
    """``1/true/yes/on`` or ``0/false/no/off``; anything else is reported, giving ``default``."""

    def parse(raw: str) -> bool:
        lowered = raw.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError(raw)

    return _parse(name, default, parse, "a boolean (1/0, true/false, yes/no, on/off)")


def env_list(name: str) -> tuple[str, ...]:
    """A comma-separated list, items stripped, empties dropped."""
    raw = _raw(name)
    if raw is None:
        return ()
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def _bounds_text(kind: str, minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f"{kind} between {minimum} and {maximum}"
    if minimum is not None:
        return f"{kind} >= {minimum}"
    if maximum is not None:
        return f"{kind} <= {maximum}"
    return kind


def provider_name(explicit: str | None = None) -> str:
    """The provider to build: ``explicit`` > ``LLM_PROVIDER`` > ``"openai"``."""
    if explicit:
        return explicit
    return (env_str("LLM_PROVIDER") or "openai").lower()


def default_temperature(explicit: float | None = None) -> float | None:
    """Default sampling temperature: ``explicit`` > ``AETHER_DEFAULT_TEMPERATURE`` > 0.7.

    ``AETHER_DEFAULT_TEMPERATURE=none`` sends no temperature at all: each model's own default.
    Providers send the default only to models that take a temperature.
    """
    if explicit is not None:
        return explicit
    raw = _raw("AETHER_DEFAULT_TEMPERATURE")
    if raw is None:  # read on every request: unset costs one lookup
        return _DEFAULT_TEMPERATURE
    if raw.lower() == "none":
        return None
    return env_float("AETHER_DEFAULT_TEMPERATURE", _DEFAULT_TEMPERATURE, minimum=0.0, maximum=2.0)


def max_tool_iterations(explicit: int | None = None) -> int:
    """Tool-loop cap: ``explicit`` > ``AETHER_MAX_TOOL_ITERATIONS`` > 10."""
    if explicit is not None:
        if explicit < 1:
            raise ConfigurationError(f"max_tool_iterations must be >= 1, got {explicit}.")
        return explicit
    return env_int("AETHER_MAX_TOOL_ITERATIONS", 10, minimum=1)


# Words that mark a setting as a credential. Matched against whole words of the name (split on
# ``_``, ``-``, ``.`` and camelCase), so ``api_key``/``apiKey``/``X-Api-Key`` are secret but
# ``max_tokens`` or ``keyword`` are not: over-redaction would hide settings people debug.
_SECRET_WORDS = frozenset(
    {
        "apikey",
        "auth",
        "authorization",
        "bearer",
        "cookie",
        "credential",
        "credentials",
        "key",
        "passwd",
        "password",
        "passphrase",
        "secret",
        "token",
    }
)
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_MASK = "**********"


def is_secret_name(name: str) -> bool:
    """Whether a setting called ``name`` looks like a credential (case-insensitive)."""
    return any(word.lower() in _SECRET_WORDS for word in _WORD.findall(name))


def redacted(settings: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``settings`` for display, secret-looking entries masked, nested ones too.

    Used by the ``repr`` of objects that carry free-form options, so a key passed as
    ``options={"api_key": ...}`` never reaches a log or a traceback.
    """
    return {
        name: _MASK if is_secret_name(str(name)) else _redact_value(value)
        for name, value in settings.items()
    }


def _redact_value(value: Any) -> Any:
    if isinstance(value, Mapping):
        return redacted(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_redact_value(item) for item in value)
    return value
