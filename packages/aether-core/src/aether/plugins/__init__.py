"""Plugins: entry-point discovery, lazy loading, isolation, and the hooks plugins implement.

Entry-point groups are ``aether.<kind>s`` (``aether.providers``, ``aether.tools``,
``aether.session_stores``, ``aether.caches``, ``aether.vector_stores``, ...). Each entry
point's *name* is a name the distribution provides and its *value* is the plugin module that
implements the hooks.
"""

from aether.plugins.hookspecs import hookimpl, hookspec
from aether.plugins.manager import (
    EntryPointInfo,
    PluginInfo,
    PluginManager,
    group_for,
    kind_for,
    plugin_manager,
)

__all__ = [
    "EntryPointInfo",
    "PluginInfo",
    "PluginManager",
    "group_for",
    "hookimpl",
    "hookspec",
    "kind_for",
    "plugin_manager",
]
