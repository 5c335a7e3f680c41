"""The settings the store and the cache share: the file, the busy timeout, ``synchronous``.

The ``check_*`` functions guard the constructors (``TypeError`` / ``ValueError``, as for any
bad argument); the ``*_option`` functions read what a spec's factory was given, text or value,
with the plugin's variables as defaults, and raise :class:`~aether.errors.ConfigurationError`.
"""

from __future__ import annotations

import math
from typing import Literal

from aether import config
from aether.errors import ConfigurationError
from aether.memory.factory import option_seconds

__all__ = [
    "SYNCHRONOUS",
    "TIMEOUT_ENV",
    "Synchronous",
    "check_seconds",
    "check_synchronous",
    "file_option",
    "synchronous_option",
    "timeout_option",
]

Synchronous = Literal["NORMAL", "FULL", "EXTRA"]
"""SQLite's ``synchronous`` setting: ``FULL`` survives power loss; ``NORMAL`` survives crashes."""

SYNCHRONOUS: tuple[Synchronous, ...] = ("NORMAL", "FULL", "EXTRA")

TIMEOUT_ENV = "AETHER_SQLITE_TIMEOUT"
"""The busy timeout in seconds when the spec gives none (default 10)."""


def check_seconds(name: str, value: float, *, positive: bool = False) -> float:
    """``value`` as a float if it is a finite number of seconds, >= 0 (> 0 if ``positive``)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number of seconds, got {value!r}.")
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        bound = "> 0" if positive else ">= 0"
        raise ValueError(f"{name} must be a finite number of seconds {bound}, got {value!r}.")
    return float(value)


def check_synchronous(value: str) -> None:
    """Refuse a ``synchronous`` that is not one of :data:`SYNCHRONOUS`."""
    if value not in SYNCHRONOUS:
        raise ValueError(f"synchronous must be NORMAL, FULL or EXTRA, got {value!r}.")


def file_option(location: str | None, env: str, missing: str) -> str:
    """The file a spec names, else the one in variable ``env``; ``missing`` says what to set."""
    path = location if location else config.env_str(env)
    if not path:
        raise ConfigurationError(missing)
    return path


def timeout_option(timeout: str | float | None, owner: str) -> float:
    """The busy timeout a spec gives, else ``AETHER_SQLITE_TIMEOUT``, else 10 seconds."""
    if timeout is None:
        return config.env_float(TIMEOUT_ENV, 10.0, minimum=0.0)
    return option_seconds(timeout, option="timeout", owner=owner)


def synchronous_option(value: str | None, default: Synchronous, owner: str) -> Synchronous:
    """The ``synchronous`` a spec gives (any case), else ``default``."""
    mode = (value or default).upper()
    for choice in SYNCHRONOUS:
        if mode == choice:
            return choice
    raise ConfigurationError(
        f"The {owner}'s synchronous option must be one of {', '.join(SYNCHRONOUS)}, got {value!r}."
    )
