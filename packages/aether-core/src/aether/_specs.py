"""Plugin specs: ``NAME``, ``NAME?key=value&...`` or ``NAME://LOCATION[?key=value&...]``.

One format for every kind built from a string (session stores, response caches): ``NAME`` is
looked up in the registry under the kind, everything after ``NAME://`` up to ``?`` is passed
verbatim as the ``location`` keyword, and each query pair as a string keyword; the factory
converts and validates its own options. Error messages name options, never their values,
since a location may hold a password.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from aether import config
from aether.errors import ConfigurationError, PluginNotFoundError
from aether.registry import Registry, default_registry

__all__ = ["SpecKind", "build_from_spec", "parse_spec"]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*\Z")


@dataclass(frozen=True, slots=True)
class SpecKind:
    """What a spec builds, for resolution and for the words of its errors.

    Attributes:
        kind: The registry kind (``session_store``).
        noun: What one is called in messages (``session store``).
        short: The short word before "name" (``store``: "a store name such as ...").
        env: The variable a spec may come from (``AETHER_SESSION_STORE``).
        default: The spec used when neither an explicit spec nor ``env`` is given.
        examples: Names shown as examples in the malformed-spec message.
    """

    kind: str
    noun: str
    short: str
    env: str
    default: str
    examples: tuple[str, ...] = ("memory", "sqlite")


def parse_spec(spec: str, what: SpecKind) -> tuple[str, dict[str, str]]:
    """Split ``spec`` into its name and the keyword options for its factory.

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
    label = what.noun[:1].upper() + what.noun[1:]
    if not _NAME.match(name):
        examples = " or ".join(repr(example) for example in what.examples)
        raise ConfigurationError(
            f"{label} spec must start with a {what.short} name such as {examples} "
            f"(NAME or NAME://LOCATION), got name {name!r}. Fix {what.env} or the spec you "
            f"passed."
        )
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise ConfigurationError(
            f"The options after '?' in the {name!r} {what.noun} spec are malformed; write "
            f"them as key=value pairs joined by '&'."
        ) from None
    options: dict[str, str] = {}
    for key, value in pairs:
        if not key.isidentifier():
            raise ConfigurationError(
                f"{label} option names must be identifiers; the {name!r} spec has {key!r}."
            )
        if key in options or key == "location":
            raise ConfigurationError(
                f"{label} option {key!r} is given more than once in the {name!r} spec."
            )
        options[key] = value
    if location:
        options["location"] = location
    return name, options


def build_from_spec(
    spec: str | None, what: SpecKind, *, registry: Registry | None = None
) -> tuple[str, Any]:
    """Resolve ``spec`` (else ``what.env``, else ``what.default``) and call its factory.

    Returns the name and what the factory built; the caller checks that it is the right kind
    of object.

    Raises:
        PluginNotFoundError: No registered object and no installed plugin has that name; the
            message names the closest ones (and ``what.env`` when the name came from it).
        ConfigurationError: The spec is malformed or the factory does not take its options.
    """
    chosen = spec if spec is not None else config.env_str(what.env, what.default)
    assert chosen is not None
    name, options = parse_spec(chosen, what)
    target = registry if registry is not None else default_registry
    try:
        factory = target.get(what.kind, name)
    except PluginNotFoundError as exc:
        if spec is not None:
            raise
        # The name came from a variable that may be set far from the code: say which one.
        raise PluginNotFoundError(exc.kind, exc.name, exc.available, setting=what.env) from None
    _check_accepts(name, factory, options, what)
    return name, factory(**options)


def _check_accepts(name: str, factory: Any, options: dict[str, str], what: SpecKind) -> None:
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):  # a builtin or C callable: let the call itself decide
        return
    try:
        signature.bind(**options)
    except TypeError as exc:
        given = ", ".join(sorted(options)) or "no options"
        label = what.noun[:1].upper() + what.noun[1:]
        raise ConfigurationError(
            f"{label} {name!r} cannot be built from the spec's options ({given}): {exc}. "
            f"Check the {what.short}'s documentation for the location and options it takes."
        ) from None
