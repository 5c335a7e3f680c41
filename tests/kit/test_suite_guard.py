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


# --- skipping, hiding and non-strict xfail are refused too ----------------------------------

HEAD = """
import pytest
from aether.testing import ToolPackConformance
"""
TOOL_TESTS = 5  # the tests ToolPackConformance defines


def run_kit(pytester: pytest.Pytester, body: str, *options: str) -> pytest.RunResult:
    """Run ``body`` (test classes on the tool-pack suite) in a fresh pytest session."""
    pytester.makepyfile(test_plugin_kit=HEAD + body)
    # No pytest-asyncio: this session has no config for it, and the tool suite needs none.
    return pytester.runpytest(
        "-p", "no:cacheprovider", "-p", "no:asyncio", "--strict-markers", *options
    )  # fmt: skip


@pytest.mark.parametrize(
    "decorator",
    ["@pytest.mark.skip(reason='later')", "@pytest.mark.skipif(True, reason='later')"],
)
def test_skipping_a_whole_suite_fails_each_kit_test(
    pytester: pytest.Pytester, decorator: str
) -> None:
    result = run_kit(
        pytester,
        f"""
{decorator}
class TestSkipped(ToolPackConformance):
    distribution = "aether-tools-std"
""",
    )
    result.assert_outcomes(failed=TOOL_TESTS)  # failures, not errors: nothing was skipped
    result.stdout.fnmatch_lines(
        [
            "*TestSkipped.test_declares_at_least_one_tool was skipped (later), but the kit "
            "does not let a plugin skip its tests*",
            "*override it with @pytest.mark.xfail(reason=...)*aether_kit_override(reason=...)*",
        ]
    )


def test_a_module_level_skip_mark_fails_the_kit_tests(pytester: pytest.Pytester) -> None:
    result = run_kit(
        pytester,
        """
pytestmark = pytest.mark.skip(reason="flaky")

class TestSkipped(ToolPackConformance):
    distribution = "aether-tools-std"

def test_own_check():
    pass
""",
    )
    # The author's own test may be skipped; the kit's may not.
    result.assert_outcomes(failed=TOOL_TESTS, skipped=1)


def test_an_override_that_skips_fails_even_with_a_reason(pytester: pytest.Pytester) -> None:
    result = run_kit(
        pytester,
        """
class TestSkipsInside(ToolPackConformance):
    distribution = "aether-tools-std"

    @pytest.mark.skip
    @pytest.mark.aether_kit_override(reason="checked elsewhere")
    def test_refusals_come_back_as_content(self):
        pass

    @pytest.mark.aether_kit_override(reason="checked elsewhere")
    def test_schemas_are_valid_json_schema(self):
        pytest.skip("not today")

    @pytest.mark.skip(reason="the author's own test may skip")
    def test_something_of_ours(self):
        pass
""",
    )
    result.assert_outcomes(passed=TOOL_TESTS - 2, failed=2, skipped=1)
    result.stdout.fnmatch_lines(
        [
            "*TestSkipsInside.test_refusals_come_back_as_content was skipped (unconditional*",
            "*TestSkipsInside.test_schemas_are_valid_json_schema was skipped (not today)*",
        ]
    )


def test_a_fixture_that_skips_fails_the_kit_tests(pytester: pytest.Pytester) -> None:
    result = run_kit(
        pytester,
        """
class TestNoTools(ToolPackConformance):
    distribution = "aether-tools-std"

    @pytest.fixture
    def tools(self):
        pytest.skip("no tools today")
""",
    )
    # Four kit tests ask for the fixture; the other one still runs and passes.
    result.assert_outcomes(passed=1, failed=4)
    result.stdout.fnmatch_lines(["*test_schemas_are_valid_json_schema was skipped (no tools*"])


def test_a_suite_hidden_with_dunder_test_fails(pytester: pytest.Pytester) -> None:
    result = run_kit(
        pytester,
        """
class TestHidden(ToolPackConformance):
    __test__ = False
    distribution = "aether-tools-std"

class TestBase(ToolPackConformance):
    __test__ = False

class TestInherits(TestBase):
    distribution = "aether-tools-std"
""",
    )
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines(
        [
            "*aether_kit_suite_intact[[]TestHidden[]]*",
            "*TestHidden sets __test__ = False, so pytest never runs its 5 kit tests; set "
            "__test__ = True on it*aether_kit_abstract*",
            "*TestInherits sets __test__ = False, inherited from TestBase*",
        ]
    )


def test_an_abstract_base_of_the_authors_own_is_allowed(pytester: pytest.Pytester) -> None:
    result = run_kit(
        pytester,
        """
@pytest.mark.aether_kit_abstract
class TestAcmeBase(ToolPackConformance):
    __test__ = False
    distribution = "aether-tools-std"

class TestAcme(TestAcmeBase):
    __test__ = True

class AcmeBase(ToolPackConformance):  # not named like a test: pytest never collects it
    distribution = "aether-tools-std"

class TestAcmeToo(AcmeBase):
    pass
""",
    )
    result.assert_outcomes(passed=2 * TOOL_TESTS)


def test_a_suite_with_init_is_never_collected_and_fails(pytester: pytest.Pytester) -> None:
    result = run_kit(
        pytester,
        """
class TestWithInit(ToolPackConformance):
    distribution = "aether-tools-std"

    def __init__(self):
        self.ready = True
""",
        "-W",
        "ignore::pytest.PytestCollectionWarning",  # all pytest does: warn "cannot collect"
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*TestWithInit defines __init__, so pytest collects none*"])


def test_importorskip_in_the_class_body_fails(pytester: pytest.Pytester) -> None:
    result = run_kit(
        pytester,
        """
import aether.testing as kit

class TestNeedsMissing(ToolPackConformance):
    pytest.importorskip("aether_kit_no_such_module")
    distribution = "aether-tools-std"

class TestAlsoHere(kit.ToolPackConformance):
    distribution = "aether-tools-std"

class Helper:
    pass
""",
    )
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "*aether_kit_suite_intact[[]TestNeedsMissing[]]*",
            "*TestNeedsMissing (its whole module) was skipped (could not import "
            "'aether_kit_no_such_module'*",
            "*aether_kit_suite_intact[[]TestAlsoHere[]]*",
        ]
    )


def test_a_module_skipped_without_kit_suites_stays_skipped(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_other="""
import pytest
pytest.importorskip("aether_kit_no_such_module")

def test_nothing():
    pass
"""
    )
    pytester.runpytest("-p", "no:cacheprovider", "-p", "no:asyncio").assert_outcomes(skipped=1)


def test_xfail_on_a_kit_test_is_strict(pytester: pytest.Pytester) -> None:
    result = run_kit(
        pytester,
        """
class TestXfails(ToolPackConformance):
    distribution = "aether-tools-std"

    @pytest.mark.xfail(reason="meh", strict=False)
    def test_refusals_come_back_as_content(self):
        pass  # an empty override: it always passes, so the xfail is a lie

    @pytest.mark.xfail(reason="we cannot yet", strict=False)
    def test_schemas_are_valid_json_schema(self):
        raise AssertionError("really fails")

    @pytest.mark.xfail(reason="never run", run=False)
    def test_declares_at_least_one_tool(self):
        pass

    @pytest.mark.aether_kit_override(reason="our tools take any argument")
    def test_wrong_arguments_come_back_as_content(self):
        pytest.xfail("stops before checking anything")
""",
    )
    result.assert_outcomes(passed=1, failed=3, xfailed=1)
    for line in (  # pytest runs overrides first, in their own order
        "*TestXfails.test_declares_at_least_one_tool was skipped (pytest.xfail('[[]NOTRUN[]] "
        "never run'))*",
        "*TestXfails.test_wrong_arguments_come_back_as_content was skipped (pytest.xfail("
        "'stops before checking anything'))*",
        "*TestXfails.test_refusals_come_back_as_content passed although it is marked "
        "xfail (meh); the kit keeps expected failures strict*",
    ):
        result.stdout.fnmatch_lines([line])


def test_skipping_the_integrity_test_fails_it(pytester: pytest.Pytester) -> None:
    result = run_kit(
        pytester,
        """
pytestmark = pytest.mark.skip

class TestQuiet(ToolPackConformance):
    distribution = "aether-tools-std"
    test_refusals_come_back_as_content = None
""",
    )
    result.assert_outcomes(failed=TOOL_TESTS)  # 4 kit tests left and the integrity test
    result.stdout.fnmatch_lines(["*aether_kit_suite_intact[[]TestQuiet[]] was skipped*"])
