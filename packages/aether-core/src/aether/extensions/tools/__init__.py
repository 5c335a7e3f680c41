"""``import aether.extensions.tools``: the spec's way of making its reference tools available.

Tools live in tool-pack plugins, which register through entry points: ``tools=["http_get"]``
works once a pack providing it is installed, with or without this import. Importing this
module asks for the spec's three reference tools now, through the plugin manager exactly as
asking for them by name would, so a missing or broken pack is reported here rather than at
the first call that needs one. Core names no distribution for them: whichever installed pack
declares a name provides it.
"""

from __future__ import annotations

from aether import tools as _tools

__all__ = ["REFERENCE_TOOLS"]

REFERENCE_TOOLS = ("get_current_time", "http_get", "read_file")
"""The tools the spec lists under this import."""

_missing = [name for name in REFERENCE_TOOLS if name not in _tools.list_tools()]
if _missing:
    raise ImportError(
        f"No installed tool pack provides {', '.join(_missing)}, which "
        f"aether.extensions.tools makes available; install the reference tool pack "
        f"(pip install aether-tools-std) or any pack that declares them."
    )
for _name in REFERENCE_TOOLS:
    _tools.get_tool(_name)  # loads the pack that declares it; its failure surfaces here
