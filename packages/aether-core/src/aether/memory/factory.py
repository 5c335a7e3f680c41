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
The format is shared with response caches (:mod:`aether._specs`): everything after
``NAME://`` up to ``?`` is passed verbatim as the ``location`` keyword, and each query pair as
a string keyword; the factory converts and validates its own options, with
:func:`option_seconds` and :func:`option_int` for numbers (a cache backend's factory too).
The parser's own errors name options, never their values, since a location may hold a password.
"""

from __future__ import annotations

from aether._specs import SpecKind, build_from_spec, option_int, option_seconds, parse_spec
from aether.errors import ConfigurationError
from aether.memory.contracts import SessionStore
from aether.registry import Registry

__all__ = [
    "SESSION_STORE_ENV",
    "SESSION_STORE_KIND",
    "create_session_store",
    "option_int",
    "option_seconds",
    "parse_store_spec",
]

SESSION_STORE_KIND = "session_store"
"""The registry kind (entry-point group ``aether.session_stores``)."""

SESSION_STORE_ENV = "AETHER_SESSION_STORE"
"""The variable choosing the default store of ``Aether()``."""

_STORES = SpecKind(
    kind=SESSION_STORE_KIND,
    noun="session store",
    short="store",
    env=SESSION_STORE_ENV,
    default="memory",
)


def parse_store_spec(spec: str) -> tuple[str, dict[str, str]]:
    """Split a store spec into its name and the keyword options for its factory.

    Raises:
        ConfigurationError: The spec has no valid name or a malformed query.
    """
    return parse_spec(spec, _STORES)


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
    name, store = build_from_spec(spec, _STORES, registry=registry)
    if not isinstance(store, SessionStore):
        raise ConfigurationError(
            f"Session store {name!r} built a {type(store).__name__}, which lacks the "
            f"SessionStore methods (load, save, delete, exists); fix the plugin's factory."
        )
    return store
