"""Both provider suites ask a provider's output checks the way core asks them, and fail a check
that breaks: ``supports_native_output`` (with ``with_tools`` where it takes it) and
``supports_forced_tool_choice``."""

from __future__ import annotations

from typing import Any

import pytest

from aether.llm.contracts import LLMRequest
from aether.testing import ProviderContractConformance
from tests.kit.test_contract_suite import ToolChoosingFake
from tests.kit.test_output_suites import NativeOpenAI, http_suite


class TakesNoModel(NativeOpenAI):
    def supports_native_output(self) -> bool:  # type: ignore[override]
        return True


class FailsBesideTools(NativeOpenAI):
    def supports_native_output(self, model: str | None = None, *, with_tools: bool = False) -> bool:
        if with_tools:
            raise RuntimeError("no table for tools")
        return True


class NativeBesideToolsOnlyWithoutThem(NativeOpenAI):
    """Gemini's shape: a schema, but not while the model may call tools."""

    def supports_native_output(self, model: str | None = None, *, with_tools: bool = False) -> bool:
        return not with_tools


class NeverForces(NativeOpenAI):
    def supports_forced_tool_choice(self, request: LLMRequest) -> bool:
        return False


class ForcesWithoutThinking(NativeOpenAI):
    """Anthropic's shape: no forced tool while reasoning is on."""

    def supports_forced_tool_choice(self, request: LLMRequest) -> bool:
        return request.reasoning is None


def test_checks_that_answer_as_core_asks_pass() -> None:
    http_suite(NativeBesideToolsOnlyWithoutThem).test_complete_answers_in_the_schema()
    http_suite(ForcesWithoutThinking).test_complete_returns_tool_calls()


@pytest.mark.parametrize("provider", [TakesNoModel, FailsBesideTools])
def test_a_native_check_core_cannot_call_fails_naming_it(provider: type[NativeOpenAI]) -> None:
    suite = http_suite(provider)
    for test in (
        suite.test_complete_answers_in_the_schema,
        suite.test_stream_answers_in_the_schema,
    ):
        with pytest.raises(AssertionError, match="supports_native_output failed when core"):
            test()


def test_a_provider_that_says_it_cannot_force_a_tool_it_serves_fails() -> None:
    with pytest.raises(AssertionError, match="cannot force a tool, yet NeverForces serves it"):
        http_suite(NeverForces).test_complete_returns_tool_calls()


class FakeNeverForces(ToolChoosingFake):
    def supports_forced_tool_choice(self, request: LLMRequest) -> bool:
        return False


class FakeForcesBadly(ToolChoosingFake):
    def supports_forced_tool_choice(self) -> bool:
        return True


def contract_suite(provider: type[ToolChoosingFake]) -> ProviderContractConformance:
    class Suite(ProviderContractConformance):
        def make_provider(self, api_key: str) -> Any:
            return provider()

    return Suite()


def test_the_contract_suite_checks_the_forced_tool_check_too() -> None:
    with pytest.raises(AssertionError, match="cannot force a tool, yet FakeNeverForces"):
        contract_suite(FakeNeverForces).test_complete_calls_the_tool_it_is_told_to()
    with pytest.raises(AssertionError, match="must take the LLMRequest and return a bool"):
        contract_suite(FakeForcesBadly).test_complete_calls_the_tool_it_is_told_to()
    contract_suite(ToolChoosingFake).test_complete_calls_the_tool_it_is_told_to()
