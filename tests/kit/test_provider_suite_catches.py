"""Each provider-suite check fails on a provider broken in its way (so none is vacuous).

The broken providers wrap the real OpenAI provider and break one rule each; the suite's tests
are called directly, the way pytest would call them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from typing import Any

import httpx
import pytest

from aether.errors import (
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    StreamInterruptedError,
)
from aether.llm.contracts import LLMRequest, LLMResponse, LLMStreamChunk
from aether.testing import ProviderConformance
from aether_openai import OpenAIProvider
from tests.kit.test_kit_openai import ChatCompletionsWire


class Wrapper:
    """Delegates to the real provider; subclasses break one rule."""

    def __init__(self, inner: OpenAIProvider) -> None:
        self.inner = inner

    def __repr__(self) -> str:
        return "Wrapper()"

    async def aclose(self) -> None:
        await self.inner.aclose()

    async def complete(self, request: LLMRequest) -> LLMResponse:
        return await self.inner.complete(request)

    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        async with aclosing(self.inner.stream(request)) as chunks:
            async for chunk in chunks:
                yield chunk


class DropsUsage(Wrapper):
    async def complete(self, request: LLMRequest) -> LLMResponse:
        response = await self.inner.complete(request)
        return response.model_copy(update={"input_tokens": 0, "output_tokens": 0})

    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        async for chunk in self.inner.stream(request):
            yield chunk.model_copy(update={"input_tokens": 0, "output_tokens": 0})


class RetriesInternally(Wrapper):
    async def complete(self, request: LLMRequest) -> LLMResponse:
        try:
            return await self.inner.complete(request)
        except ProviderError:
            return await self.inner.complete(request)

    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        try:
            chunks = [chunk async for chunk in self.inner.stream(request)]
        except ProviderError:
            chunks = [chunk async for chunk in self.inner.stream(request)]
        for chunk in chunks:
            yield chunk


class LeaksConnectionOnEarlyClose(Wrapper):
    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        # The classic bug: leaving ``async for`` does not close the inner generator, so its
        # response stays open until garbage collection.
        async for chunk in self.inner.stream(request):
            yield chunk


class ShowsKey(Wrapper):
    def __repr__(self) -> str:
        return f"ShowsKey(api_key={self.inner._http._headers['authorization']!r})"


class UntypedErrors(Wrapper):
    async def complete(self, request: LLMRequest) -> LLMResponse:
        try:
            return await self.inner.complete(request)
        except ProviderError as exc:
            raise RuntimeError(str(exc)) from None


class HidesInterruptions(Wrapper):
    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        try:
            async for chunk in self.inner.stream(request):
                yield chunk
        except StreamInterruptedError:
            yield LLMStreamChunk(finish_reason="stop")


class FakesStreaming(Wrapper):
    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        chunks = [chunk async for chunk in self.inner.stream(request)]
        text = "".join(c.text for c in chunks)
        yield chunks[-1].model_copy(update={"text": text})


class KeepsWorkingWhenCancelled(Wrapper):
    """Shields the real call, so a cancelled caller leaves it running on its connection."""

    async def complete(self, request: LLMRequest) -> LLMResponse:
        return await asyncio.shield(self.inner.complete(request))

    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        chunks = self.inner.stream(request)
        while True:
            try:
                yield await asyncio.shield(chunks.__anext__())
            except StopAsyncIteration:
                return


class DropsToolCalls(Wrapper):
    async def complete(self, request: LLMRequest) -> LLMResponse:
        response = await self.inner.complete(request)
        return response.model_copy(update={"tool_calls": []})

    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        async with aclosing(self.inner.stream(request)) as chunks:
            async for chunk in chunks:
                yield chunk.model_copy(update={"tool_calls": []})


class RenamesToolCalls(Wrapper):
    """Makes up its own call ids, so the tool results could not be matched to the calls."""

    async def complete(self, request: LLMRequest) -> LLMResponse:
        response = await self.inner.complete(request)
        renamed = [
            call.model_copy(update={"id": f"mine_{index}"})
            for index, call in enumerate(response.tool_calls)
        ]
        return response.model_copy(update={"tool_calls": renamed})


def _untranslated(exc: ProviderError) -> BaseException:
    """The httpx exception the real provider translated (its ``__cause__``)."""
    if exc.__cause__ is None:
        raise AssertionError("the real provider must chain the transport error") from exc
    return exc.__cause__


class LeaksTransportErrors(Wrapper):
    """Lets the httpx exception out instead of Aether's typed error."""

    async def complete(self, request: LLMRequest) -> LLMResponse:
        try:
            return await self.inner.complete(request)
        except (ProviderConnectionError, ProviderTimeoutError) as exc:
            raise _untranslated(exc) from None

    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        try:
            async with aclosing(self.inner.stream(request)) as chunks:
                async for chunk in chunks:
                    yield chunk
        except (ProviderConnectionError, ProviderTimeoutError) as exc:
            raise _untranslated(exc) from None


class CallsTimeoutsConnectionErrors(Wrapper):
    async def complete(self, request: LLMRequest) -> LLMResponse:
        try:
            return await self.inner.complete(request)
        except ProviderTimeoutError as exc:
            raise ProviderConnectionError(str(exc), provider="openai") from exc


def suite_for(wrapper: Callable[[OpenAIProvider], Any]) -> ProviderConformance:
    class Suite(ProviderConformance):
        wire = ChatCompletionsWire()

        def make_provider(self, http_client: httpx.AsyncClient, api_key: str) -> Any:
            return wrapper(OpenAIProvider(api_key=api_key, http_client=http_client))

    return Suite()


def test_the_unbroken_wrapper_passes() -> None:
    suite = suite_for(Wrapper)
    suite.test_complete_reports_usage()
    suite.test_stream_reports_usage_once_on_the_last_chunk()
    suite.test_does_not_retry_internally("429", "complete")
    suite.test_stream_closed_early_returns_the_connection()
    suite.test_api_key_never_shows()
    suite.test_http_status_raises_its_typed_error(500, "complete")
    suite.test_broken_stream_raises_stream_interrupted()
    suite.test_stream_yields_deltas_then_a_final_chunk()
    suite.test_complete_returns_tool_calls()
    suite.test_stream_returns_whole_tool_calls()
    for mode in ("complete", "stream"):
        suite.test_cancellation_returns_the_connection(mode)
        suite.test_transport_failure_raises_its_typed_error("read-timeout", mode)
        suite.test_transport_failure_raises_its_typed_error("connect", mode)


def test_missing_usage_fails() -> None:
    suite = suite_for(DropsUsage)
    with pytest.raises(AssertionError, match="usage was lost"):
        suite.test_complete_reports_usage()
    with pytest.raises(AssertionError, match="last chunk must carry"):
        suite.test_stream_reports_usage_once_on_the_last_chunk()


@pytest.mark.parametrize("mode", ["complete", "stream"])
@pytest.mark.parametrize("failure", ["429", "500", "503", "connect"])
def test_retrying_internally_fails(failure: str, mode: str) -> None:
    with pytest.raises(AssertionError, match="sent 2 requests for one call"):
        suite_for(RetriesInternally).test_does_not_retry_internally(failure, mode)


def test_a_connection_kept_after_an_early_close_fails() -> None:
    with pytest.raises(AssertionError, match="connection was not released"):
        suite_for(LeaksConnectionOnEarlyClose).test_stream_closed_early_returns_the_connection()


def test_a_key_in_the_repr_fails() -> None:
    with pytest.raises(AssertionError):
        suite_for(ShowsKey).test_api_key_never_shows()


def test_untyped_errors_fail() -> None:
    with pytest.raises(RuntimeError):
        suite_for(UntypedErrors).test_http_status_raises_its_typed_error(429, "complete")


def test_a_stream_that_hides_interruptions_fails() -> None:
    suite = suite_for(HidesInterruptions)
    with pytest.raises(pytest.fail.Exception, match="DID NOT RAISE"):
        suite.test_broken_stream_raises_stream_interrupted()
    with pytest.raises(pytest.fail.Exception, match="DID NOT RAISE"):
        suite.test_stream_ending_early_raises_stream_interrupted()


def test_a_stream_that_is_not_streamed_fails() -> None:
    with pytest.raises(AssertionError, match="not streamed"):
        suite_for(FakesStreaming).test_stream_yields_deltas_then_a_final_chunk()


@pytest.mark.parametrize("mode", ["complete", "stream"])
def test_a_cancelled_call_that_keeps_its_connection_fails(mode: str) -> None:
    suite = suite_for(KeepsWorkingWhenCancelled)
    with pytest.raises(AssertionError, match="a cancelled call kept its connection"):
        suite.test_cancellation_returns_the_connection(mode)


def test_dropped_tool_calls_fail() -> None:
    suite = suite_for(DropsToolCalls)
    # The message names the call that went missing.
    with pytest.raises(AssertionError, match="call_kit_1"):
        suite.test_complete_returns_tool_calls()
    with pytest.raises(AssertionError, match="call_kit_1"):
        suite.test_stream_returns_whole_tool_calls()


def test_made_up_tool_call_ids_fail() -> None:
    with pytest.raises(AssertionError, match="mine_0"):
        suite_for(RenamesToolCalls).test_complete_returns_tool_calls()


@pytest.mark.parametrize("mode", ["complete", "stream"])
@pytest.mark.parametrize(
    ("failure", "leaked"),
    [("connect", httpx.ConnectError), ("connect-timeout", httpx.ConnectTimeout),
     ("read-timeout", httpx.ReadTimeout)],
)  # fmt: skip
def test_untranslated_transport_errors_fail(
    failure: str, leaked: type[Exception], mode: str
) -> None:
    # pytest.raises lets the wrong exception through: the test errors with the httpx one.
    with pytest.raises(leaked):
        suite_for(LeaksTransportErrors).test_transport_failure_raises_its_typed_error(failure, mode)


def test_a_timeout_typed_as_a_connection_error_fails() -> None:
    with pytest.raises(ProviderConnectionError):
        suite_for(CallsTimeoutsConnectionErrors).test_transport_failure_raises_its_typed_error(
            "read-timeout", "complete"
        )
