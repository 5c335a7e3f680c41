"""Guarding conformance suites: a subclass may not silently drop, replace or skip a kit test.

A plugin author subclasses a kit suite (any class defined in an ``aether.testing`` module with
``test*`` methods). Every test the kit defines must reach the subclass untouched, or be
replaced by a function that says why: ``@pytest.mark.xfail(reason=...)`` (the test is expected
to fail; the kit treats it as strict) or ``@pytest.mark.aether_kit_override(reason=...)`` (the
author checks the same thing differently). A test set to ``None``, deleted by a same-named
non-function, or overridden without one of those marks is a violation; so is a kit test that
ends skipped (see :func:`skipped_problem`) and a suite pytest never collects
(:func:`uncollected_problem`, :func:`suites_in_source`).

A base class of the author's own, shared by several suites, is either named so pytest does not
collect it (``AcmeProviderBase``), or marked ``@pytest.mark.aether_kit_abstract`` when it sets
``__test__ = False``. Imports only the standard library, so the pytest plugin stays cheap for
every project that has aether-core installed.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from collections.abc import Callable
from typing import Any

__all__ = [
    "ABSTRACT_MARK",
    "KIT_MODULE_PREFIX",
    "OVERRIDE_MARK",
    "is_abstract",
    "is_kit_suite",
    "kit_tests",
    "skipped_problem",
    "suite_violations",
    "suites_in_source",
    "uncollected_problem",
]

KIT_MODULE_PREFIX = "aether.testing."
OVERRIDE_MARK = "aether_kit_override"
ABSTRACT_MARK = "aether_kit_abstract"
_INSTEAD = (
    f"if your plugin cannot pass a test yet, override it with @pytest.mark.xfail(reason=...) "
    f"(kept strict: it fails once the test passes); if you check the same thing another way, "
    f"override it with @pytest.mark.{OVERRIDE_MARK}(reason=...)"
)


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


def _marks(obj: Any) -> list[Any]:
    marks = getattr(obj, "pytestmark", [])
    return list(marks) if isinstance(marks, list) else [marks]


def _declared_reason(function: Any) -> str | None:
    """The reason an override gives, or None when it gives none."""
    for mark in _marks(function):
        name = getattr(mark, "name", None)
        if name == "xfail":
            # An expected failure is explicit even without a reason; the plugin forces it
            # strict, so it fails again once the plugin passes the test.
            return str(mark.kwargs.get("reason") or "expected to fail")
        if name == OVERRIDE_MARK:
            reason = mark.kwargs.get("reason", mark.args[0] if mark.args else None)
            if isinstance(reason, str) and reason.strip():
                return reason
    return None


def suite_violations(cls: type) -> list[str]:
    """What ``cls`` removes or overrides from its kit suites without saying why."""
    problems: list[str] = []
    if cls.__init__ is not object.__init__:  # type: ignore[misc]
        # pytest collects no test of a class with __init__ (it only warns).
        problems.append(
            f"{cls.__qualname__} defines __init__, so pytest collects none of its kit tests; "
            f"remove it and set up what you need in a fixture or in make_provider()."
        )
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


def is_abstract(cls: type) -> bool:
    """True when ``cls`` itself (not a base of it) is marked ``aether_kit_abstract``."""
    # pytest keeps a class's own marks in its __dict__; a subclass does not inherit the flag.
    own = vars(cls).get("pytestmark", [])
    marks = own if isinstance(own, list) else [own]
    return any(getattr(m, "name", None) == ABSTRACT_MARK for m in marks)


def uncollected_problem(cls: type) -> str | None:
    """Why a kit suite pytest would collect, but whose ``__test__`` hides it, is a violation."""
    if is_abstract(cls) or getattr(cls, "__test__", True):
        return None
    origin = next((b for b in cls.__mro__ if vars(b).get("__test__", True) is not True), cls)
    inherited = "" if origin is cls else f", inherited from {origin.__qualname__}"
    return (
        f"{cls.__qualname__} sets __test__ = False{inherited}, so pytest never runs its "
        f"{len(kit_tests(cls))} kit tests; set __test__ = True on it. A base class of your own "
        f"for other suites is named so pytest does not collect it (no Test prefix), or marked "
        f"@pytest.mark.{ABSTRACT_MARK}. Rather than hiding tests: {_INSTEAD}."
    )


def skipped_problem(where: str, reason: str) -> str:
    """The message for a kit test (or whole suite) that was skipped."""
    return (
        f"{where} was skipped ({reason}), but the kit does not let a plugin skip its tests; "
        f"remove the skip (skip/skipif mark, pytest.skip(), importorskip, xfail(run=False)): "
        f"{_INSTEAD}."
    )


def suites_in_source(source: str, is_test_name: Callable[[str], bool]) -> list[str]:
    """Kit suites a module defines, read from its source (for a module skipped at import).

    A module that skips itself while importing (``pytest.importorskip`` at module or class
    level) leaves no class to inspect, so its top-level classes are matched by their bases:
    names imported from ``aether.testing`` modules, and classes of the same module built on
    them. Bases imported from elsewhere are not followed.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    kit_names: set[str] = set()
    modules: dict[str, str] = {}  # the name bound by ``import aether.testing...`` -> module
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("aether.testing"):
            for alias in node.names:
                if _kit_attribute(node.module or "", alias.name):
                    kit_names.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("aether.testing"):
                    bound = alias.asname or alias.name.split(".")[0]
                    modules[bound] = alias.name if alias.asname else bound
    found: list[str] = []
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        if any(_is_kit_base(base, kit_names, modules) for base in node.bases):
            kit_names.add(node.name)
            if is_test_name(node.name):
                found.append(node.name)
    return found


def _kit_attribute(module: str, name: str) -> bool:
    try:
        value = getattr(importlib.import_module(module), name, None)
    except ImportError:
        return False
    return isinstance(value, type) and bool(kit_tests(value))


def _is_kit_base(base: ast.expr, names: set[str], modules: dict[str, str]) -> bool:
    if isinstance(base, ast.Name):
        return base.id in names
    head, _, attribute = ast.unparse(base).rpartition(".")
    first, _, rest = head.partition(".")
    if first not in modules:
        return False
    module = ".".join(part for part in (modules[first], rest) if part)
    return _kit_attribute(module, attribute)
