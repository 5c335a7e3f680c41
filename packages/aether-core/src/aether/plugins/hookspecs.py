"""The hooks a plugin implements. Each receives a ``register`` callback (as in simonw/llm).

A plugin module marks its functions with :data:`hookimpl`; it may implement any subset of
these hooks and take any subset of a hook's arguments, so hooks can grow without breaking
plugins:

    from aether.plugins import hookimpl

    @hookimpl
    def register_providers(register):
        register("ollama", OllamaProvider, api_key_env="OLLAMA_API_KEY", model_env="OLLAMA_MODEL")

A module's hooks run once, when the first name it declares is asked for. The exception is
:func:`instrument_client`, called for every new client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import pluggy

if TYPE_CHECKING:
    from aether.client import Aether

__all__ = [
    "KindRegister",
    "Register",
    "hookimpl",
    "hookspec",
    "instrument_client",
    "register_caches",
    "register_plugins",
    "register_providers",
    "register_session_stores",
    "register_tools",
]

PROJECT = "aether"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class Register(Protocol):
    """``register(name, obj, **metadata)``: the callback the kind-specific hooks receive."""

    def __call__(self, name: str, obj: Any, /, **metadata: Any) -> None: ...


class KindRegister(Protocol):
    """``register(kind, name, obj, **metadata)``: the callback of :func:`register_plugins`."""

    def __call__(self, kind: str, name: str, obj: Any, /, **metadata: Any) -> None: ...


@hookspec
def register_providers(register: Register) -> None:
    """Register LLM provider classes (or factories).

    Metadata understood by Aether: ``api_key_env`` (the variable holding the key),
    ``model_env`` (the variable overriding the default model).
    """


@hookspec
def register_tools(register: Register) -> None:
    """Register tools: objects made by :func:`aether.tools.make_tool` or plain functions."""


@hookspec
def register_session_stores(register: Register) -> None:
    """Register session-store factories (called with keyword options, return a store)."""


@hookspec
def register_caches(register: Register) -> None:
    """Register response-cache backend factories (called with keyword options, return a
    CacheBackend)."""


@hookspec
def register_plugins(register: KindRegister) -> None:
    """Register anything of any kind, e.g. ``register("vector_store", "pinecone", cls)``."""


@hookspec
def instrument_client(client: Aether) -> None:
    """See every new client: called once at the end of each ``Aether(...)``.

    For observability plugins (tracing, metrics, logging): subscribe to ``client.events``
    and open a scope around each call with ``client.events.add_scope(...)`` (see
    :mod:`aether.events`). A bus can be shared by several clients: subscribe to each bus once.

    Declare an entry point in the ``aether.instrumentations`` group (``otel =
    "aether_otel._plugin"``) so the plugin is loaded at the first client; only those are
    loaded for it. Keep that module's import cheap, since it happens in every process that
    builds a client: do the work only when the plugin is enabled. What the hook raises is
    logged (WARNING, ``aether.plugins``) and the client is built anyway.
    """
