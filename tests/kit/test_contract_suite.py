"""The suite for providers that do not speak HTTP passes FakeProvider and fails broken providers.

``TestFakeProviderContract`` runs the suite as a plugin author would, on FakeProvider. The
broken providers below wrap it and break one rule each; the suite's tests are called directly,
the way pytest would call them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from typing import Any, ClassVar

import pytest

from aether.errors import ProviderConnectionError, ProviderError
from aether.extensions.llm.fake import FakeProvider
from aether.llm import ProviderCapabilities
from aether.llm.contracts import LLMProvider, LLMRequest, LLMResponse, LLMStreamChunk, ToolCall
from aether.testing import ProviderContractConformance
from aether.testing._claims import NotClaimed

pytest_plugins = ["pytester"]

KEY = ProviderContractConformance.api_key


class ToolChoosingFake:
    """FakeProvider as a model would answer: a ``tool_choice`` naming a tool gets a call of it.

    FakeProvider answers what it is scripted to; unscripted, it echoes and calls no tool, so
    this picks, per request, an echoing FakeProvider or one scripted with the chosen call (or,
    asked for an answer in a schema, with such an answer).
    """

    capabilities = ProviderCapabilities(structured_output=True)

    def __init__(self) -> None:
        self.echo = FakeProvider()

    def _for(self, request: LLMRequest) -> FakeProvider:
        if request.output is not None:
            return FakeProvider({"city": "Paris", "temperature_celsius": 21.5})
        chosen = request.tool_choice
        if chosen not in {tool.name for tool in request.tools}:
            return self.echo
        call = ToolCall(id="call_fake_1", name=str(chosen), arguments={"city": "Paris"})
        answer = LLMResponse(
            tool_calls=[call], finish_reason="tool_calls", input_tokens=12, output_tokens=4
        )
        return FakeProvider(answer)

    async def complete(self, request: LLMRequest) -> LLMResponse:
        return await self._for(request).complete(request)

    def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        return self._for(request).stream(request)


def down() -> FakeProvider:
    """A FakeProvider whose backend is down: its one call fails as a real one would."""
    return FakeProvider(responses=[ProviderConnectionError("the backend is down", provider="fake")])


class TestFakeProviderContract(ProviderContractConformance):
    def make_provider(self, api_key: str) -> ToolChoosingFake:
        return ToolChoosingFake()

    def make_failing_provider(self, api_key: str) -> FakeProvider:
        return down()


# --- broken providers -----------------------------------------------------------------------


class Wrapper:
    """Delegates to a working provider; subclasses break one rule."""

    def __init__(self, inner: LLMProvider) -> None:
        self.inner: Any = inner  # FakeProvider-based: its streams are async generators

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    async def complete(self, request: LLMRequest) -> LLMResponse:
        response: LLMResponse = await self.inner.complete(request)
        return response

    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        async with aclosing(self.inner.stream(request)) as chunks:
            async for chunk in chunks:
                yield chunk


class RawErrors(Wrapper):
    async def complete(self, request: LLMRequest) -> LLMResponse:
        raise ConnectionRefusedError("[Errno 111] Connection refused")

    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        for _ in range(0):  # an async generator that fails before its first chunk
            yield LLMStreamChunk()
        raise ConnectionRefusedError("[Errno 111] Connection refused")


class UnnamedErrors(Wrapper):
    async def complete(self, request: LLMRequest) -> LLMResponse:
        raise ProviderConnectionError("the backend is down")


class NeverFails(Wrapper):
    pass


class KeyInErrors(Wrapper):
    async def complete(self, request: LLMRequest) -> LLMResponse:
        try:
            return await super().complete(request)
        except ProviderError:
            raise ProviderError("failed", provider="fake") from RuntimeError(f"key={KEY}")


class ShowsKey(Wrapper):
    def __repr__(self) -> str:
        return f"ShowsKey(api_key={KEY!r})"


class DropsUsage(Wrapper):
    async def complete(self, request: LLMRequest) -> LLMResponse:
        response = await super().complete(request)
        return response.model_copy(update={"input_tokens": 0, "output_tokens": 0})


class UsageOnEveryChunk(Wrapper):
    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        async with aclosing(self.inner.stream(request)) as chunks:
            async for chunk in chunks:
                yield chunk.model_copy(update={"input_tokens": 3, "output_tokens": 1})


class OneChunk(Wrapper):
    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        chunks = [chunk async for chunk in self.inner.stream(request)]
        yield chunks[-1].model_copy(update={"text": "".join(c.text for c in chunks)})


class FinishesEveryChunk(Wrapper):
    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        async with aclosing(self.inner.stream(request)) as chunks:
            async for chunk in chunks:
                yield chunk.model_copy(update={"finish_reason": "stop"})


class NeverFinishes(Wrapper):
    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        async with aclosing(self.inner.stream(request)) as chunks:
            async for chunk in chunks:
                yield chunk.model_copy(update={"finish_reason": None})


class NotAGenerator(Wrapper):
    def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        return _Replay(self.inner.stream(request))


class _Replay:
    """An async iterator with no ``aclose``: a consumer cannot close it early."""

    def __init__(self, source: AsyncIterator[LLMStreamChunk]) -> None:
        self.source = source

    def __aiter__(self) -> _Replay:
        return self

    async def __anext__(self) -> LLMStreamChunk:
        return await self.source.__anext__()


class IgnoresClose(Wrapper):
    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        ignored = False
        async with aclosing(self.inner.stream(request)) as chunks:
            async for chunk in chunks:
                try:
                    yield chunk
                except GeneratorExit:
                    if ignored:  # the event loop's own clean-up at its end: give in
                        raise
                    ignored = True  # the consumer's close: carry on instead


class HoldsALock(Wrapper):
    """Serialises calls, but releases the lock only when a stream runs to its end."""

    def __init__(self, inner: LLMProvider) -> None:
        super().__init__(inner)
        self.lock = asyncio.Lock()

    async def complete(self, request: LLMRequest) -> LLMResponse:
        async with self.lock:
            return await super().complete(request)

    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        await self.lock.acquire()
        async for chunk in self.inner.stream(request):
            yield chunk
        self.lock.release()


class DropsToolCalls(Wrapper):
    async def complete(self, request: LLMRequest) -> LLMResponse:
        response = await super().complete(request)
        return response.model_copy(update={"tool_calls": [], "finish_reason": "stop"})

    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        async with aclosing(self.inner.stream(request)) as chunks:
            async for chunk in chunks:
                yield chunk.model_copy(update={"tool_calls": []})


class CallsWithoutIds(Wrapper):
    async def complete(self, request: LLMRequest) -> LLMResponse:
        response = await super().complete(request)
        calls = [call.model_copy(update={"id": ""}) for call in response.tool_calls]
        return response.model_copy(update={"tool_calls": calls})


class RefusesToolResults(Wrapper):
    async def complete(self, request: LLMRequest) -> LLMResponse:
        if any(message.role == "tool" for message in request.messages):
            raise ProviderError("role 'tool' is not supported", provider="fake")
        return await super().complete(request)


class DeclaresNoTools(DropsToolCalls):
    capabilities = ProviderCapabilities(tools=False)


def suite_for(
    broken: Callable[[Any], Any], *, failing: Callable[[Any], Any] | None = None
) -> ProviderContractConformance:
    class Suite(ProviderContractConformance):
        timeout: ClassVar[float] = 1.0

        def make_provider(self, api_key: str) -> Any:
            return broken(ToolChoosingFake())

        def make_failing_provider(self, api_key: str) -> Any:
            return (failing or broken)(down())

    return Suite()


# --- each rule fails on the provider that breaks it ------------------------------------------


def test_the_unbroken_wrapper_passes() -> None:
    suite = suite_for(Wrapper)
    suite.test_is_an_llm_provider()
    suite.test_complete_returns_a_well_formed_answer()
    suite.test_stream_yields_text_then_a_final_chunk()
    suite.test_stream_reports_usage_once_on_the_last_chunk()
    suite.test_complete_calls_the_tool_it_is_told_to()
    suite.test_stream_returns_whole_tool_calls()
    suite.test_a_tool_result_is_answered()
    suite.test_api_key_never_shows()
    for how in ("break", "cancel"):
        suite.test_a_stream_stopped_early_closes_and_the_provider_goes_on(how)
    for mode in ("complete", "stream"):
        suite.test_a_failing_backend_raises_a_provider_error(mode)


@pytest.mark.parametrize("mode", ["complete", "stream"])
def test_a_raw_backend_error_fails(mode: str) -> None:
    suite = suite_for(Wrapper, failing=RawErrors)
    with pytest.raises(AssertionError, match=r"raised builtins.ConnectionRefusedError: .*a "
                       r"provider raises aether.errors types"):  # fmt: skip
        suite.test_a_failing_backend_raises_a_provider_error(mode)


def test_an_error_that_does_not_name_the_provider_fails() -> None:
    suite = suite_for(Wrapper, failing=UnnamedErrors)
    with pytest.raises(AssertionError, match="errors must name the provider"):
        suite.test_a_failing_backend_raises_a_provider_error("complete")


def test_a_failing_provider_that_answers_is_reported_as_such() -> None:
    suite = suite_for(Wrapper, failing=lambda inner: NeverFails(FakeProvider()))
    with pytest.raises(AssertionError, match="build it so that its backend fails when called"):
        suite.test_a_failing_backend_raises_a_provider_error("complete")


def test_a_key_in_the_repr_fails() -> None:
    with pytest.raises(AssertionError):
        suite_for(ShowsKey).test_api_key_never_shows()


def test_a_key_in_a_chained_error_fails() -> None:
    suite = suite_for(Wrapper, failing=KeyInErrors)
    with pytest.raises(AssertionError, match="the key shows in an error"):
        suite.test_api_key_never_shows()


def test_missing_usage_fails() -> None:
    with pytest.raises(AssertionError, match="usage was not reported"):
        suite_for(DropsUsage).test_complete_returns_a_well_formed_answer()


def test_usage_counted_on_every_chunk_fails() -> None:
    with pytest.raises(AssertionError, match="counted on more than the last chunk"):
        suite_for(UsageOnEveryChunk).test_stream_reports_usage_once_on_the_last_chunk()


def test_a_stream_that_is_not_streamed_fails() -> None:
    with pytest.raises(AssertionError, match="not streamed"):
        suite_for(OneChunk).test_stream_yields_text_then_a_final_chunk()


def test_a_finish_reason_before_the_end_fails() -> None:
    with pytest.raises(AssertionError, match=r"chunk 0 of \d+ carries a finish_reason"):
        suite_for(FinishesEveryChunk).test_stream_yields_text_then_a_final_chunk()


def test_a_stream_without_a_final_chunk_fails() -> None:
    with pytest.raises(AssertionError, match="last chunk must carry the finish_reason"):
        suite_for(NeverFinishes).test_stream_yields_text_then_a_final_chunk()


@pytest.mark.parametrize("how", ["break", "cancel"])
def test_a_stream_that_cannot_be_closed_fails(how: str) -> None:
    suite = suite_for(NotAGenerator)
    with pytest.raises(AssertionError, match="must return an async generator"):
        suite.test_a_stream_stopped_early_closes_and_the_provider_goes_on(how)


@pytest.mark.parametrize("how", ["break", "cancel"])
def test_a_stream_that_ignores_its_close_fails(how: str) -> None:
    suite = suite_for(IgnoresClose)
    with pytest.raises(RuntimeError, match="ignored GeneratorExit"):
        suite.test_a_stream_stopped_early_closes_and_the_provider_goes_on(how)


@pytest.mark.parametrize("how", ["break", "cancel"])
def test_a_stream_left_early_that_blocks_the_next_call_fails(how: str) -> None:
    suite = suite_for(HoldsALock)
    with pytest.raises(AssertionError, match=r"did not finish within 1.0 s: a call or a close"):
        suite.test_a_stream_stopped_early_closes_and_the_provider_goes_on(how)


def test_dropped_tool_calls_fail() -> None:
    suite = suite_for(DropsToolCalls)
    with pytest.raises(AssertionError, match="no tool call came back"):
        suite.test_complete_calls_the_tool_it_is_told_to()
    with pytest.raises(AssertionError, match="no tool call came back"):
        suite.test_stream_returns_whole_tool_calls()


def test_tool_calls_without_ids_fail() -> None:
    with pytest.raises(AssertionError, match="has no id"):
        suite_for(CallsWithoutIds).test_complete_calls_the_tool_it_is_told_to()


def test_a_provider_that_cannot_take_tool_results_fails() -> None:
    with pytest.raises(ProviderError, match="role 'tool' is not supported"):
        suite_for(RefusesToolResults).test_a_tool_result_is_answered()


def test_the_same_broken_provider_declaring_no_tools_is_not_failed_for_them() -> None:
    suite = suite_for(DeclaresNoTools)
    for test in (
        suite.test_complete_calls_the_tool_it_is_told_to,
        suite.test_stream_returns_whole_tool_calls,
        suite.test_a_tool_result_is_answered,
    ):
        with pytest.raises(NotClaimed, match="DeclaresNoTools does not claim tools"):
            test()
    suite.test_complete_returns_a_well_formed_answer()


def test_the_suite_needs_both_factories() -> None:
    class Incomplete(ProviderContractConformance):
        def make_provider(self, api_key: str) -> FakeProvider:
            return FakeProvider()

    with pytest.raises(NotImplementedError, match=r"Incomplete must implement "
                       r"make_failing_provider\(api_key\)"):  # fmt: skip
        Incomplete().test_a_failing_backend_raises_a_provider_error("complete")


# --- under pytest: FakeProvider unscripted calls no tool, so it does not claim them ----------


def test_an_echoing_fake_without_tools_passes_and_is_reported(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_plugin_kit="""
from aether.errors import ProviderConnectionError
from aether.extensions.llm.fake import FakeProvider
from aether.llm import ProviderCapabilities
from aether.testing import ProviderContractConformance


class EchoingFake(FakeProvider):
    capabilities = ProviderCapabilities(tools=False)


class TestEchoingFake(ProviderContractConformance):
    def make_provider(self, api_key):
        return EchoingFake(api_key=api_key)

    def make_failing_provider(self, api_key):
        return EchoingFake(responses=[ProviderConnectionError("down", provider="fake")])
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:asyncio", "-v")
    assert result.ret == 0
    outcomes = result.parseoutcomes()
    assert outcomes == {"passed": 9, "unclaimed": 5}
    result.stdout.fnmatch_lines(
        [
            "aether kit: EchoingFake does not claim: structured_output, tools (5 kit tests of "
            "TestEchoingFake unclaimed)"
        ]
    )
