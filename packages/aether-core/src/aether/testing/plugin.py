"""The pytest plugin of the plugin author's kit, loaded through core's ``pytest11`` entry point.

It registers the ``aether_kit_override`` marker and, for every test class built on a kit suite
(:class:`~aether.testing.ProviderConformance`, :class:`~aether.testing.ToolPackConformance`,
:class:`~aether.testing.PackagingConformance`, the session-store suites), adds one more test,
``aether_kit_suite_intact[<Class>]``, which fails when the class drops or overrides a kit test
without ``@pytest.mark.xfail`` or ``@pytest.mark.aether_kit_override(reason=...)``. So a
plugin cannot pass the kit by deleting the tests it fails.

Every pytest run in an environment with aether-core loads this module, so it imports nothing
but pytest and :mod:`aether.testing._suite`.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from aether.testing._suite import OVERRIDE_MARK, is_kit_suite, suite_violations

__all__ = ["REPORTS", "SuiteTamperedError", "SuiteViolationItem"]

INTACT_TEST = "aether_kit_suite_intact"
REPORTS = pytest.StashKey[list[str]]()
"""Packaging report summaries of this run, shown in the terminal summary."""


class SuiteTamperedError(AssertionError):
    """A test class removed or overrode kit tests without an expected-failure marker."""


class SuiteViolationItem(pytest.Item):
    """The failing test added for a suite subclass that tampers with the kit's tests."""

    def __init__(self, *, suite: str, problems: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.suite = suite
        self.problems = problems

    def runtest(self) -> None:
        raise SuiteTamperedError(
            f"{self.suite} does not run the whole conformance suite:\n- "
            + "\n- ".join(self.problems)
        )

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> str:
        if isinstance(excinfo.value, SuiteTamperedError):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo, style=style))

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, None, f"{INTACT_TEST}[{self.suite}]"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{OVERRIDE_MARK}(reason): this test replaces an Aether kit test on purpose, for the "
        f"reason given (the kit otherwise fails a class that overrides its tests).",
    )


@pytest.hookimpl(wrapper=True)
def pytest_pycollect_makeitem(
    collector: pytest.Module | pytest.Class, name: str, obj: object
) -> Generator[None, Any, Any]:
    result = yield
    # Only classes pytest collects as test classes (``result`` is None for the others).
    if result is None or not (isinstance(obj, type) and is_kit_suite(obj)):
        return result
    problems = suite_violations(obj)
    if not problems:
        return result
    items = list(result) if isinstance(result, list) else [result]
    items.append(
        SuiteViolationItem.from_parent(
            collector, name=f"{INTACT_TEST}[{name}]", suite=name, problems=problems
        )
    )
    return items


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    reports = config.stash.get(REPORTS, [])
    if reports:
        terminalreporter.write_sep("-", "aether kit: plugin load times")
        for line in reports:
            terminalreporter.write_line(line)
