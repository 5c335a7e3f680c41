"""Build an ``SQLiteSessionStore`` from a store spec (``AETHER_SESSION_STORE=sqlite://...``)."""

from __future__ import annotations

import math

from aether import config
from aether.errors import ConfigurationError
from aether_memory_sqlite._store import SQLiteSessionStore, Synchronous

__all__ = ["PATH_ENV", "TIMEOUT_ENV", "create_sqlite_store"]

PATH_ENV = "AETHER_SQLITE_PATH"
"""The database file when the spec is just ``sqlite``."""

TIMEOUT_ENV = "AETHER_SQLITE_TIMEOUT"
"""The busy timeout in seconds when the spec gives none (default 10)."""

_SYNCHRONOUS: tuple[Synchronous, ...] = ("NORMAL", "FULL", "EXTRA")


def create_sqlite_store(
    location: str | None = None,
    *,
    timeout: str | float | None = None,
    synchronous: str | None = None,
) -> SQLiteSessionStore:
    """The store for ``sqlite:///abs/path.db``, ``sqlite://relative.db`` or ``sqlite``.

    Args:
        location: The file path (the part after ``sqlite://``); None: ``AETHER_SQLITE_PATH``.
        timeout: Busy timeout in seconds; None: ``AETHER_SQLITE_TIMEOUT``, else 10.
        synchronous: ``FULL`` (default), ``NORMAL`` or ``EXTRA``.
    """
    path = location if location else config.env_str(PATH_ENV)
    if not path:
        raise ConfigurationError(
            f"The sqlite session store needs a database file: set {PATH_ENV}=/path/to/sessions.db "
            f"or AETHER_SESSION_STORE=sqlite:///path/to/sessions.db."
        )
    if timeout is None:
        seconds = config.env_float(TIMEOUT_ENV, 10.0, minimum=0.0)
    else:
        try:
            seconds = float(timeout)
        except ValueError:
            raise ConfigurationError(
                f"The sqlite session store's timeout must be a number of seconds, got {timeout!r}."
            ) from None
        if not math.isfinite(seconds) or seconds < 0:
            raise ConfigurationError(
                f"The sqlite session store's timeout must be finite and >= 0, got {timeout!r}."
            )
    mode = (synchronous or "FULL").upper()
    for choice in _SYNCHRONOUS:
        if mode == choice:
            return SQLiteSessionStore(path, timeout=seconds, synchronous=choice)
    raise ConfigurationError(
        f"The sqlite session store's synchronous option must be one of "
        f"{', '.join(_SYNCHRONOUS)}, got {synchronous!r}."
    )
