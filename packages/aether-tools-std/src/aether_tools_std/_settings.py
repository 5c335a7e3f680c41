"""The tool pack's settings: a constructor argument, else the environment, else the default.

Read at call time, never at import time, so a changed environment applies to the next call.
Invalid environment values are reported once (or refused under ``AETHER_STRICT=1``) and the
default used, as everywhere in Aether (:func:`aether.config.report_invalid`).

| Variable | Default | Affects |
|---|---|---|
| ``AETHER_HTTP_TOOL_TIMEOUT`` | ``10.0`` | ``http_get`` total deadline in seconds |
| ``AETHER_HTTP_TOOL_MAX_BYTES`` | ``100000`` | ``http_get`` body cap |
| ``AETHER_HTTP_TOOL_ALLOW_HOSTS`` | (none) | comma-separated private hosts ``http_get`` may reach |
| ``AETHER_FILE_TOOL_MAX_BYTES`` | ``200000`` | ``read_file`` cap |
| ``AETHER_FILE_TOOL_ROOT`` | the working directory | the only folder ``read_file`` reads |
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Final

from aether import config
from aether.errors import ConfigurationError
from aether_tools_std._addresses import parse_host_address

__all__ = [
    "DEFAULT_FILE_MAX_BYTES",
    "DEFAULT_HTTP_MAX_BYTES",
    "DEFAULT_HTTP_TIMEOUT",
    "DEFAULT_MAX_REDIRECTS",
    "allow_hosts",
    "check_positive",
    "file_max_bytes",
    "file_root",
    "http_max_bytes",
    "http_timeout",
    "normalize_hosts",
]

DEFAULT_HTTP_TIMEOUT: Final = 10.0
DEFAULT_HTTP_MAX_BYTES: Final = 100_000
DEFAULT_FILE_MAX_BYTES: Final = 200_000
DEFAULT_MAX_REDIRECTS: Final = 5

# A deadline of 0 would refuse every call; the smallest sensible one is a millisecond.
_MIN_TIMEOUT: Final = 0.001


def check_positive(name: str, value: float | None) -> None:
    """Reject a constructor argument that is zero or negative (None means "not given")."""
    if value is not None and not value > 0:
        raise ConfigurationError(f"{name} must be > 0, got {value!r}.")


def http_timeout(explicit: float | None) -> float:
    """Seconds ``http_get`` may take in all: ``explicit`` > env > 10.0."""
    if explicit is not None:
        return explicit
    return config.env_float("AETHER_HTTP_TOOL_TIMEOUT", DEFAULT_HTTP_TIMEOUT, minimum=_MIN_TIMEOUT)


def http_max_bytes(explicit: int | None) -> int:
    """Bytes of body ``http_get`` keeps: ``explicit`` > env > 100000."""
    if explicit is not None:
        return explicit
    return config.env_int("AETHER_HTTP_TOOL_MAX_BYTES", DEFAULT_HTTP_MAX_BYTES, minimum=1)


def file_max_bytes(explicit: int | None) -> int:
    """Bytes ``read_file`` reads: ``explicit`` > env > 200000."""
    if explicit is not None:
        return explicit
    return config.env_int("AETHER_FILE_TOOL_MAX_BYTES", DEFAULT_FILE_MAX_BYTES, minimum=1)


def allow_hosts(explicit: frozenset[str] | None) -> frozenset[str]:
    """Private hosts ``http_get`` may reach: ``explicit`` > env > none."""
    if explicit is not None:
        return explicit
    usable: list[str] = []
    rejected: list[str] = []
    for host in config.env_list("AETHER_HTTP_TOOL_ALLOW_HOSTS"):
        try:
            normalize_hosts([host])
        except ConfigurationError:
            rejected.append(host)
            continue
        usable.append(host)
    if rejected:
        # One report for the whole value: it is said once per value, so each bad entry
        # must be in it.
        which = ", ".join(repr(host) for host in rejected)
        what = "is not a bare host name" if len(rejected) == 1 else "are not bare host names"
        config.report_invalid(
            "AETHER_HTTP_TOOL_ALLOW_HOSTS",
            config.env_str("AETHER_HTTP_TOOL_ALLOW_HOSTS") or "",
            f"not a list of host names or IP addresses ({which} {what}: give no scheme, "
            f"port or path)",
            fallback="the other entries",
        )
    return normalize_hosts(usable)


def file_root(explicit: str | None) -> str:
    """The folder ``read_file`` is confined to: ``explicit`` > env > the working directory."""
    if explicit is not None:
        return explicit
    return config.env_str("AETHER_FILE_TOOL_ROOT") or os.getcwd()


def normalize_hosts(hosts: Iterable[str]) -> frozenset[str]:
    """Host names as URLs are compared: lower case, no brackets, no trailing dot.

    Raises:
        ConfigurationError: An entry is empty or holds a scheme, port or path.
    """
    if isinstance(hosts, str):
        raise ConfigurationError(
            f"allow_hosts must be a list of host names, got the string {hosts!r}; use [{hosts!r}]."
        )
    normalized: set[str] = set()
    for host in hosts:
        text = host.strip().lower()
        address = parse_host_address(text)
        if address is not None:
            normalized.add(str(address))
            continue
        text = text.rstrip(".")
        if not text or any(ch in text for ch in "/:@?# "):
            raise ConfigurationError(
                f"Allowed host {host!r} is not a bare host name or IP address; give names like "
                f"'intranet.example' or '10.0.0.5' (no scheme, port or path)."
            )
        normalized.add(text)
    return frozenset(normalized)
