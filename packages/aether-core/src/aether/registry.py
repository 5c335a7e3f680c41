"""The generic registry: kinds of pluggable things, each a mapping of names to objects.

Kinds used by Aether itself are ``provider``, ``tool``, ``session_store`` and ``cache``; any
other kind (``vector_store``, ...) works the same way. A name is resolved in this order: what
application code registered, then the one installed plugin whose entry point declares that
name (imported only then), else :class:`~aether.errors.PluginNotFoundError`, which lists the
names that do exist and suggests the closest ones.

    from aether import register

    @register("vector_store", "pinecone", dimension=1536)
    class PineconeStore: ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol, TypeVar

from aether.config import redacted
from aether.errors import PluginConflictError, PluginNotFoundError

__all__ = [
    "CODE_SOURCE",
    "Registry",
    "RegistryEntry",
    "default_registry",
    "get",
    "list_kind",
    "register",
    "register_lazy",
]

T = TypeVar("T")

CODE_SOURCE = "<code>"
"""The ``source`` of entries registered by application code rather than a distribution."""

_UNSET: Any = object()


class PluginLoader(Protocol):
    """What the registry asks when a name is not registered yet."""

    def load_name(self, kind: str, name: str) -> bool:
        """Import the plugin declaring ``name`` for ``kind``; True if one was found."""
        ...

    def declared_names(self, kind: str) -> list[str]:
        """Names installed plugins declare for ``kind`` (without importing anything)."""
        ...


@dataclass(frozen=True, slots=True)
class RegistryEntry:
    """One registered thing.

    Attributes:
        kind: The kind, e.g. ``"provider"``.
        name: The name users select it by.
        metadata: Free-form keywords given at registration (``api_key_env``, ...).
        source: The distribution that registered it, or ``"<code>"``.
    """

    kind: str
    name: str
    _value: Any = field(repr=False)
    _loader: Callable[[], Any] | None = field(repr=False, default=None)
    metadata: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    source: str = CODE_SOURCE

    @property
    def obj(self) -> Any:
        """The registered object (a lazy entry is materialised on first access)."""
        if self._value is _UNSET:
            assert self._loader is not None
            object.__setattr__(self, "_value", self._loader())
        return self._value

    def __repr__(self) -> str:
        # Metadata is free-form (``register("vector_store", "x", api_key=...)`` is possible),
        # so secret-looking entries are masked.
        return (
            f"RegistryEntry(kind={self.kind!r}, name={self.name!r}, "
            f"metadata={redacted(self.metadata)!r}, source={self.source!r})"
        )


class Registry:
    """Kinds → names → :class:`RegistryEntry`, with plugin resolution on a miss."""

    def __init__(
        self,
        loader: PluginLoader | None = None,
        *,
        loader_factory: Callable[[], PluginLoader] | None = None,
    ) -> None:
        self._kinds: dict[str, dict[str, RegistryEntry]] = {}
        self._loader = loader
        self._loader_factory = loader_factory

    @property
    def loader(self) -> PluginLoader | None:
        """Where names missing from the registry are looked for (created on first need)."""
        if self._loader is None and self._loader_factory is not None:
            self._loader = self._loader_factory()
        return self._loader

    def __repr__(self) -> str:
        return f"Registry({ {k: sorted(v) for k, v in self._kinds.items()} })"

    def add(
        self,
        kind: str,
        name: str,
        obj: Any = _UNSET,
        *,
        loader: Callable[[], Any] | None = None,
        source: str = CODE_SOURCE,
        metadata: Mapping[str, Any] | None = None,
    ) -> RegistryEntry:
        """Register ``obj`` (or a zero-argument ``loader``) under ``kind``/``name``.

        Application code may re-register a name (the latest wins). A distribution claiming a
        name that another distribution already registered is a :class:`PluginConflictError`;
        a name registered by application code is never overwritten by a plugin.
        """
        _check_identifier("kind", kind)
        _check_identifier("name", name)
        if (obj is _UNSET) == (loader is None):
            raise TypeError("Registry.add takes exactly one of obj or loader.")
        entries = self._kinds.setdefault(kind, {})
        existing = entries.get(name)
        if existing is not None and source != CODE_SOURCE:
            if existing.source == CODE_SOURCE:
                return existing
            if existing.source != source:
                raise PluginConflictError(kind, name, [existing.source, source])
        entry = RegistryEntry(
            kind=kind,
            name=name,
            _value=obj,
            _loader=loader,
            metadata=MappingProxyType(dict(metadata or {})),
            source=source,
        )
        entries[name] = entry
        return entry

    def register(self, kind: str, name: str, **metadata: Any) -> Callable[[T], T]:
        """Decorator: register the decorated object under ``kind``/``name`` with metadata."""

        def decorator(obj: T) -> T:
            self.add(kind, name, obj, metadata=metadata)
            return obj

        return decorator

    def register_lazy(
        self, kind: str, name: str, loader: Callable[[], Any], **metadata: Any
    ) -> RegistryEntry:
        """Register a name whose object is built by ``loader`` on first use."""
        return self.add(kind, name, loader=loader, metadata=metadata)

    def unregister(self, kind: str, name: str) -> None:
        """Remove a registration; unknown names are a ``KeyError``."""
        del self._kinds[kind][name]

    def entry(self, kind: str, name: str) -> RegistryEntry:
        """The entry for ``kind``/``name``, importing the plugin that declares it if needed."""
        found = self._kinds.get(kind, {}).get(name)
        if found is not None:
            return found
        if self.loader is not None and self.loader.load_name(kind, name):
            found = self._kinds.get(kind, {}).get(name)
            if found is not None:
                return found
        raise PluginNotFoundError(kind, name, self.available(kind))

    def get(self, kind: str, name: str) -> Any:
        """The object registered as ``kind``/``name`` (see :meth:`entry`)."""
        return self.entry(kind, name).obj

    def list_kind(self, kind: str) -> dict[str, RegistryEntry]:
        """What is registered for ``kind`` now (plugins not yet imported are not included)."""
        return dict(self._kinds.get(kind, {}))

    def available(self, kind: str) -> list[str]:
        """Registered names plus names installed plugins declare, without importing any."""
        names = set(self._kinds.get(kind, {}))
        if self.loader is not None:
            names.update(self.loader.declared_names(kind))
        return sorted(names)

    def kinds(self) -> list[str]:
        """Every kind something was registered under."""
        return sorted(self._kinds)

    @contextmanager
    def isolated(self) -> Iterator[Registry]:
        """Restore the registrations as they were on exit (for tests)."""
        saved = {kind: dict(entries) for kind, entries in self._kinds.items()}
        try:
            yield self
        finally:
            self._kinds = saved


def _check_identifier(what: str, value: str) -> None:
    if not isinstance(value, str) or not value or value != value.strip():
        raise ValueError(
            f"Registry {what} must be a non-empty string without padding, got {value!r}."
        )


def _default_loader() -> PluginLoader:
    from aether.plugins.manager import plugin_manager

    return plugin_manager()


default_registry: Registry = Registry(loader_factory=_default_loader)
"""The registry ``Aether`` and the module-level functions use."""


def register(kind: str, name: str, **metadata: Any) -> Callable[[T], T]:
    """Decorator: register an object of any kind in the default registry."""
    return default_registry.register(kind, name, **metadata)


def register_lazy(
    kind: str, name: str, loader: Callable[[], Any], **metadata: Any
) -> RegistryEntry:
    """Register a name in the default registry whose object ``loader`` builds on first use."""
    return default_registry.register_lazy(kind, name, loader, **metadata)


def get(kind: str, name: str) -> Any:
    """Resolve ``kind``/``name`` in the default registry (importing its plugin if needed)."""
    return default_registry.get(kind, name)


def list_kind(kind: str) -> dict[str, RegistryEntry]:
    """What the default registry holds for ``kind`` now."""
    return default_registry.list_kind(kind)
