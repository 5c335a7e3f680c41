"""Plugin specs: ``NAME``, ``NAME?key=value&...`` or ``NAME://LOCATION[?key=value&...]``.

One format for every kind built from a string (session stores, response caches): ``NAME`` is
looked up in the registry under the kind, everything after ``NAME://`` up to ``?`` is passed
verbatim as the ``location`` keyword, and each query pair as a string keyword; the factory
converts and validates its own options (:func:`option_seconds` and :func:`option_int` turn
the text of a number into one, with errors that name the backend and the option). The
parser's own errors name options, never their values, since a location may hold a password.
"""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar
from urllib.parse import parse_qsl

from aether import config
from aether.errors import ConfigurationError, PluginNotFoundError
from aether.registry import Registry, default_registry

__all__ = ["SpecKind", "build_from_spec", "option_int", "option_seconds", "parse_spec"]

N = TypeVar("N", int, float)

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


def option_seconds(
    value: str | float, *, option: str, owner: str, zero: str | None = None
) -> float:
    """A factory's option as seconds: finite and >= 0, given as text (``"30"``) or a number.

    A factory gets its options as strings when they come from a spec's query
    (``sqlite:///a.db?timeout=30``) and as values when called from code; this accepts both
    and says which backend and which option was wrong.

        option_seconds("1.5", option="timeout", owner="Acme cache")  # 1.5
        option_seconds("soon", option="timeout", owner="Acme cache")
        # ConfigurationError: The Acme cache's timeout must be a number of seconds, got 'soon'.

    Args:
        value: The option as given.
        option: Its name in the spec, e.g. ``"ttl"``.
        owner: What the factory builds, as in "The {owner}'s {option} must be ...".
        zero: What 0 means for this option (``"no expiry"``), added to the range error.

    Raises:
        ConfigurationError: ``value`` is not a number, or is negative, infinite or NaN.
    """
    number = _convert(float, value, "a number of seconds", option, owner)
    if not math.isfinite(number) or number < 0:
        _refuse(value, "finite and >= 0", option, owner, zero)
    return number


def option_int(value: str | int, *, option: str, owner: str, zero: str | None = None) -> int:
    """A factory's option as an integer >= 0, given as text (``"100"``) or a number.

    The counterpart of :func:`option_seconds`, with the same arguments, for counts such as
    ``max_entries`` (``zero="no bound"``) or ``retries``.

    Raises:
        ConfigurationError: ``value`` is not an integer, or is negative.
    """
    number = _convert(int, value, "an integer", option, owner)
    if number < 0:
        _refuse(value, ">= 0", option, owner, zero)
    return number


def _convert(kind: Callable[[Any], N], value: object, expected: str, option: str, owner: str) -> N:
    try:
        return kind(value)
    except ValueError:
        raise ConfigurationError(
            f"The {owner}'s {option} must be {expected}, got {value!r}."
        ) from None


def _refuse(value: object, bound: str, option: str, owner: str, zero: str | None) -> NoReturn:
    meaning = "" if zero is None else f" (0: {zero})"
    raise ConfigurationError(f"The {owner}'s {option} must be {bound}{meaning}, got {value!r}.")
