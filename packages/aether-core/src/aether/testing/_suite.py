"""Guarding conformance suites: a subclass may not silently drop or replace a kit test.

A plugin author subclasses a kit suite (any class defined in an ``aether.testing`` module with
``test*`` methods). Every test the kit defines must reach the subclass untouched, or be
replaced by a function that says why: ``@pytest.mark.xfail(reason=...)`` (the test is expected
to fail) or ``@pytest.mark.aether_kit_override(reason=...)`` (the author checks the same thing
differently). A test set to ``None``, deleted by a same-named non-function, or overridden
without one of those marks is a violation. Imports only pytest, so the pytest plugin stays
cheap for every project that has aether-core installed.
"""

from __future__ import annotations

import inspect
from typing import Any

__all__ = ["KIT_MODULE_PREFIX", "OVERRIDE_MARK", "is_kit_suite", "kit_tests", "suite_violations"]

KIT_MODULE_PREFIX = "aether.testing."
OVERRIDE_MARK = "aether_kit_override"


def _is_kit_class(cls: type) -> bool:
    return cls.__module__.startswith(KIT_MODULE_PREFIX)


def kit_tests(cls: type) -> dict[str, type]:
    """Names of the tests the kit defines for ``cls``, each with the kit class defining it."""
    found: dict[str, type] = {}
    for base in reversed(cls.__mro__):
        if not _is_kit_class(base):
            continue
        for name, value in vars(base).items():
            if name.startswith("test") and inspect.isfunction(value):
                found[name] = base
    return found


def is_kit_suite(cls: type) -> bool:
    """True for an author's class built on a kit suite (not for the kit's own classes)."""
    return not _is_kit_class(cls) and bool(kit_tests(cls))


def _marks(function: Any) -> list[Any]:
    marks = getattr(function, "pytestmark", [])
    return list(marks) if isinstance(marks, list) else [marks]


def _declared_reason(function: Any) -> str | None:
    """The reason an override gives, or None when it gives none."""
    for mark in _marks(function):
        name = getattr(mark, "name", None)
        if name == "xfail":
            # An expected failure is explicit even without a reason; strict xfail (the
            # recommended setting) fails again once the plugin passes the test.
            return str(mark.kwargs.get("reason") or "expected to fail")
        if name == OVERRIDE_MARK:
            reason = mark.kwargs.get("reason", mark.args[0] if mark.args else None)
            if isinstance(reason, str) and reason.strip():
                return reason
    return None


def suite_violations(cls: type) -> list[str]:
    """What ``cls`` removes or overrides from its kit suites without saying why."""
    problems: list[str] = []
    for name, owner in sorted(kit_tests(cls).items()):
        definer = next(base for base in cls.__mro__ if name in vars(base))
        if _is_kit_class(definer):
            continue
        value = vars(definer)[name]
        where = f"{definer.__qualname__}.{name}"
        if not inspect.isfunction(value):
            problems.append(
                f"{where} removes the kit test {owner.__qualname__}.{name} (set to {value!r}); "
                f"keep it, or override it with @pytest.mark.xfail(reason=...) if your plugin "
                f"cannot pass it yet."
            )
        elif _declared_reason(value) is None:
            problems.append(
                f"{where} overrides the kit test {owner.__qualname__}.{name} without saying "
                f"why; mark the override @pytest.mark.xfail(reason=...) (expected to fail) or "
                f"@pytest.mark.{OVERRIDE_MARK}(reason=...) (checked another way), or delete it."
            )
    return problems
