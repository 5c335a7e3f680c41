"""A conformance subclass cannot silently drop or override a kit test."""

from __future__ import annotations

import importlib.metadata

import pytest

from aether.testing import PackagingConformance, PackagingReport, ToolPackConformance
from aether.testing._suite import is_kit_suite, kit_tests, suite_violations

pytest_plugins = ["pytester"]


def test_core_exposes_the_kit_as_a_pytest_plugin() -> None:
    (entry,) = [
        ep
        for ep in importlib.metadata.distribution("aether-core").entry_points
        if ep.group == "pytest11"
    ]
    assert (entry.name, entry.value) == ("aether", "aether.testing.plugin")


def test_an_untouched_subclass_has_no_violations() -> None:
    class TestPack(ToolPackConformance):
        distribution = "aether-x"

    assert is_kit_suite(TestPack) and not is_kit_suite(ToolPackConformance)
    assert "test_refusals_come_back_as_content" in kit_tests(TestPack)
    assert suite_violations(TestPack) == []


def test_removing_a_test_is_a_violation() -> None:
    class TestPack(ToolPackConformance):
        test_refusals_come_back_as_content = None  # type: ignore[assignment]

    (problem,) = suite_violations(TestPack)
    assert "removes the kit test ToolPackConformance.test_refusals_come_back_as_content" in problem


def test_overriding_without_a_marker_is_a_violation() -> None:
    class TestPackaging(PackagingConformance):
        def test_imports_nothing_heavy(self, packaging_report: PackagingReport) -> None:
            pass

        @pytest.mark.aether_kit_override  # no reason given
        def test_loads_within_the_import_budget(self, packaging_report: PackagingReport) -> None:
            pass

    problems = suite_violations(TestPackaging)
    assert len(problems) == 2
    assert all("without saying why" in p for p in problems)


def test_overrides_that_say_why_are_allowed() -> None:
    class TestPackaging(PackagingConformance):
        @pytest.mark.xfail(reason="we import numpy on purpose", strict=True)
        def test_imports_nothing_heavy(self, packaging_report: PackagingReport) -> None:
            raise AssertionError

        @pytest.mark.aether_kit_override(reason="measured by our own benchmark")
        def test_loads_within_the_import_budget(self, packaging_report: PackagingReport) -> None:
            pass

    assert suite_violations(TestPackaging) == []


def test_a_silent_override_fails_the_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_plugin_kit="""
        import pytest
        from aether.testing import PackagingConformance

        class TestQuiet(PackagingConformance):
            distribution = "aether-openai"
            test_imports_nothing_heavy = None

            def test_does_no_io_while_loading(self):
                pass

        class TestHonest(PackagingConformance):
            distribution = "aether-openai"

            @pytest.mark.aether_kit_override(reason="checked by our own audit")
            def test_does_no_io_while_loading(self):
                pass
        """
    )
    result = pytester.runpytest(
        "-p",
        "no:cacheprovider",
        "--strict-markers",
        "-o",
        "asyncio_default_fixture_loop_scope=function",
    )
    result.assert_outcomes(passed=15, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*aether_kit_suite_intact[[]TestQuiet[]]*",
            "*overrides the kit test PackagingConformance.test_does_no_io_while_loading*",
            "*removes the kit test PackagingConformance.test_imports_nothing_heavy*",
        ]
    )
    assert "TestHonest]" not in result.stdout.str()
