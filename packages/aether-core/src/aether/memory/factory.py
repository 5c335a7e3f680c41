"""Name → session store: ``AETHER_SESSION_STORE`` (or an explicit spec) resolved by registry.

The spec is ``NAME``, ``NAME?key=value&...`` or ``NAME://LOCATION[?key=value&...]``:

| Spec | Builds |
|---|---|
| ``memory`` (the default) | ``InMemorySessionStore()`` |
| ``sqlite:///var/lib/app/sessions.db`` | ``factory(location="/var/lib/app/sessions.db")`` |
| ``sqlite://sessions.db?timeout=30`` | ``factory(location="sessions.db", timeout="30")`` |
| ``sqlite`` | ``factory()`` (the plugin reads its own variables, e.g. ``AETHER_SQLITE_PATH``) |

``NAME`` is looked up under the ``session_store`` kind of the registry (code registrations
first, then the installed plugin whose ``aether.session_stores`` entry point declares it).
Everything after ``NAME://`` up to ``?`` is passed verbatim as the ``location`` keyword, and
each query pair as a string keyword; the factory converts and validates its own options.
Error messages name options, never their values, since a location may hold a password.
"""

from __future__ import annotations

import inspect
import re
from typing import Any
from urllib.parse import parse_qsl

from aether import config
from aether.errors import ConfigurationError, PluginNotFoundError
from aether.memory.contracts import SessionStore
from aether.registry import Registry, default_registry

__all__ = ["SESSION_STORE_ENV", "SESSION_STORE_KIND", "create_session_store", "parse_store_spec"]

SESSION_STORE_KIND = "session_store"
"""The registry kind (entry-point group ``aether.session_stores``)."""

SESSION_STORE_ENV = "AETHER_SESSION_STORE"
"""The variable choosing the default store of ``Aether()``."""

_DEFAULT = "memory"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*\Z")


def parse_store_spec(spec: str) -> tuple[str, dict[str, str]]:
    """Split a store spec into its name and the keyword options for its factory.

    Raises:
        ConfigurationError: The spec has no valid name or a malformed query.
    """
    raw = spec.strip()
    if "://" in raw:
        name, _, rest = raw.partition("://")
        location, _, query = rest.partition("?")
    else:
        name, _, query = raw.partition("?")
        location = ""
    if not _NAME.match(name):
        raise ConfigurationError(
            f"Session store spec must start with a store name such as 'memory' or 'sqlite' "
            f"(NAME or NAME://LOCATION), got name {name!r}. Fix {SESSION_STORE_ENV} or the "
            f"spec you passed."
        )
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise ConfigurationError(
            f"The options after '?' in the {name!r} session store spec are malformed; write "
            f"them as key=value pairs joined by '&'."
        ) from None
    options: dict[str, str] = {}
    for key, value in pairs:
        if not key.isidentifier():
            raise ConfigurationError(
                f"Session store option names must be identifiers; the {name!r} spec has {key!r}."
            )
        if key in options or key == "location":
            raise ConfigurationError(
                f"Session store option {key!r} is given more than once in the {name!r} spec."
            )
        options[key] = value
    if location:
        options["location"] = location
    return name, options


def create_session_store(
    spec: str | None = None, *, registry: Registry | None = None
) -> SessionStore:
    """Build the session store named by ``spec``, else ``AETHER_SESSION_STORE``, else memory.

    Args:
        spec: A store spec (see the module docs); None reads ``AETHER_SESSION_STORE``.
        registry: Where the name is resolved; default: the process-wide registry.

    Raises:
        PluginNotFoundError: No registered store and no installed plugin has that name; the
            message names the closest ones.
        ConfigurationError: The spec is malformed, the factory does not take its options, or
            what it built is not a :class:`~aether.memory.SessionStore`.
    """
    chosen = spec if spec is not None else config.env_str(SESSION_STORE_ENV, _DEFAULT)
    assert chosen is not None
    name, options = parse_store_spec(chosen)
    target = registry if registry is not None else default_registry
    try:
        factory = target.get(SESSION_STORE_KIND, name)
    except PluginNotFoundError as exc:
        if spec is not None:
            raise
        # The name came from a variable that may be set far from the code: say which one.
        raise PluginNotFoundError(
            exc.kind, exc.name, exc.available, setting=SESSION_STORE_ENV
        ) from None
    _check_accepts(name, factory, options)
    store = factory(**options)
    if not isinstance(store, SessionStore):
        raise ConfigurationError(
            f"Session store {name!r} built a {type(store).__name__}, which lacks the "
            f"SessionStore methods (load, save, delete, exists); fix the plugin's factory."
        )
    return store


def _check_accepts(name: str, factory: Any, options: dict[str, str]) -> None:
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):  # a builtin or C callable: let the call itself decide
        return
    try:
        signature.bind(**options)
    except TypeError as exc:
        given = ", ".join(sorted(options)) or "no options"
        raise ConfigurationError(
            f"Session store {name!r} cannot be built from the spec's options ({given}): {exc}. "
            f"Check the store's documentation for the location and options it takes."
        ) from None
