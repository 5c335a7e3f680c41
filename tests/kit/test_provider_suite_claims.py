"""The HTTP provider suite checks what a provider claims and names, unhidden, what it does not.

A provider without tools (or without streaming) declares it and needs neither stubs in its wire
format nor xfail marks: its tool tests end ``unclaimed`` and the summary names the capability.
A provider that claims tools is held to them, and the kit's guard still refuses a suite that
drops or skips tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx
import pytest

from aether.llm import ProviderCapabilities, capabilities_of
from aether.testing import CannedUsage, ProviderConformance, WireFormat
from aether.testing._claims import NotClaimed
from aether_openai import OpenAIProvider
from tests.kit.test_kit_openai import ChatCompletionsWire
from tests.kit.test_provider_suite_catches import DropsToolCalls, suite_for

pytest_plugins = ["pytester"]

_OPENAI = ChatCompletionsWire()


class TextWire(WireFormat):
    """OpenAI's answers without tool calls: all a provider without tools has to describe."""

    def text_response(self, text: str, usage: CannedUsage) -> Any:
        return _OPENAI.text_response(text, usage)

    def stream_response(self, deltas: Sequence[str], usage: CannedUsage) -> list[bytes]:
        return _OPENAI.stream_response(deltas, usage)


class WholeTextWire(WireFormat):
    """Whole text answers only: a provider with neither tools nor streaming."""

    def text_response(self, text: str, usage: CannedUsage) -> Any:
        return _OPENAI.text_response(text, usage)


class NoToolsProvider(OpenAIProvider):
    capabilities = ProviderCapabilities(tools=False)


class WholeAnswersProvider(OpenAIProvider):
    capabilities = ProviderCapabilities(tools=False, streaming=False)


class NoToolsSuite(ProviderConformance):
    wire = TextWire()

    def make_provider(self, http_client: httpx.AsyncClient, api_key: str) -> OpenAIProvider:
        return NoToolsProvider(api_key=api_key, http_client=http_client)


TOOL_TESTS = ("test_complete_returns_tool_calls", "test_stream_returns_whole_tool_calls")
OUTPUT_TESTS = ("test_complete_answers_in_the_schema", "test_stream_answers_in_the_schema")
STREAM_TESTS = 22  # kit tests (with their parameters) that call stream() and need no tools


def test_a_declared_gap_stops_its_tests_by_name_when_called_directly() -> None:
    # Without the kit's pytest plugin nothing turns NotClaimed into an outcome: it fails loudly.
    suite = NoToolsSuite()
    for name in TOOL_TESTS:
        with pytest.raises(NotClaimed, match="NoToolsProvider does not claim tools") as caught:
            getattr(suite, name)()
        assert (caught.value.provider, caught.value.capability) == ("NoToolsProvider", "tools")
    suite.test_complete_returns_the_text()  # the rest still runs, against the same wire
    suite.test_stream_yields_deltas_then_a_final_chunk()


def test_a_provider_that_claims_tools_and_drops_them_fails() -> None:
    suite = suite_for(DropsToolCalls)
    made = DropsToolCalls(OpenAIProvider(api_key="sk-kit"))
    assert capabilities_of(made).tools, "it claims tools through the provider it wraps"
    with pytest.raises(AssertionError, match="call_kit_1"):
        suite.test_complete_returns_tool_calls()


def test_the_same_provider_declaring_no_tools_is_not_failed_for_them() -> None:
    class HonestDropsToolCalls(DropsToolCalls):
        capabilities = ProviderCapabilities(tools=False)

    with pytest.raises(NotClaimed):
        suite_for(HonestDropsToolCalls).test_complete_returns_tool_calls()


def test_claiming_tools_without_describing_their_answers_fails_and_says_why() -> None:
    class ClaimsTools(NoToolsSuite):
        def make_provider(self, http_client: httpx.AsyncClient, api_key: str) -> OpenAIProvider:
            return OpenAIProvider(api_key=api_key, http_client=http_client)

    with pytest.raises(NotImplementedError, match=r"TextWire does not implement "
                       r"tool_call_response\(\), which the kit needs because the provider "
                       r"claims tools"):  # fmt: skip
        ClaimsTools().test_complete_returns_tool_calls()


# --- under pytest: unclaimed, reported by name, never a pass, skip or xfail ------------------

HEAD = """
import pytest
from aether.testing import ProviderConformance
from aether_openai import OpenAIProvider
from tests.kit.test_provider_suite_claims import (
    NoToolsProvider, TextWire, WholeAnswersProvider, WholeTextWire,
)
"""

NO_TOOLS = """
class TestNoTools(ProviderConformance):
    wire = TextWire()

    def make_provider(self, http_client, api_key):
        return NoToolsProvider(api_key=api_key, http_client=http_client)
"""


def run_kit(pytester: pytest.Pytester, body: str) -> pytest.RunResult:
    pytester.makepyfile(test_plugin_kit=HEAD + body)
    return pytester.runpytest(
        "-p", "no:cacheprovider", "-p", "no:asyncio", "--strict-markers", "-v"
    )


def test_a_provider_without_tools_passes_and_is_reported(pytester: pytest.Pytester) -> None:
    result = run_kit(pytester, NO_TOOLS)
    assert result.ret == 0
    outcomes = result.parseoutcomes()
    assert outcomes.pop("unclaimed") == len(TOOL_TESTS) + len(OUTPUT_TESTS)
    assert set(outcomes) == {"passed"}, "nothing failed, skipped or xfailed"
    assert outcomes["passed"] > 40
    for name in TOOL_TESTS + OUTPUT_TESTS:
        result.stdout.fnmatch_lines([f"*TestNoTools::{name} UNCLAIMED*"])
    result.stdout.fnmatch_lines(
        [
            "*- aether kit: capabilities not claimed -*",
            "aether kit: NoToolsProvider does not claim: structured_output, tools (4 kit tests "
            "of TestNoTools unclaimed)",
        ]
    )


def test_a_provider_of_whole_answers_describes_one_answer(pytester: pytest.Pytester) -> None:
    result = run_kit(
        pytester,
        """
class TestWholeAnswers(ProviderConformance):
    wire = WholeTextWire()

    def make_provider(self, http_client, api_key):
        return WholeAnswersProvider(api_key=api_key, http_client=http_client)
""",
    )
    assert result.ret == 0
    outcomes = result.parseoutcomes()
    assert outcomes.pop("unclaimed") == STREAM_TESTS + len(TOOL_TESTS) + len(OUTPUT_TESTS)
    assert set(outcomes) == {"passed"}
    result.stdout.fnmatch_lines(
        [
            "aether kit: WholeAnswersProvider does not claim: streaming, structured_output, "
            "tools (26 kit tests of TestWholeAnswers unclaimed)"
        ]
    )


def test_an_xfail_left_on_an_unclaimed_test_does_not_hide_it(pytester: pytest.Pytester) -> None:
    result = run_kit(
        pytester,
        NO_TOOLS
        + """
    @pytest.mark.xfail(reason="no tools")  # the old way; the declaration now says it
    def test_complete_returns_tool_calls(self):
        super().test_complete_returns_tool_calls()
""",
    )
    assert result.ret == 0
    outcomes = result.parseoutcomes()
    assert outcomes.pop("unclaimed") == len(TOOL_TESTS) + len(OUTPUT_TESTS)
    assert set(outcomes) == {"passed"}, "the xfail mark was not taken for an expected failure"
    result.stdout.fnmatch_lines(["*TestNoTools::test_complete_returns_tool_calls UNCLAIMED*"])


def test_the_guard_still_refuses_dropped_or_skipped_tests(pytester: pytest.Pytester) -> None:
    result = run_kit(
        pytester,
        NO_TOOLS
        + """
    test_complete_returns_tool_calls = None

    @pytest.mark.skip(reason="no tools")
    def test_stream_returns_whole_tool_calls(self):
        pass
""",
    )
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        ["*removes the kit test ProviderConformance.test_complete_returns_tool_calls*"]
    )
    result.stdout.fnmatch_lines(
        [
            "*TestNoTools.test_stream_returns_whole_tool_calls was skipped (no tools), but the "
            "kit does not let a plugin skip its tests*"
        ]
    )
    outcomes = result.parseoutcomes()
    assert outcomes["failed"] == 2
    # The tampered tool tests fail, never end unclaimed (only the untouched ones of another
    # capability the provider lacks do).
    assert outcomes["unclaimed"] == len(OUTPUT_TESTS)
    result.stdout.fnmatch_lines(
        ["aether kit: NoToolsProvider does not claim: structured_output (2 kit tests*"]
    )
