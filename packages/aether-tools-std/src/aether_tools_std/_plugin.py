"""Registers ``get_current_time``, ``http_get`` and ``read_file``; imported on first use.

The registered tools follow the environment at every call (``StdTools()`` with no
arguments); build your own :class:`~aether_tools_std.StdTools` for other settings.
"""

from __future__ import annotations

from aether.plugins import hookimpl
from aether.plugins.hookspecs import Register

__all__ = ["register_tools"]


@hookimpl
def register_tools(register: Register) -> None:
    from aether_tools_std._pack import StdTools

    for tool in StdTools().tools():
        register(tool.name, tool)
