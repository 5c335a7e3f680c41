"""The pytest plugin of the plugin author's kit, loaded through core's ``pytest11`` entry point.

It registers the ``aether_kit_override`` and ``aether_kit_abstract`` markers and guards every
test class built on a kit suite (:class:`~aether.testing.ProviderConformance`,
:class:`~aether.testing.ToolPackConformance`, :class:`~aether.testing.PackagingConformance`,
the session-store suites), so a plugin cannot pass the kit by not running the tests it fails:

* a class that drops or overrides a kit test without ``@pytest.mark.xfail`` or
  ``@pytest.mark.aether_kit_override(reason=...)``, that sets ``__test__ = False``, or whose
  module skips itself at import gets one more, failing test, ``aether_kit_suite_intact[<Class>]``;
* a kit test that ends skipped (a skip or skipif mark on it, its class or module,
  ``pytest.skip()`` in it or a fixture, ``xfail(run=False)``, ``pytest.xfail()``) fails instead;
* an xfail kit test that passes fails, strict or not.

A provider-suite test of a capability the provider does not claim (it raised
:class:`~aether.testing._claims.NotClaimed`) is neither a pass nor a skip: it is reported
``unclaimed``, and the terminal summary names each provider's unclaimed capabilities, e.g.
``aether kit: EchoProvider does not claim: tools``.

It also runs the async tests and function-scoped async fixtures of kit suites on an event loop
of its own when pytest-asyncio is not loaded, so the store suites need no async plugin. Every
pytest run in an environment with aether-core loads this module, so it imports nothing but
pytest, :mod:`aether.testing._suite` and :mod:`aether.testing._claims` (asyncio only once a
kit test needs a loop).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from aether.testing._claims import UNCLAIMED, NotClaimed
from aether.testing._loop import (  # hooks of this plugin, kept in their own module
    pytest_fixture_setup,
    pytest_pyfunc_call,
    pytest_runtest_teardown,
)
from aether.testing._suite import (
    ABSTRACT_MARK,
    OVERRIDE_MARK,
    is_abstract,
    is_kit_suite,
    kit_tests,
    skipped_problem,
    suite_violations,
    suites_in_source,
    uncollected_problem,
)

__all__ = [
    "REPORTS",
    "SuiteTamperedError",
    "SuiteViolationItem",
    "pytest_fixture_setup",
    "pytest_pyfunc_call",
    "pytest_runtest_teardown",
]

INTACT_TEST = "aether_kit_suite_intact"
REPORTS = pytest.StashKey[list[str]]()
"""Packaging report summaries of this run, shown in the terminal summary."""

_GUARDED = "aether_kit_guard"  # set on a report the guard turned into a failure
# Set on the report of an unclaimed test: [provider, capability, suite]. A list of strings
# survives the report's trip from a pytest-xdist worker.
_UNCLAIMED = "aether_kit_unclaimed"


class SuiteTamperedError(AssertionError):
    """A test class removed, overrode or disabled kit tests without an expected-failure marker."""


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
        return self.path, 0, f"{INTACT_TEST}[{self.suite}]"


def _violation(collector: pytest.Collector, suite: str, problems: list[str]) -> pytest.Item:
    return SuiteViolationItem.from_parent(
        collector, name=f"{INTACT_TEST}[{suite}]", suite=suite, problems=problems
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{OVERRIDE_MARK}(reason): this test replaces an Aether kit test on purpose, for the "
        f"reason given (the kit otherwise fails a class that overrides its tests).",
    )
    config.addinivalue_line(
        "markers",
        f"{ABSTRACT_MARK}: this class (with __test__ = False) is a base for other Aether kit "
        f"suites, not a suite itself; its subclasses are not abstract.",
    )
    if not config.pluginmanager.has_plugin("asyncio"):
        # The store suites carry pytest-asyncio's mark; without that plugin the kit runs them.
        config.addinivalue_line("markers", "asyncio: run by the Aether kit's own event loop.")


# --- collection: classes that drop, override or hide kit tests ------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_pycollect_makeitem(
    collector: pytest.Module | pytest.Class, name: str, obj: object
) -> Generator[None, Any, Any]:
    result = yield
    # Only classes pytest collects as test classes (``result`` is None for the others: a base
    # named without the Test prefix is never a suite).
    if result is None or not (isinstance(obj, type) and is_kit_suite(obj)):
        return result
    if is_abstract(obj) and not getattr(obj, "__test__", True):
        return result  # its subclasses are judged, with what they inherit from it
    hidden = uncollected_problem(obj)  # pytest makes a Class of it, then collects nothing
    problems = [*suite_violations(obj), *([hidden] if hidden else [])]
    if not problems:
        return result
    items = list(result) if isinstance(result, list) else [result]
    return [*items, _violation(collector, name, problems)]


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[None, Any, Any]:
    report: pytest.CollectReport = yield
    if not (isinstance(collector, pytest.Module) and report.skipped):
        return report
    # A module that skipped itself at import (importorskip at module or class level) leaves
    # no class behind: find its suites in the source and fail each one.
    suites = suites_in_source(collector.path.read_text(encoding="utf-8"), collector.classnamefilter)
    if not suites:
        return report
    reason = _skip_reason(report)
    items: list[pytest.Item | pytest.Collector] = [
        _violation(collector, suite, [skipped_problem(f"{suite} (its whole module)", reason)])
        for suite in suites
    ]
    return pytest.CollectReport(collector.nodeid, "passed", None, items)


# --- outcomes: a kit test may fail or xfail strictly, never be skipped -----------------------


def _guarded_name(item: pytest.Item) -> str | None:
    """``Class.test`` for a kit test of an author's suite (or its integrity test), else None."""
    if isinstance(item, SuiteViolationItem):
        return f"{INTACT_TEST}[{item.suite}]"
    cls = getattr(item, "cls", None)
    if not (isinstance(item, pytest.Function) and isinstance(cls, type) and is_kit_suite(cls)):
        return None
    if item.originalname not in kit_tests(cls):
        return None  # the author's own test: theirs to skip
    return f"{cls.__qualname__}.{item.originalname}"


def _skip_reason(report: pytest.CollectReport | pytest.TestReport) -> str:
    longrepr = report.longrepr
    text = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return text.removeprefix("Skipped: ")


def _outcome_problem(
    item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport
) -> str | None:
    where = _guarded_name(item)
    if where is None:
        return None
    imperative_xfail = call.excinfo is not None and call.excinfo.errisinstance(
        pytest.xfail.Exception
    )
    if report.skipped and imperative_xfail:  # the test stopped: as good as a skip
        return skipped_problem(where, f"pytest.xfail({report.wasxfail!r})")
    if report.skipped and not hasattr(report, "wasxfail"):
        return skipped_problem(where, _skip_reason(report))
    if report.when == "call" and report.passed and hasattr(report, "wasxfail"):
        return (
            f"{where} passed although it is marked xfail ({report.wasxfail or 'no reason'}); "
            f"the kit keeps expected failures strict: remove the xfail mark, your plugin "
            f"passes this test now."
        )
    return None


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if _mark_unclaimed(item, call, report):
        return report
    problem = _outcome_problem(item, call, report)
    if problem is not None:
        report.outcome = "failed"
        report.longrepr = problem
        if hasattr(report, "wasxfail"):
            del report.wasxfail
        setattr(report, _GUARDED, True)
    return report


def _mark_unclaimed(
    item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport
) -> bool:
    """Turn a kit test that raised NotClaimed into an ``unclaimed`` report; True if it did."""
    if _guarded_name(item) is None or call.excinfo is None:
        return False
    if not call.excinfo.errisinstance(NotClaimed):
        return False
    claim = call.excinfo.value
    assert isinstance(claim, NotClaimed)
    # Passed, so the run succeeds; its own category keeps it from being counted as a pass.
    report.outcome = "passed"
    report.longrepr = None
    if hasattr(report, "wasxfail"):  # the declaration, not an xfail mark, explains it now
        del report.wasxfail
    cls = getattr(item, "cls", None)  # a kit test of an author's suite has its class
    suite = cls.__qualname__ if isinstance(cls, type) else item.name
    setattr(report, _UNCLAIMED, [claim.provider, claim.capability, suite])
    report.user_properties.append(("aether_kit_unclaimed", claim.capability))
    return True


def pytest_report_teststatus(report: pytest.TestReport) -> tuple[str, str, str] | None:
    if getattr(report, _UNCLAIMED, None):
        return UNCLAIMED, "u", UNCLAIMED.upper()
    # A skip the guard refused may come from setup; count it as a failure, not an error.
    return ("failed", "F", "FAILED") if getattr(report, _GUARDED, False) else None


def _unclaimed_summary(reports: list[Any]) -> list[str]:
    """One line per provider and suite naming what it does not claim, from unclaimed reports."""
    table: dict[tuple[str, str], dict[str, int]] = {}
    for report in reports:
        provider, capability, suite = getattr(report, _UNCLAIMED)
        counts = table.setdefault((provider, suite), {})
        counts[capability] = counts.get(capability, 0) + 1
    lines = []
    for (provider, suite), counts in sorted(table.items()):
        total = sum(counts.values())
        lines.append(
            f"aether kit: {provider} does not claim: {', '.join(sorted(counts))} "
            f"({total} kit test{'s' if total != 1 else ''} of {suite} {UNCLAIMED})"
        )
    return lines


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    reports = config.stash.get(REPORTS, [])
    if reports:
        terminalreporter.write_sep("-", "aether kit: plugin load times")
        for line in reports:
            terminalreporter.write_line(line)
    # The terminal reporter files each report under its category, xdist workers' included.
    unclaimed = [r for r in terminalreporter.stats.get(UNCLAIMED, []) if hasattr(r, _UNCLAIMED)]
    if unclaimed:
        terminalreporter.write_sep("-", "aether kit: capabilities not claimed")
        for line in _unclaimed_summary(unclaimed):
            terminalreporter.write_line(line)
