"""Find plugins through entry points, load one only when a name it declares is asked for.

* Listing reads entry-point metadata only: nothing is imported.
* Resolving a name imports just the module behind that entry point, registers it with pluggy
  and runs its hooks once; what the hooks register is committed only if they all succeed.
* A plugin whose import or hook fails is recorded (distribution, entry point, traceback) and
  raises :class:`~aether.errors.PluginLoadError` only when its names are asked for; the host and
  other plugins keep working. That includes ``sys.exit()`` at import and any other
  ``BaseException`` except ``KeyboardInterrupt`` and ``asyncio.CancelledError``, which stop
  the caller as they should. ``AETHER_STRICT=1`` re-raises the original exception instead
  (wrapped in :class:`~aether.errors.PluginLoadError` when it is not an ``Exception``, so a
  plugin's ``sys.exit()`` never ends the host silently).
* ``AETHER_DISABLE_PLUGIN_AUTOLOAD``, ``AETHER_PLUGINS_ALLOW`` and ``AETHER_PLUGINS_BLOCK``
  (distribution names, comma-separated) are read at call time. Core's own built-ins (the
  ``aether-core`` distribution) are exempt.
* A plugin that fails to load is also one WARNING line on ``aether.plugins``, once.
* Instrumentation plugins (entry-point group ``aether.instrumentations``) are loaded at the
  first client and see every client through the ``instrument_client`` hook
  (:meth:`PluginManager.instrument`).
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import logging
import re
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import pluggy

from aether import config
from aether.errors import PluginConflictError, PluginError, PluginLoadError
from aether.plugins import hookspecs
from aether.registry import Registry

if TYPE_CHECKING:
    from aether.client import Aether

__all__ = [
    "EntryPointInfo",
    "PluginInfo",
    "PluginManager",
    "PluginStatus",
    "group_for",
    "kind_for",
    "plugin_manager",
]

logger = logging.getLogger("aether.plugins")

GROUP_PREFIX = "aether."
# Only core's own distribution is exempt from the env controls. Keyed on the distribution,
# not on module names: a third party could name its module ``aether.something``.
CORE_DISTRIBUTION = "aether-core"

PluginStatus = Literal["available", "loaded", "failed", "blocked", "not allowed", "disabled"]

# What a plugin may raise that is not the plugin's failure but the caller's signal to stop.
_PASS_THROUGH = (KeyboardInterrupt, asyncio.CancelledError)

# Which kind each kind-specific hook registers into.
_KIND_HOOKS = {
    "register_providers": "provider",
    "register_tools": "tool",
    "register_session_stores": "session_store",
    "register_caches": "cache",
}


def group_for(kind: str) -> str:
    """The entry-point group of a kind: ``provider`` → ``aether.providers``."""
    return f"{GROUP_PREFIX}{kind}s"


def kind_for(group: str) -> str | None:
    """The kind of an entry-point group, or None if the group is not one of Aether's."""
    if not group.startswith(GROUP_PREFIX) or not group.endswith("s"):
        return None
    return group[len(GROUP_PREFIX) : -1] or None


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True, slots=True)
class EntryPointInfo:
    """One ``aether.*`` entry point: the name it provides and the module behind it."""

    group: str
    name: str
    value: str

    @property
    def kind(self) -> str | None:
        return kind_for(self.group)


@dataclass(slots=True)
class PluginInfo:
    """What ``aether plugins`` shows about one distribution."""

    distribution: str
    version: str
    entry_points: list[EntryPointInfo]
    status: PluginStatus = "available"
    error: str | None = None
    traceback: str | None = None
    registered: dict[str, list[str]] = field(default_factory=dict)
    builtin: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "distribution": self.distribution,
            "version": self.version,
            "builtin": self.builtin,
            "status": self.status,
            "entry_points": [
                {"group": ep.group, "name": ep.name, "value": ep.value} for ep in self.entry_points
            ],
            "registered": {kind: sorted(names) for kind, names in self.registered.items()},
            "error": self.error,
            "traceback": self.traceback,
        }


@dataclass(slots=True)
class _Distribution:
    name: str
    key: str
    version: str
    entry_points: list[importlib.metadata.EntryPoint]
    builtin: bool
    loaded: dict[str, BaseException | None] = field(default_factory=dict)  # module → error
    # What each module's hooks registered, so it can be registered again (not re-imported)
    # after the registry was reset, e.g. by Registry.isolated() in tests.
    staged: dict[str, list[tuple[str, str, Any, dict[str, Any]]]] = field(default_factory=dict)
    tracebacks: dict[str, str] = field(default_factory=dict)
    registered: dict[str, list[str]] = field(default_factory=dict)


class PluginManager:
    """Discovers ``aether.*`` entry points and loads plugin modules into a :class:`Registry`."""

    def __init__(
        self,
        registry: Registry,
        *,
        distributions: Callable[[], Iterable[importlib.metadata.Distribution]] | None = None,
    ) -> None:
        self.registry = registry
        self._distributions_source = distributions or importlib.metadata.distributions
        self._dists: dict[str, _Distribution] | None = None
        self._pluggy = pluggy.PluginManager(hookspecs.PROJECT)
        self._pluggy.add_hookspecs(hookspecs)
        # The instrument_client implementations, once the instrumentation plugins are loaded.
        self._instrumenters: list[pluggy.HookImpl] | None = None

    def __repr__(self) -> str:
        count = "?" if self._dists is None else str(len(self._dists))
        return f"PluginManager(distributions={count})"

    # --- discovery (metadata only) -----------------------------------------------------

    def _discover(self) -> dict[str, _Distribution]:
        if self._dists is not None:
            return self._dists
        found: dict[str, _Distribution] = {}
        for dist in self._distributions_source():
            text = dist.read_text("entry_points.txt")
            if not text or f"[{GROUP_PREFIX}" not in text:
                continue
            name = dist.name
            key = _normalize(name)
            # The same distribution reachable twice (lib and lib64 symlinks, a .pth duplicate):
            # the first on sys.path wins, as for imports.
            if key in found:
                continue
            eps = [ep for ep in dist.entry_points if kind_for(ep.group) is not None]
            if not eps:
                continue
            found[key] = _Distribution(name, key, dist.version, eps, key == CORE_DISTRIBUTION)
        self._dists = found
        return found

    def refresh(self) -> None:
        """Forget the discovered distributions (after installing a plugin at run time)."""
        self._dists = None
        self._instrumenters = None

    def _status(self, dist: _Distribution) -> PluginStatus:
        if dist.builtin:
            return "available"
        if config.env_bool("AETHER_DISABLE_PLUGIN_AUTOLOAD"):
            return "disabled"
        allow = {_normalize(n) for n in config.env_list("AETHER_PLUGINS_ALLOW")}
        if allow and dist.key not in allow:
            return "not allowed"
        if dist.key in {_normalize(n) for n in config.env_list("AETHER_PLUGINS_BLOCK")}:
            return "blocked"
        return "available"

    def declared_names(self, kind: str) -> list[str]:
        """Names usable distributions declare for ``kind``; imports nothing."""
        group = group_for(kind)
        return sorted(
            {
                ep.name
                for dist in self._discover().values()
                if self._status(dist) == "available"
                for ep in dist.entry_points
                if ep.group == group
            }
        )

    def infos(self) -> list[PluginInfo]:
        """Every discovered distribution, with what it declares and its load status."""
        result = []
        for dist in sorted(self._discover().values(), key=lambda d: (not d.builtin, d.key)):
            status = self._status(dist)
            error = next((e for e in dist.loaded.values() if e is not None), None)
            if status == "available" and dist.loaded:
                status = "failed" if error is not None else "loaded"
            result.append(
                PluginInfo(
                    distribution=dist.name,
                    version=dist.version,
                    entry_points=[
                        EntryPointInfo(ep.group, ep.name, ep.value) for ep in dist.entry_points
                    ],
                    status=status,
                    error=None if error is None else _describe(error),
                    traceback="\n".join(dist.tracebacks.values()) or None,
                    registered={k: list(v) for k, v in dist.registered.items()},
                    builtin=dist.builtin,
                )
            )
        return result

    # --- loading -----------------------------------------------------------------------

    def load_name(self, kind: str, name: str) -> bool:
        """Load the one plugin declaring ``name`` for ``kind``; False if none declares it."""
        group = group_for(kind)
        candidates = [
            (dist, ep)
            for dist in self._discover().values()
            for ep in dist.entry_points
            if ep.group == group and ep.name == name
        ]
        if not candidates:
            return False
        usable = [(dist, ep) for dist, ep in candidates if self._status(dist) == "available"]
        if not usable:
            dist = candidates[0][0]
            raise PluginError(
                f"{kind} {name!r} is provided by {dist.name}, which is {self._status(dist)} "
                f"(AETHER_DISABLE_PLUGIN_AUTOLOAD / AETHER_PLUGINS_ALLOW / AETHER_PLUGINS_BLOCK); "
                f"change those settings to use it."
            )
        if len({dist.key for dist, _ in usable}) > 1:
            raise PluginConflictError(kind, name, [dist.name for dist, _ in usable])
        dist, ep = usable[0]
        self._load(dist, ep)
        registered = self.registry.list_kind(kind).get(name)
        if registered is None:
            raise PluginLoadError(
                dist.name,
                f"{ep.group}:{ep.name}",
                f"its entry point declares {kind} {name!r} but its hooks registered no such name",
            )
        return True

    def load_all(self, kind: str | None = None) -> list[PluginInfo]:
        """Load every usable plugin (of one kind, or all); failures are recorded, not raised.

        With ``AETHER_STRICT=1`` the first failure is raised.
        """
        for dist in self._discover().values():
            if self._status(dist) != "available":
                continue
            for ep in dist.entry_points:
                if kind is not None and ep.group != group_for(kind):
                    continue
                try:
                    self._load(dist, ep)
                except PluginError:
                    if config.strict_mode():
                        raise
        return self.infos()

    def instrument(self, client: Aether) -> None:
        """Hand a new client to each plugin's ``instrument_client`` hook.

        The first call loads the usable plugins declaring an ``aether.instrumentations``
        entry point (and no others); with none installed, later calls cost next to nothing.
        A hook that raises is logged (WARNING) and skipped, so the client is built anyway;
        ``AETHER_STRICT=1`` raises instead.
        """
        hooks = self._instrumenters
        if hooks is None:
            hooks = self._instrumenters = self._load_instrumentations()
        for hook in hooks:
            try:
                hook.function(*[client for _ in hook.argnames])
            except _PASS_THROUGH:
                raise
            except Exception as exc:
                if config.strict_mode():
                    raise
                logger.warning(
                    "Plugin %s raised instrumenting a client and was skipped: %s.",
                    hook.plugin_name,
                    _describe(exc),
                )

    def _load_instrumentations(self) -> list[pluggy.HookImpl]:
        group = group_for("instrumentation")
        for dist in self._discover().values():
            if self._status(dist) != "available":
                continue
            for ep in dist.entry_points:
                if ep.group != group:
                    continue
                try:
                    self._load(dist, ep)
                except PluginError:
                    if config.strict_mode():
                        raise
        return list(self._pluggy.hook.instrument_client.get_hookimpls())

    def _load(self, dist: _Distribution, ep: importlib.metadata.EntryPoint) -> None:
        module_ref = ep.value
        if module_ref in dist.loaded:
            error = dist.loaded[module_ref]
            if error is not None:
                if config.strict_mode() and _is_plain_failure(error):
                    raise error  # strict mode shows the original, the second time too
                raise _load_error(dist, ep, error) from error
            missing = [
                item
                for item in dist.staged.get(module_ref, [])
                if item[1] not in self.registry.list_kind(item[0])
            ]
            self._commit(dist, missing)
            return
        try:
            plugin = ep.load()
            self._pluggy.register(plugin, name=f"{dist.name}:{module_ref}")
            try:
                self._pluggy.check_pending()
                staged = self._run_hooks(plugin)
            except BaseException:
                self._pluggy.unregister(plugin)
                raise
            self._commit(dist, staged)
            dist.staged[module_ref] = staged
        except PluginConflictError as exc:
            dist.loaded[module_ref] = exc
            raise
        except _PASS_THROUGH:
            raise
        except BaseException as exc:
            dist.loaded[module_ref] = exc
            dist.tracebacks[module_ref] = "".join(traceback.format_exception(exc))
            logger.warning(
                "Plugin %s failed to load (%s:%s): %s. What it provides is unavailable; "
                "`aether plugins` shows the traceback.",
                dist.name,
                ep.group,
                ep.name,
                _describe(exc),
            )
            if config.strict_mode() and isinstance(exc, Exception):
                raise
            raise _load_error(dist, ep, exc) from exc
        dist.loaded[module_ref] = None

    def _run_hooks(self, plugin: object) -> list[tuple[str, str, Any, dict[str, Any]]]:
        staged: list[tuple[str, str, Any, dict[str, Any]]] = []
        others = [p for p in self._pluggy.get_plugins() if p is not plugin]

        def for_kind(kind: str) -> hookspecs.Register:
            def register(name: str, obj: Any, /, **metadata: Any) -> None:
                staged.append((kind, name, obj, metadata))

            return register

        def register_any(kind: str, name: str, obj: Any, /, **metadata: Any) -> None:
            staged.append((kind, name, obj, metadata))

        for hook_name, kind in _KIND_HOOKS.items():
            self._pluggy.subset_hook_caller(hook_name, remove_plugins=others)(
                register=for_kind(kind)
            )
        self._pluggy.subset_hook_caller("register_plugins", remove_plugins=others)(
            register=register_any
        )
        return staged

    def _commit(
        self, dist: _Distribution, staged: list[tuple[str, str, Any, dict[str, Any]]]
    ) -> None:
        added: list[tuple[str, str]] = []
        try:
            for kind, name, obj, metadata in staged:
                before = self.registry.list_kind(kind).get(name)
                entry = self.registry.add(kind, name, obj, source=dist.name, metadata=metadata)
                if entry is not before:
                    added.append((kind, name))
        except BaseException:
            for kind, name in added:
                self.registry.unregister(kind, name)
            raise
        for kind, name in added:
            names = dist.registered.setdefault(kind, [])
            if name not in names:
                names.append(name)


def _describe(error: BaseException) -> str:
    if isinstance(error, SystemExit):
        return f"SystemExit: it called sys.exit({error.code!r}) while loading"
    return f"{type(error).__name__}: {error}"


def _is_plain_failure(error: BaseException) -> bool:
    """An ``Exception`` of the plugin's own: strict mode re-raises it as it is."""
    return isinstance(error, Exception) and not isinstance(error, PluginError)


def _load_error(
    dist: _Distribution, ep: importlib.metadata.EntryPoint, error: BaseException
) -> PluginError:
    if isinstance(error, PluginError):
        return error
    return PluginLoadError(dist.name, f"{ep.group}:{ep.name}", _describe(error))


_default: PluginManager | None = None


def plugin_manager() -> PluginManager:
    """The process-wide plugin manager, feeding :data:`aether.registry.default_registry`."""
    global _default
    if _default is None:
        from aether.registry import default_registry

        _default = PluginManager(default_registry)
    return _default
