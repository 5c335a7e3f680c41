"""The provider suite for a provider that does not speak HTTP: subclass it to prove the contract.

A local model, or a provider wrapping a vendor's SDK, answers from a backend the kit has no
transport into, so this suite scripts nothing: it builds your provider with your factory and
checks what must hold whatever the backend says:

    from aether.testing import ProviderContractConformance

    class TestLlamaProvider(ProviderContractConformance):
        def make_provider(self, api_key):
            return LlamaProvider(model=shared_model())  # load a heavy model once, reuse it

        def make_failing_provider(self, api_key):
            return LlamaProvider(model=BrokenModel())   # its backend fails when called

Checked: ``complete`` returns a well-formed answer with its usage; ``stream`` yields text in
several chunks and ends with one carrying the finish reason and the usage; a stream left early,
or whose consumer is cancelled, closes at once and the provider serves the next call; a failing
backend raises an :mod:`aether.errors` type naming the provider; the key shows in no repr or
error. With ``tools`` claimed: a ``tool_choice`` naming a tool gets whole calls of it (whole
and streamed), and a conversation holding a tool's result is answered. With
``structured_output`` claimed: a request asking for an answer in a JSON schema
(``LLMRequest.output``) gets a text that is a JSON object of that schema, whole and streamed
(set ``output_model`` when the provider's usual model does not answer natively).

Not checked, because it needs a scripted backend: the error for each kind of failure, a stream
that breaks or ends early, timeouts, no retries inside the provider, a call cancelled in
flight. :class:`~aether.testing.ProviderConformance` checks those for HTTP providers through
canned answers; for another backend, test them against a stub of it in tests of your own.

Like the HTTP suite it checks what the provider claims (``capabilities``; undeclared, tools
and streaming), ends the tests of what it does not claim ``unclaimed``, and runs its own event
loop in each test.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import AsyncIterator, Awaitable, Coroutine, Sequence
from contextlib import aclosing, asynccontextmanager
from typing import Any, ClassVar

import pytest

from aether.errors import ProviderError
from aether.llm.capabilities import capabilities_of
from aether.llm.contracts import (
    FinishReason,
    LLMProvider,
    LLMRequest,
    LLMResponse,
    LLMStreamChunk,
    Message,
    ToolCall,
)
from aether.testing._shared import (
    API_KEY,
    OUTPUT,
    TOOL,
    check_forced_tool_choice,
    check_native_output,
    collect,
    first_chunk_then_close,
    require,
    shown_text,
)

__all__ = ["ProviderContractConformance"]

PROMPT = "Count from one to five, in words."
TOOL_PROMPT = f"What is the weather in Paris? Use the {TOOL.name} tool."
OUTPUT_PROMPT = "Report the weather in Paris today (any plausible temperature) as JSON."
_MODES = ("complete", "stream")
_TEXT_ENDS: tuple[FinishReason, ...] = ("stop", "length")


class ProviderContractConformance:
    """Behaviour every :class:`~aether.llm.contracts.LLMProvider` must have, whatever it runs on.

    Subclass it and implement :meth:`make_provider` and :meth:`make_failing_provider`; both
    are called once per test, and a provider with ``aclose()`` is closed after it.
    """

    api_key: ClassVar[str] = API_KEY
    """The secret the suite builds your provider with; it must never show up in output."""

    timeout: ClassVar[float] = 60.0
    """Seconds one test may take before it fails as hanging; raise it for a slow local model."""

    output_model: ClassVar[str | None] = None
    """A model that answers in a JSON schema natively, for the structured-output tests; None:
    the model :meth:`make_request` sets."""

    def make_provider(self, api_key: str) -> LLMProvider | Awaitable[LLMProvider]:
        """Override: your provider, ready to answer (a provider without a key ignores it)."""
        raise NotImplementedError(f"{type(self).__name__} must implement make_provider(api_key).")

    def make_failing_provider(self, api_key: str) -> LLMProvider | Awaitable[LLMProvider]:
        """Override: your provider, built without error, whose backend fails when called.

        A server that is down, an SDK client aimed at a closed port, a backend object that
        raises: whatever your users meet when the backend is unavailable.
        """
        raise NotImplementedError(
            f"{type(self).__name__} must implement make_failing_provider(api_key): your "
            f"provider whose backend fails when called, to check what it raises then."
        )

    def make_request(self, **fields: Any) -> LLMRequest:
        """The request a test sends, from the fields it sets; override to add a model name.

        Example: ``return LLMRequest(**{"model": "llama3.2:1b", "max_tokens": 64, **fields})``.
        """
        return LLMRequest(**fields)

    # --- plumbing -------------------------------------------------------------------------

    def _run(self, check: Coroutine[Any, Any, None]) -> None:
        asyncio.run(_within(check, self.timeout))

    @asynccontextmanager
    async def _provider(self, *, failing: bool = False) -> AsyncIterator[Any]:
        factory = self.make_failing_provider if failing else self.make_provider
        made = factory(self.api_key)
        provider = await made if inspect.isawaitable(made) else made
        try:
            yield provider
        finally:
            close = getattr(provider, "aclose", None)
            if close is not None:
                await close()

    def _ask(self) -> LLMRequest:
        return self.make_request(messages=[Message(role="user", content=PROMPT)])

    def _ask_for_the_tool(self) -> LLMRequest:
        question = Message(role="user", content=TOOL_PROMPT)
        return self.make_request(messages=[question], tools=[TOOL], tool_choice=TOOL.name)

    def _ask_for_output(self, provider: object) -> LLMRequest:
        question = Message(role="user", content=OUTPUT_PROMPT)
        request = self.make_request(messages=[question], output=OUTPUT)
        if self.output_model is not None:
            request = request.model_copy(update={"model": self.output_model})
        check_native_output(provider, request.model)
        return request

    # --- complete -------------------------------------------------------------------------

    def test_is_an_llm_provider(self) -> None:
        async def check() -> None:
            async with self._provider() as provider:
                claimed = capabilities_of(provider)  # a malformed declaration fails here
                if claimed.streaming:
                    assert isinstance(provider, LLMProvider), "it lacks complete() or stream()"
                else:  # the client gives a provider without streaming a one-chunk stream
                    assert callable(getattr(provider, "complete", None)), "it lacks complete()"

        self._run(check())

    def test_complete_returns_a_well_formed_answer(self) -> None:
        async def check() -> None:
            async with self._provider() as provider:
                _check_text_answer(await provider.complete(self._ask()))

        self._run(check())

    # --- stream ---------------------------------------------------------------------------

    def test_stream_yields_text_then_a_final_chunk(self) -> None:
        async def check() -> None:
            async with self._provider() as provider:
                require(provider, "streaming")
                chunks = await collect(provider.stream(self._ask()))
                _check_stream_shape(chunks)
                assert sum(1 for c in chunks if c.text) >= 2, "the answer was not streamed"
                assert "".join(c.text for c in chunks).strip(), "the answer has no text"
                assert chunks[-1].finish_reason in _TEXT_ENDS, (
                    f"the last chunk says finish_reason={chunks[-1].finish_reason!r}; a text "
                    f"answer ends with 'stop' (or 'length' when max_tokens cut it)"
                )
                assert not [c for c in chunks if c.tool_calls], "tool calls nobody offered"

        self._run(check())

    def test_stream_reports_usage_once_on_the_last_chunk(self) -> None:
        async def check() -> None:
            async with self._provider() as provider:
                require(provider, "streaming")
                chunks = await collect(provider.stream(self._ask()))
                _check_stream_shape(chunks)
                last = chunks[-1]
                assert last.input_tokens > 0 and last.output_tokens > 0, (
                    f"the last chunk must carry the stream's token usage (it says "
                    f"input_tokens={last.input_tokens}, output_tokens={last.output_tokens})"
                )
                assert sum(c.input_tokens for c in chunks) == last.input_tokens, (
                    "input tokens are counted on more than the last chunk: callers add up chunks"
                )
                assert sum(c.output_tokens for c in chunks) == last.output_tokens, (
                    "output tokens are counted on more than the last chunk: callers add up chunks"
                )

        self._run(check())

    @pytest.mark.parametrize("how", ["break", "cancel"])
    def test_a_stream_stopped_early_closes_and_the_provider_goes_on(self, how: str) -> None:
        """A consumer that leaves after one chunk (``break``, or its task cancelled).

        Closing must end the stream at once and without error, and leave nothing held (a
        lock, a running generation) that keeps the provider from serving the next call.
        """

        async def check() -> None:
            async with self._provider() as provider:
                require(provider, "streaming")
                stream = provider.stream(self._ask())
                if how == "break":
                    await first_chunk_then_close(stream)
                else:
                    await _cancel_the_consumer(stream)
                _check_text_answer(await provider.complete(self._ask()))

        self._run(check())

    # --- tools ----------------------------------------------------------------------------

    def test_complete_calls_the_tool_it_is_told_to(self) -> None:
        async def check() -> None:
            async with self._provider() as provider:
                require(provider, "tools")
                request = self._ask_for_the_tool()
                response = await provider.complete(request)
                assert isinstance(response, LLMResponse), f"complete() returned {response!r}"
                _check_tool_calls(response.tool_calls, response.finish_reason)
                assert response.input_tokens > 0, "the answer's usage was not reported"
                check_forced_tool_choice(provider, request)

        self._run(check())

    def test_stream_returns_whole_tool_calls(self) -> None:
        async def check() -> None:
            async with self._provider() as provider:
                require(provider, "tools")
                require(provider, "streaming")
                chunks = await collect(provider.stream(self._ask_for_the_tool()))
                _check_stream_shape(chunks)
                calls = [call for chunk in chunks for call in chunk.tool_calls]
                _check_tool_calls(calls, chunks[-1].finish_reason)
                assert chunks[-1].input_tokens > 0, "the last chunk must carry the usage"

        self._run(check())

    def test_a_tool_result_is_answered(self) -> None:
        async def check() -> None:
            call = ToolCall(id="call_kit_1", name=TOOL.name, arguments={"city": "Paris"})
            conversation = [
                Message(role="user", content=TOOL_PROMPT),
                Message(role="assistant", tool_calls=[call]),
                Message(role="tool", content="Sunny, 21 °C.", tool_call_id=call.id, name=TOOL.name),
            ]
            request = self.make_request(messages=conversation, tools=[TOOL], tool_choice="none")
            async with self._provider() as provider:
                require(provider, "tools")
                _check_text_answer(await provider.complete(request))

        self._run(check())

    # --- structured output ----------------------------------------------------------------

    def test_complete_answers_in_the_schema(self) -> None:
        async def check() -> None:
            async with self._provider() as provider:
                require(provider, "structured_output")
                response = await provider.complete(self._ask_for_output(provider))
                assert isinstance(response, LLMResponse), f"complete() returned {response!r}"
                _check_json_answer(response.text, response.finish_reason)

        self._run(check())

    def test_stream_answers_in_the_schema(self) -> None:
        async def check() -> None:
            async with self._provider() as provider:
                require(provider, "structured_output")
                require(provider, "streaming")
                chunks = await collect(provider.stream(self._ask_for_output(provider)))
                _check_stream_shape(chunks)
                _check_json_answer("".join(c.text for c in chunks), chunks[-1].finish_reason)

        self._run(check())

    # --- failures and secrets -------------------------------------------------------------

    @pytest.mark.parametrize("mode", _MODES)
    def test_a_failing_backend_raises_a_provider_error(self, mode: str) -> None:
        async def check() -> None:
            async with self._provider(failing=True) as provider:
                if mode == "stream":
                    require(provider, "streaming")
                error = await _failure_of(provider, self._ask(), mode)
                assert error is not None, (
                    f"{mode}() on make_failing_provider()'s provider succeeded; build it so "
                    f"that its backend fails when called"
                )
                assert isinstance(error, ProviderError), (
                    f"{mode}() raised {type(error).__module__}.{type(error).__qualname__}: "
                    f"{error}; a provider raises aether.errors types (a ProviderError such as "
                    f"ProviderConnectionError, chaining the original), so callers and the retry "
                    f"layer can tell what happened"
                )
                assert error.provider, "errors must name the provider"

        self._run(check())

    def test_api_key_never_shows(self) -> None:
        """The key is in no repr, and in no text of an error or of the errors it chains."""

        async def check() -> None:
            async with self._provider() as provider:
                assert self.api_key not in repr(provider)
                assert self.api_key not in str(provider)
            async with self._provider(failing=True) as provider:
                assert self.api_key not in repr(provider)
                error: BaseException | None = await _failure_of(provider, self._ask(), "complete")
                seen: list[str] = []
                while error is not None and len(seen) < 50:
                    seen += shown_text(error)
                    error = error.__cause__ or error.__context__
                assert not [text for text in seen if self.api_key in text], (
                    "the key shows in an error (or an error it chains)"
                )

        self._run(check())


async def _within(check: Coroutine[Any, Any, None], timeout: float) -> None:
    task = asyncio.ensure_future(check)
    done, _ = await asyncio.wait({task}, timeout=timeout)
    if not done:
        task.cancel()
        await asyncio.wait({task})
        raise AssertionError(
            f"the test did not finish within {timeout} s: a call or a close hangs (raise "
            f"`timeout` on your suite if your backend is this slow)"
        )
    task.result()


async def _failure_of(provider: Any, request: LLMRequest, mode: str) -> Exception | None:
    try:
        if mode == "complete":
            await provider.complete(request)
        else:
            await collect(provider.stream(request))
    except Exception as exc:  # what the provider let out is under test
        return exc
    return None


async def _cancel_the_consumer(stream: AsyncIterator[LLMStreamChunk]) -> None:
    """Cancel a consumer busy with its first chunk; its ``aclosing`` then closes the stream."""
    assert hasattr(stream, "aclose"), "stream() must return an async generator (no aclose())"
    got_one = asyncio.Event()

    async def consume() -> None:
        async with aclosing(stream):  # type: ignore[type-var]
            async for _ in stream:
                got_one.set()
                await asyncio.Event().wait()

    task = asyncio.ensure_future(consume())
    waiting = asyncio.ensure_future(got_one.wait())
    await asyncio.wait({task, waiting}, return_when=asyncio.FIRST_COMPLETED)
    waiting.cancel()
    if task.done():
        task.result()  # the stream failed or ended before its first chunk
        raise AssertionError("the stream ended without yielding a chunk")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task  # anything else means closing the stream raised


def _check_stream_shape(chunks: Sequence[object]) -> None:
    assert chunks, "the stream yielded nothing; its last chunk must carry finish_reason and usage"
    wrong = [type(c).__name__ for c in chunks if not isinstance(c, LLMStreamChunk)]
    assert not wrong, f"stream() yielded {wrong[0]} instead of LLMStreamChunk"
    typed: Sequence[LLMStreamChunk] = chunks  # type: ignore[assignment]
    assert typed[-1].finish_reason is not None, "the last chunk must carry the finish_reason"
    early = [i for i, c in enumerate(typed[:-1]) if c.finish_reason is not None]
    assert not early, f"chunk {early[0]} of {len(typed)} carries a finish_reason: only the last may"


def _check_text_answer(response: object) -> None:
    assert isinstance(response, LLMResponse), f"complete() returned {response!r}"
    assert response.text.strip(), "the answer has no text"
    assert response.finish_reason in _TEXT_ENDS, (
        f"finish_reason is {response.finish_reason!r}; a text answer ends with 'stop' (or "
        f"'length' when max_tokens cut it)"
    )
    assert response.tool_calls == [], "the answer calls tools although none may be called"
    assert response.input_tokens > 0 and response.output_tokens > 0, (
        f"the answer's usage was not reported (input_tokens={response.input_tokens}, "
        f"output_tokens={response.output_tokens}); cost tracking and budgets read it"
    )


def _check_json_answer(text: str, finish_reason: FinishReason | None) -> None:
    assert finish_reason == "stop", (
        f"finish_reason is {finish_reason!r}; an answer in a schema ends with 'stop'"
    )
    try:
        answer = json.loads(text)
    except ValueError:
        raise AssertionError(
            f"the answer is not JSON ({text[:80]!r}): LLMRequest.output asks the model for "
            f"JSON in the given schema, and the answer's text must be that JSON"
        ) from None
    assert isinstance(answer, dict), f"the answer is {type(answer).__name__}, not an object"
    properties = OUTPUT.json_schema["properties"]
    assert set(answer) == set(properties), (
        f"the answer has the keys {sorted(answer)}; the schema asks for {sorted(properties)} "
        f"and no others"
    )
    assert isinstance(answer["city"], str), "'city' must be a string"
    celsius = answer["temperature_celsius"]
    assert isinstance(celsius, (int, float)) and not isinstance(celsius, bool), (
        "'temperature_celsius' must be a number"
    )


def _check_tool_calls(calls: Sequence[ToolCall], finish_reason: FinishReason | None) -> None:
    assert calls, (
        f"no tool call came back although tool_choice={TOOL.name!r} requires one: the "
        f"provider dropped it, or did not pass tools or tool_choice on to the model"
    )
    names = sorted({call.name for call in calls})
    assert names == [TOOL.name], f"calls of {names}; the request offered only {TOOL.name!r}"
    ids = [call.id for call in calls]
    assert all(ids), "a tool call has no id; its result is matched to the call by it"
    assert len(set(ids)) == len(ids), f"tool call ids repeat: {ids}"
    assert finish_reason == "tool_calls", f"finish_reason is {finish_reason!r}, not 'tool_calls'"
