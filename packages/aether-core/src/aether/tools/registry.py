"""``@register_tool`` and name resolution: tools live in the generic registry as kind ``tool``.

    @register_tool(description="Add two numbers")
    def add(a: int, b: int) -> int:
        return a + b

    await client.ask("What is 17 + 25?", tools=["add"])

A registered tool is only offered to a model when named in ``tools=[...]``. Names registered
in code win; otherwise the installed tool pack declaring the name (entry-point group
``aether.tools``) is imported on first use.

A :class:`ToolSet` (anything with an ``aether_tools(*names)`` method, such as a connection to
a tool server) stands for several tools: ``tools=[toolset]`` offers all of them, and
registered under a name, ``tools=["name"]`` offers all and ``tools=["name.member"]`` one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any, Final, Protocol, TypeVar, overload, runtime_checkable

from aether._names import close_matches, did_you_mean, listing
from aether.errors import ConfigurationError, PluginNotFoundError, ToolNotFoundError
from aether.registry import Registry, default_registry
from aether.tools.tool import Tool

__all__ = [
    "TOOL_KIND",
    "ToolSet",
    "check_allowed_tools",
    "get_tool",
    "list_tools",
    "register_tool",
    "resolve_tools",
]

TOOL_KIND: Final = "tool"
_TOOL_ATTRIBUTE: Final = "__aether_tool__"
# Where tools=[fn] keeps the Tool it built for an undecorated function, so its schema is
# generated once. An attribute rather than a weak-keyed cache: the Tool holds the function,
# so a weak key would be kept alive by its own value and never expire.
_AUTO_TOOL_ATTRIBUTE: Final = "__aether_auto_tool__"

F = TypeVar("F", bound=Callable[..., Any])


@runtime_checkable
class ToolSet(Protocol):
    """Several tools behind one object: ``tools=[toolset]`` offers them all.

    Registered under a name (``register_tool`` cannot, use the registry's
    ``add("tool", name, toolset)`` or a tool pack's ``register(name, toolset)``),
    ``tools=["name"]`` offers all its tools and ``tools=["name.member"]`` only ``member``.
    """

    def aether_tools(self, *names: str) -> Sequence[Tool]:
        """The tools named (by the set's own names), or all of them when none are named.

        Raises:
            ToolNotFoundError: A name is not one of the set's tools.
        """
        ...


@overload
def register_tool(function: F, /) -> F: ...


@overload
def register_tool(tool: Tool, /, *, registry: Registry | None = None) -> Tool: ...


@overload
def register_tool(
    *,
    name: str | None = None,
    description: str | None = None,
    timeout: float | None = None,
    strict: bool = False,
    registry: Registry | None = None,
) -> Callable[[F], F]: ...


def register_tool(
    target: Any = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    timeout: float | None = None,
    strict: bool = False,
    registry: Registry | None = None,
) -> Any:
    """Register a function as a tool; works bare (``@register_tool``) or with options.

    The function is returned unchanged, so it can still be called directly. Its JSON Schema
    and validator are built now, so a bad annotation fails at import, not mid-conversation.
    Registering a name again replaces the earlier tool. A tool declared from a schema
    (:meth:`Tool.from_schema`) registers as ``register_tool(tool)``.

    Args:
        target: The function (or an already built :class:`Tool`) when used bare.
        name: What the model calls it; default: the function's name.
        description: What it does, for the model; default: the docstring's summary.
        timeout: Seconds a call may take; default: no limit (``tool_timeout=`` overrides).
        strict: Ask providers to hold the model to the schema exactly (``ToolSpec.strict``).
        registry: Where to register; default: the process-wide registry.

    Raises:
        TypeError: The target is not a function, or is a generator function (return a list).
        ConfigurationError: The name or a parameter cannot be described to a model.
    """
    where = registry if registry is not None else default_registry
    if isinstance(target, Tool):
        where.add(TOOL_KIND, target.name, target)
        return target

    def decorator(function: F) -> F:
        tool = Tool(function, name=name, description=description, timeout=timeout, strict=strict)
        where.add(TOOL_KIND, tool.name, tool)
        # So tools=[add] reuses the built schema; where attributes cannot be set (builtins,
        # slotted callables), tools=[fn] builds a fresh Tool instead.
        with contextlib.suppress(AttributeError, TypeError):
            setattr(function, _TOOL_ATTRIBUTE, tool)
        return function

    if target is None:
        return decorator
    if not callable(target):
        raise TypeError(f"@register_tool decorates a function, got {target!r}.")
    return decorator(target)


def get_tool(name: str, *, registry: Registry | None = None) -> Tool:
    """The tool registered as ``name``, importing the tool pack that declares it if needed.

    Raises:
        ToolNotFoundError: Nothing registers or declares ``name``; the message lists what does
            and the closest names (also on its ``__cause__``'s ``suggestions``).
        PluginLoadError: The tool pack declaring ``name`` failed to load.
    """
    where = registry if registry is not None else default_registry
    try:
        entry = where.entry(TOOL_KIND, name)
    except PluginNotFoundError as exc:
        raise ToolNotFoundError(
            f"No tool named {name!r}. {did_you_mean(exc.suggestions)}Available tools: "
            f"{listing(exc.available)}. Register it with @register_tool, or if a tool pack "
            f"provides it, install that tool pack (`aether plugins` lists what is installed)."
        ) from exc
    obj = entry.obj
    if isinstance(obj, Tool):
        if obj.name == name:
            return obj
        tool = obj._renamed(name)
    elif callable(obj):
        # A tool pack may register a plain function; build its Tool once and keep it.
        tool = Tool(obj, name=name)
    else:
        raise ConfigurationError(
            f"The tool registered as {name!r} (by {entry.source}) is {obj!r}, not a function "
            f"or Tool; register a function or aether.tools.make_tool(...)."
        )
    where.add(TOOL_KIND, name, tool, source=entry.source, metadata=entry.metadata)
    return tool


def list_tools(*, registry: Registry | None = None) -> list[str]:
    """Names usable in ``tools=[...]``: registered ones and those installed tool packs declare.

    Nothing is imported to list them.
    """
    where = registry if registry is not None else default_registry
    return where.available(TOOL_KIND)


def resolve_tools(
    tools: Sequence[str | Tool | ToolSet | Callable[..., Any]], *, registry: Registry | None = None
) -> list[Tool]:
    """Turn a ``tools=[...]`` argument into :class:`Tool` objects, in order.

    Accepts registered names, ``Tool`` objects, :class:`ToolSet` objects (expanded to their
    tools; ``"set.member"`` names one tool of a registered set) and functions (a function
    decorated with ``@register_tool`` reuses its tool; any other one is made a tool on the
    spot).

    Raises:
        ToolNotFoundError: A name is not registered nor declared by an installed tool pack.
        ConfigurationError: Two tools share a name (the model could not tell them apart).
        TypeError: An item is none of the above.
    """
    if isinstance(tools, (str, bytes)):
        raise TypeError(
            f"tools must be a list of tools, got the string {tools!r}; use [{tools!r}]."
        )
    resolved: list[Tool] = []
    seen: dict[str, tuple[Tool, object]] = {}
    for item in tools:
        for tool in _expand(item, registry):
            previous = seen.get(tool.name)
            if previous is not None:
                if previous[0] is tool:
                    continue  # the same tool twice is harmless
                raise ConfigurationError(
                    f"Two different tools are named {tool.name!r} in tools=[...] (from "
                    f"{previous[1]!r} and {item!r}); the model could not tell them apart. "
                    f"Rename one (register_tool(name=...)), or give a tool set a prefix."
                )
            seen[tool.name] = (tool, item)
            resolved.append(tool)
    return resolved


def _expand(item: object, registry: Registry | None) -> Sequence[Tool]:
    """The tools one item of ``tools=[...]`` stands for."""
    if isinstance(item, str):
        return _tools_named(item, registry)
    if isinstance(item, Tool):
        return [item]
    # Before callable(): a tool set may well be callable for other reasons.
    if isinstance(item, ToolSet):
        return _checked(item, item.aether_tools())
    if callable(item):
        return [_tool_of_function(item)]
    raise TypeError(
        f"tools=[...] takes tool names, Tool objects, tool sets or functions, got {item!r}."
    )


def _tools_named(name: str, registry: Registry | None) -> Sequence[Tool]:
    """A registered tool, a registered tool set, or ``set.member``: one tool of a set."""
    where = registry if registry is not None else default_registry
    with contextlib.suppress(PluginNotFoundError):
        found = where.entry(TOOL_KIND, name).obj
        if isinstance(found, ToolSet):
            return _checked(found, found.aether_tools())
    head, dot, member = name.partition(".")
    if dot and head and member:
        with contextlib.suppress(PluginNotFoundError):
            found = where.entry(TOOL_KIND, head).obj
            if isinstance(found, ToolSet):
                return _checked(found, found.aether_tools(member))
    return [get_tool(name, registry=registry)]


def _checked(toolset: ToolSet, tools: Sequence[Tool]) -> Sequence[Tool]:
    for tool in tools:
        if not isinstance(tool, Tool):
            raise TypeError(f"{toolset!r}.aether_tools() must return Tool objects, got {tool!r}.")
    return tools


def check_allowed_tools(allowed: Sequence[str], tools: Sequence[Tool]) -> list[str]:
    """``allowed_tools=[...]`` checked against the call's tools: the names, in order, once each.

    Offering every tool but allowing a few keeps the tool list (and so the provider's prompt
    cache) the same from call to call, where passing fewer ``tools`` would not.

    Raises:
        ConfigurationError: ``allowed`` is empty, or names a tool that is not among ``tools``
            (the message lists them and the closest names).
        TypeError: ``allowed`` is a string or holds something other than names.
    """
    if isinstance(allowed, (str, bytes)):
        raise TypeError(
            f"allowed_tools must be a list of tool names, got the string {allowed!r}; use "
            f"[{allowed!r}]."
        )
    names: list[str] = []
    for item in allowed:
        if not isinstance(item, str):
            raise TypeError(f"allowed_tools holds tool names, got {item!r}.")
        if item not in names:
            names.append(item)
    if not names:
        raise ConfigurationError(
            "allowed_tools=[] allows no tool; to keep the model from calling tools, pass "
            "tool_choice='none'."
        )
    declared = [tool.name for tool in tools]
    unknown = [name for name in names if name not in declared]
    if unknown:
        hints = close_matches(unknown[0], declared)
        raise ConfigurationError(
            f"allowed_tools names {', '.join(map(repr, unknown))}, not among this call's tools "
            f"({listing(declared)}). {did_you_mean(hints)}Allow only tools passed in "
            f"tools=[...], or add the missing ones there."
        )
    return names


def _tool_of_function(function: Callable[..., Any]) -> Tool:
    """The Tool of a function in ``tools=[...]``, built once per function.

    A function decorated with ``@register_tool`` reuses its registered tool. Any other is
    built on first use and kept on the function; a callable that takes no attributes (a bound
    method, which is a new object on every access anyway) is built each time.
    """
    for attribute in (_TOOL_ATTRIBUTE, _AUTO_TOOL_ATTRIBUTE):
        attached = getattr(function, attribute, None)
        if isinstance(attached, Tool) and attached.function is function:
            return attached
    tool = Tool(function)
    with contextlib.suppress(AttributeError, TypeError):
        setattr(function, _AUTO_TOOL_ATTRIBUTE, tool)
    return tool
