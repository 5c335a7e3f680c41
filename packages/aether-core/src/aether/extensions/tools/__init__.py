"""The spec's import path for the reference tools: ``import aether.extensions.tools``.

A compatibility shim, and the one documented place where core names a plugin distribution.
The tools (``get_current_time``, ``http_get``, ``read_file``) live in the separate
``aether-tools-std`` distribution and register through its entry points like any plugin's
tools, so ``tools=["http_get"]`` works once it is installed, with or without this import.
This module only re-exports that pack's public names, and says what to install when it is
missing.
"""

from __future__ import annotations

try:
    from aether_tools_std import StdTools, blocked_reason, parse_host_address
except ModuleNotFoundError as exc:
    if exc.name != "aether_tools_std":
        raise  # the pack is installed but something it needs is not: show that, not a hint
    raise ModuleNotFoundError(
        "aether.extensions.tools needs the reference tool pack, a separate distribution: "
        "pip install aether-tools-std",
        name="aether_tools_std",
    ) from exc

__all__ = ["StdTools", "blocked_reason", "parse_host_address"]
