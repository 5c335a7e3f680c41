"""The plugin module both entry points name; Aether imports it only when ``echo`` or
``shout`` is asked for. Imports stay inside the hooks so loading costs almost nothing."""

from __future__ import annotations

from aether.plugins import hookimpl
from aether.plugins.hookspecs import Register

__all__ = ["register_providers", "register_tools"]


@hookimpl
def register_providers(register: Register) -> None:
    from aether_example_echo._provider import EchoProvider

    register("echo", EchoProvider, api_key_env="ECHO_API_KEY", model_env="ECHO_MODEL")


@hookimpl
def register_tools(register: Register) -> None:
    from aether.tools import make_tool
    from aether_example_echo._tools import shout

    register("shout", make_tool(shout))
