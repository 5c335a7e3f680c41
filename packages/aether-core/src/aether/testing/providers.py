"""The LLM-provider conformance suite: subclass it to prove a provider keeps the contract.

A provider author describes how their API answers (a :class:`WireFormat`) and how to build
their provider on a given ``httpx.AsyncClient``; the suite serves canned answers through a
:class:`~aether.testing.CannedTransport`, so it needs no network and no key:

    from aether.testing import CannedUsage, ProviderConformance, WireFormat, sse_event

    class AcmeWire(WireFormat):
        def text_response(self, text, usage):
            return {"output": text, "usage": {"in": usage.input_tokens, "out": ...}}
        ...

    class TestAcmeProvider(ProviderConformance):
        wire = AcmeWire()

        def make_provider(self, http_client, api_key):
            return AcmeProvider(api_key=api_key, http_client=http_client)

The suite checks what the provider claims (its ``capabilities``, an
:class:`aether.llm.ProviderCapabilities`; undeclared, tools and streaming): a provider with
``ProviderCapabilities(tools=False)`` needs no tool answers in its wire format, and its tool
tests end ``unclaimed`` and are named in the run's summary. A provider that claims
``structured_output`` is sent a request asking for an answer in a JSON schema
(``LLMRequest.output``): the request body must carry the schema, and the answer's text must be
the JSON the API returned (served with the wire format's ``text_response``).

The tests are plain functions that run their own event loop, so the suite works with or
without pytest-asyncio, in any of its modes. A test you cannot pass yet must be overridden
with ``@pytest.mark.xfail(reason=...)``; dropping it silently fails the kit.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx
import pytest

from aether.errors import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    ServerError,
    StreamInterruptedError,
)
from aether.llm.capabilities import capabilities_of
from aether.llm.contracts import LLMProvider, LLMRequest, LLMStreamChunk, Message, ToolCall
from aether.testing._harness import Harness
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
from aether.testing._transport import CannedReply

__all__ = ["CannedUsage", "ProviderConformance", "STATUS_ERRORS", "WireFormat", "sse_event"]

STATUS_ERRORS: dict[int, type[ProviderError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: AuthenticationError,
    404: NotFoundError,
    408: ProviderTimeoutError,
    409: ConflictError,
    429: RateLimitError,
    500: ServerError,
    503: ServerError,
}
"""The error each HTTP failure class must become (the suite checks every one)."""

PROMPT = "aether-kit prompt: say hello"
DELTAS = ("Hel", "lo, ", "world")
CALLS = (
    ToolCall(id="call_kit_1", name="get_weather", arguments={"city": "Paris"}),
    ToolCall(id="call_kit_2", name="get_weather", arguments={"city": "Tōkyō", "days": 3}),
)
_TRANSPORT_FAILURES: dict[str, tuple[type[httpx.TransportError], type[ProviderError]]] = {
    "connect": (httpx.ConnectError, ProviderConnectionError),
    "connect-timeout": (httpx.ConnectTimeout, ProviderTimeoutError),
    "read-timeout": (httpx.ReadTimeout, ProviderTimeoutError),
}
_MODES = ("complete", "stream")
ANSWER_DELTAS = ('{"city": "Par', 'is", "temperature_c', 'elsius": 21.5}')
ANSWER = "".join(ANSWER_DELTAS)


@dataclass(frozen=True)
class CannedUsage:
    """Token counts a canned answer reports; the provider must pass them on unchanged."""

    input_tokens: int = 17
    output_tokens: int = 5


def sse_event(data: Any, *, event: str | None = None) -> bytes:
    """One server-sent event: ``data`` as JSON (a ``str`` is sent as is), then a blank line."""
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {text}\n\n".encode()


class WireFormat(ABC):
    """How one API answers, rendered as canned wire data for the provider suite.

    JSON bodies are returned as Python values (the suite serialises them); streams as a list
    of body pieces, one event each (see :func:`sse_event`), in the order the API sends them.
    The suite cuts streams between pieces to simulate connections that break or end early, so
    the last piece must be the one that marks a complete answer (finish reason, usage or end
    marker). Only :meth:`text_response` is always needed: the stream answers only when the
    provider claims ``streaming``, the tool-call answers only when it claims ``tools``.
    """

    stream_content_type: ClassVar[str] = "text/event-stream"

    @abstractmethod
    def text_response(self, text: str, usage: CannedUsage) -> Any:
        """The JSON body of a whole answer saying ``text``."""

    def stream_response(self, deltas: Sequence[str], usage: CannedUsage) -> list[bytes]:
        """A streamed answer: one piece per text delta, then whatever finishes the stream."""
        raise self._needed("stream_response", "streaming")

    def tool_call_response(self, calls: Sequence[ToolCall], usage: CannedUsage) -> Any:
        """The JSON body of a whole answer asking for ``calls`` (keep their ids)."""
        raise self._needed("tool_call_response", "tools")

    def stream_tool_call_response(
        self, calls: Sequence[ToolCall], usage: CannedUsage
    ) -> list[bytes]:
        """A streamed answer asking for ``calls``."""
        raise self._needed("stream_tool_call_response", "tools", "streaming")

    def _needed(self, method: str, *capabilities: str) -> NotImplementedError:
        declarations = " or ".join(f"ProviderCapabilities({c}=False)" for c in capabilities)
        return NotImplementedError(
            f"{type(self).__name__} does not implement {method}(), which the kit needs because "
            f"the provider claims {' and '.join(capabilities)}: implement it, or, if the "
            f"provider does not serve that, declare it there: capabilities = {declarations}."
        )

    def error_response(self, status: int, message: str) -> Any:
        """The JSON body of an error with ``status`` whose text is ``message``."""
        return {"error": {"message": message, "code": status}}


class ProviderConformance:
    """Behaviour every :class:`~aether.llm.contracts.LLMProvider` over HTTP must have.

    Subclass it, set :attr:`wire`, and implement :meth:`make_provider`. A provider that does
    not speak HTTP runs :class:`~aether.testing.ProviderContractConformance` instead.
    """

    wire: ClassVar[WireFormat]
    """The canned answers of your API."""

    api_key: ClassVar[str] = API_KEY
    """The secret the suite builds your provider with; it must never show up in output."""

    usage: ClassVar[CannedUsage] = CannedUsage()

    output_model: ClassVar[str | None] = None
    """A model that answers in a JSON schema natively, for the structured-output tests; None:
    the model :meth:`make_request` sets."""

    def make_provider(
        self, http_client: httpx.AsyncClient, api_key: str
    ) -> LLMProvider | Awaitable[LLMProvider]:
        """Override: your provider, sending every request through ``http_client``."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement make_provider(http_client, api_key)."
        )

    def make_request(self, *, tools: bool = False) -> LLMRequest:
        """The request each test sends; override to set a model your API needs."""
        return LLMRequest(
            messages=[Message(role="user", content=PROMPT)], tools=[TOOL] if tools else []
        )

    def _output_request(self, provider: LLMProvider) -> LLMRequest:
        request = self.make_request()
        model = self.output_model or request.model
        check_native_output(provider, model)
        return request.model_copy(update={"model": model, "output": OUTPUT})

    # --- plumbing -------------------------------------------------------------------------

    def _run(self, check: Coroutine[Any, Any, None]) -> None:
        asyncio.run(check)

    def _harness(self) -> Harness:
        return Harness(self._provider)

    def _require(self, capability: str) -> None:
        """End this test as unclaimed before scripting what the provider does not serve."""

        async def check() -> None:
            async with self._harness() as h:
                require(h.provider, capability)

        self._run(check())

    def _require_mode(self, mode: str) -> None:
        if mode == "stream":
            self._require("streaming")

    async def _provider(self, client: httpx.AsyncClient) -> LLMProvider:
        made = self.make_provider(client, self.api_key)
        return await made if inspect.isawaitable(made) else made

    def _json(self, body: Any, status: int = 200, **headers: str) -> CannedReply:
        return CannedReply(
            status=status,
            headers={"content-type": "application/json", **headers},
            pieces=[json.dumps(body, ensure_ascii=False).encode()],
        )

    def _events(self, pieces: Sequence[bytes], **options: Any) -> CannedReply:
        headers = {"content-type": self.wire.stream_content_type}
        return CannedReply(status=200, headers=headers, pieces=list(pieces), **options)

    def _error(self, status: int, message: str = "canned failure", **headers: str) -> CannedReply:
        return self._json(self.wire.error_response(status, message), status, **headers)

    async def _call(self, h: Harness, mode: str) -> list[LLMStreamChunk]:
        request = self.make_request()
        if mode == "complete":
            await h.provider.complete(request)
            return []
        return await collect(h.provider.stream(request))

    # --- complete -------------------------------------------------------------------------

    def test_is_an_llm_provider(self) -> None:
        async def check() -> None:
            async with self._harness() as h:
                claimed = capabilities_of(h.provider)  # a malformed declaration fails here
                if claimed.streaming:
                    assert isinstance(h.provider, LLMProvider), "it lacks complete() or stream()"
                else:  # the client gives a provider without streaming a one-chunk stream
                    assert callable(getattr(h.provider, "complete", None)), "it lacks complete()"

        self._run(check())

    def test_complete_returns_the_text(self) -> None:
        async def check() -> None:
            async with self._harness() as h:
                h.transport.queue(self._json(self.wire.text_response("Hello!", self.usage)))
                response = await h.provider.complete(self.make_request())
                assert response.text == "Hello!"
                assert response.finish_reason == "stop"
                assert response.tool_calls == []
                assert len(h.transport.requests) == 1
                assert PROMPT.encode() in h.transport.requests[0].content

        self._run(check())

    def test_complete_reports_usage(self) -> None:
        async def check() -> None:
            async with self._harness() as h:
                h.transport.queue(self._json(self.wire.text_response("Hi", self.usage)))
                response = await h.provider.complete(self.make_request())
                assert (response.input_tokens, response.output_tokens) == (
                    self.usage.input_tokens,
                    self.usage.output_tokens,
                ), "the answer's token usage was lost or changed"

        self._run(check())

    def test_complete_returns_tool_calls(self) -> None:
        self._require("tools")

        async def check() -> None:
            async with self._harness() as h:
                body = self.wire.tool_call_response(CALLS, self.usage)
                h.transport.queue(self._json(body))
                request = self.make_request(tools=True)
                response = await h.provider.complete(request)
                assert response.tool_calls == list(CALLS)
                assert response.finish_reason == "tool_calls"
                assert response.input_tokens == self.usage.input_tokens
                assert TOOL.name.encode() in h.transport.requests[0].content
                forced = request.model_copy(update={"tool_choice": TOOL.name})
                check_forced_tool_choice(h.provider, forced)

        self._run(check())

    # --- stream ---------------------------------------------------------------------------

    def test_stream_yields_deltas_then_a_final_chunk(self) -> None:
        self._require("streaming")

        async def check() -> None:
            async with self._harness() as h:
                h.transport.queue(self._events(self.wire.stream_response(DELTAS, self.usage)))
                chunks = await collect(h.provider.stream(self.make_request()))
                assert all(isinstance(c, LLMStreamChunk) for c in chunks)
                assert "".join(c.text for c in chunks) == "".join(DELTAS)
                assert sum(1 for c in chunks if c.text) >= 2, "the answer was not streamed"
                assert chunks[-1].finish_reason == "stop"
                assert all(c.finish_reason is None for c in chunks[:-1])
                assert PROMPT.encode() in h.transport.requests[0].content

        self._run(check())

    def test_stream_reports_usage_once_on_the_last_chunk(self) -> None:
        self._require("streaming")

        async def check() -> None:
            async with self._harness() as h:
                h.transport.queue(self._events(self.wire.stream_response(DELTAS, self.usage)))
                chunks = await collect(h.provider.stream(self.make_request()))
                last = chunks[-1]
                assert (last.input_tokens, last.output_tokens) == (
                    self.usage.input_tokens,
                    self.usage.output_tokens,
                ), "the last chunk must carry the stream's token usage"
                assert sum(c.input_tokens for c in chunks) == self.usage.input_tokens
                assert sum(c.output_tokens for c in chunks) == self.usage.output_tokens

        self._run(check())

    def test_stream_returns_whole_tool_calls(self) -> None:
        self._require("tools")
        self._require("streaming")

        async def check() -> None:
            async with self._harness() as h:
                pieces = self.wire.stream_tool_call_response(CALLS, self.usage)
                h.transport.queue(self._events(pieces))
                chunks = await collect(h.provider.stream(self.make_request(tools=True)))
                assert [call for c in chunks for call in c.tool_calls] == list(CALLS)
                assert chunks[-1].finish_reason == "tool_calls"
                assert chunks[-1].input_tokens == self.usage.input_tokens

        self._run(check())

    # --- structured output ----------------------------------------------------------------

    def test_complete_answers_in_the_schema(self) -> None:
        self._require("structured_output")

        async def check() -> None:
            async with self._harness() as h:
                h.transport.queue(self._json(self.wire.text_response(ANSWER, self.usage)))
                response = await h.provider.complete(self._output_request(h.provider))
                assert response.text == ANSWER, (
                    f"the answer's text is {response.text!r}; in native structured output it "
                    f"must be the JSON the API returned, unchanged"
                )
                assert response.finish_reason == "stop"
                _assert_schema_sent(h.transport.requests[0])

        self._run(check())

    def test_stream_answers_in_the_schema(self) -> None:
        self._require("structured_output")
        self._require("streaming")

        async def check() -> None:
            async with self._harness() as h:
                pieces = self.wire.stream_response(ANSWER_DELTAS, self.usage)
                h.transport.queue(self._events(pieces))
                chunks = await collect(h.provider.stream(self._output_request(h.provider)))
                assert "".join(c.text for c in chunks) == ANSWER, "the JSON text was changed"
                assert sum(1 for c in chunks if c.text) >= 2, "the answer was not streamed"
                assert chunks[-1].finish_reason == "stop"
                _assert_schema_sent(h.transport.requests[0])

        self._run(check())

    # --- failures -------------------------------------------------------------------------

    @pytest.mark.parametrize("mode", _MODES)
    @pytest.mark.parametrize("status", sorted(STATUS_ERRORS))
    def test_http_status_raises_its_typed_error(self, status: int, mode: str) -> None:
        self._require_mode(mode)

        async def check() -> None:
            async with self._harness() as h:
                h.transport.queue(self._error(status, **{"retry-after": "7"}))
                with pytest.raises(STATUS_ERRORS[status]) as caught:
                    await self._call(h, mode)
                assert caught.value.status_code == status
                assert caught.value.provider, "errors must name the provider"
                if status == 429:
                    assert caught.value.retry_after == 7.0

        self._run(check())

    @pytest.mark.parametrize("mode", _MODES)
    @pytest.mark.parametrize("failure", sorted(_TRANSPORT_FAILURES))
    def test_transport_failure_raises_its_typed_error(self, failure: str, mode: str) -> None:
        self._require_mode(mode)
        raised, expected = _TRANSPORT_FAILURES[failure]

        async def check() -> None:
            async with self._harness() as h:
                h.transport.queue(CannedReply(raise_instead=raised("canned transport failure")))
                with pytest.raises(expected):
                    await self._call(h, mode)

        self._run(check())

    def test_broken_stream_raises_stream_interrupted(self) -> None:
        self._require("streaming")
        pieces = self.wire.stream_response(DELTAS, self.usage)

        async def check(cut: int) -> None:
            async with self._harness() as h:
                broken = httpx.ReadError("connection reset by peer (canned)")
                h.transport.queue(self._events(pieces[:cut], then_raise=broken))
                await _expect_interrupted(h.provider.stream(self.make_request()), cut)

        for cut in range(1, len(pieces)):
            self._run(check(cut))

    def test_stream_ending_early_raises_stream_interrupted(self) -> None:
        self._require("streaming")
        pieces = self.wire.stream_response(DELTAS, self.usage)

        async def check(cut: int) -> None:
            async with self._harness() as h:
                h.transport.queue(self._events(pieces[:cut]))
                await _expect_interrupted(h.provider.stream(self.make_request()), cut)

        for cut in range(1, len(pieces)):
            self._run(check(cut))

    @pytest.mark.parametrize("mode", _MODES)
    @pytest.mark.parametrize("failure", ["429", "500", "503", "connect"])
    def test_does_not_retry_internally(self, failure: str, mode: str) -> None:
        self._require_mode(mode)

        async def check() -> None:
            async with self._harness() as h:
                if failure == "connect":
                    first = CannedReply(raise_instead=httpx.ConnectError("canned refusal"))
                else:
                    first = self._error(int(failure), **{"retry-after": "0"})
                success = (
                    self._json(self.wire.text_response("late", self.usage))
                    if mode == "complete"
                    else self._events(self.wire.stream_response(DELTAS, self.usage))
                )
                h.transport.queue(first, success)
                failed = False
                try:
                    await self._call(h, mode)
                except ProviderError:
                    failed = True
                assert len(h.transport.requests) == 1, (
                    f"the provider sent {len(h.transport.requests)} requests for one call: "
                    f"providers must not retry (Aether's retry layer does)"
                )
                assert failed, "the failure was swallowed instead of raised"

        self._run(check())

    # --- connections ----------------------------------------------------------------------

    def test_stream_closed_early_returns_the_connection(self) -> None:
        self._require("streaming")

        async def check() -> None:
            async with self._harness() as h:
                h.transport.queue(self._events(self.wire.stream_response(DELTAS, self.usage)))
                await first_chunk_then_close(h.provider.stream(self.make_request()))
                assert h.transport.open_responses == 0, "the connection was not released"

        self._run(check())

    @pytest.mark.parametrize("mode", _MODES)
    def test_cancellation_returns_the_connection(self, mode: str) -> None:
        self._require_mode(mode)

        async def check() -> None:
            async with self._harness() as h:
                if mode == "complete":
                    body = json.dumps(self.wire.text_response("never", self.usage)).encode()
                    reply = CannedReply(
                        headers={"content-type": "application/json"},
                        pieces=[body[: len(body) // 2]],
                        then_hang=True,
                    )
                else:
                    pieces = self.wire.stream_response(DELTAS, self.usage)
                    reply = self._events(pieces[:1], then_hang=True)
                h.transport.queue(reply)
                task = asyncio.ensure_future(self._call(h, mode))
                await asyncio.wait_for(h.transport.hanging.wait(), 5)
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
                assert h.transport.open_responses == 0, "a cancelled call kept its connection"

        self._run(check())

    # --- secrets --------------------------------------------------------------------------

    def test_api_key_never_shows(self) -> None:
        """The key is in no repr, error or URL, and travels in a header.

        A provider that signs requests instead of sending the key overrides this test with
        ``@pytest.mark.aether_kit_override(reason=...)`` and checks its signing instead.
        """

        async def check() -> None:
            async with self._harness() as h:
                assert self.api_key not in repr(h.provider)
                assert self.api_key not in str(h.provider)
                echoed = f"Incorrect API key provided: {self.api_key}."
                h.transport.queue(self._error(401, echoed))
                with pytest.raises(AuthenticationError) as caught:
                    await h.provider.complete(self.make_request())
                assert not [text for text in shown_text(caught.value) if self.api_key in text]
                sent = h.transport.requests[0]
                assert self.api_key not in str(sent.url), "the key must not travel in the URL"
                assert any(self.api_key in value for value in sent.headers.values())

        self._run(check())


def _assert_schema_sent(request: httpx.Request) -> None:
    body = request.content.decode(errors="replace")
    missing = [name for name in OUTPUT.json_schema["properties"] if f'"{name}"' not in body]
    assert not missing, (
        f"the request body does not carry the answer's schema (no {', '.join(missing)}): "
        f"LLMRequest.output must be sent as the API's structured-output format"
    )


async def _expect_interrupted(stream: AsyncIterator[LLMStreamChunk], cut: int) -> None:
    received: list[LLMStreamChunk] = []
    with pytest.raises(StreamInterruptedError) as caught:
        await _drain(stream, received)
    assert caught.value.chunks_received == len(received), (
        f"after {cut} piece(s): chunks_received={caught.value.chunks_received} but the caller "
        f"got {len(received)} chunk(s)"
    )
    text = "".join(c.text for c in received)
    assert "".join(DELTAS).startswith(text)
    assert all(c.finish_reason is None for c in received), "a broken stream looked finished"


async def _drain(stream: AsyncIterator[LLMStreamChunk], into: list[LLMStreamChunk]) -> None:
    async for chunk in stream:
        into.append(chunk)
