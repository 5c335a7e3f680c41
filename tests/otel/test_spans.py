"""The spans and metrics of each kind of call, checked against the pinned conventions.

Names are compared with the constants of ``opentelemetry-semantic-conventions`` 0.66b2 (the
release ``aether_otel._conventions`` follows), so a name that drifted from it fails here.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import aclosing

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai
from opentelemetry.semconv._incubating.metrics import gen_ai_metrics
from opentelemetry.semconv.attributes import error_attributes, server_attributes
from opentelemetry.trace import SpanKind, StatusCode

from aether import Aether, ProviderConfig
from aether.errors import ProviderTimeoutError, RateLimitError, ServerError
from aether.extensions.llm.fake import FakeProvider
from aether.llm.contracts import LLMResponse
from tests.otel._server import ANSWER_MODEL, RESPONSE_ID, OpenAIServer
from tests.otel.conftest import Recorded, children

KEY = "sk-otel-test-key"


def client_for(server: OpenAIServer, model: str = "text", **options: object) -> Aether:
    config = ProviderConfig(
        provider="openai", base_url=server.base_url, api_key=KEY, model=model, **options
    )
    return Aether(config=config)


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


def check_model_call(span: ReadableSpan, server: OpenAIServer, model: str) -> None:
    """What every model-call span against the test server carries."""
    attrs = span.attributes or {}
    assert span.name == f"chat {model}"
    assert span.kind is SpanKind.CLIENT
    assert attrs[gen_ai.GEN_AI_OPERATION_NAME] == gen_ai.GenAiOperationNameValues.CHAT.value
    assert attrs[gen_ai.GEN_AI_PROVIDER_NAME] == gen_ai.GenAiProviderNameValues.OPENAI.value
    assert attrs[gen_ai.GEN_AI_REQUEST_MODEL] == model
    assert attrs[server_attributes.SERVER_ADDRESS] == "127.0.0.1"
    assert attrs[server_attributes.SERVER_PORT] == int(server.root.rsplit(":", 1)[1])


async def test_a_complete_call(recorded: Recorded, server: OpenAIServer) -> None:
    async with client_for(server) as client:
        answer = await client.ask(
            "hi", temperature=0.25, max_tokens=20, stop="END", settings={"top_p": 0.5, "seed": 7}
        )
    assert answer == "Hello there"
    call = recorded.one("aether.complete")
    [chat] = children(recorded.spans(), call)
    check_model_call(chat, server, "text")
    attrs = chat.attributes or {}
    assert attrs[gen_ai.GEN_AI_REQUEST_TEMPERATURE] == 0.25
    assert attrs[gen_ai.GEN_AI_REQUEST_MAX_TOKENS] == 20
    assert attrs[gen_ai.GEN_AI_REQUEST_TOP_P] == 0.5
    assert attrs[gen_ai.GEN_AI_REQUEST_SEED] == 7
    assert attrs[gen_ai.GEN_AI_REQUEST_STOP_SEQUENCES] == ("END",)
    assert gen_ai.GEN_AI_REQUEST_STREAM not in attrs  # set on streams only
    assert gen_ai.GEN_AI_OUTPUT_TYPE not in attrs  # only when an output format is asked for
    assert attrs[gen_ai.GEN_AI_RESPONSE_MODEL] == ANSWER_MODEL
    assert attrs[gen_ai.GEN_AI_RESPONSE_ID] == RESPONSE_ID
    assert attrs[gen_ai.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert attrs[gen_ai.GEN_AI_USAGE_INPUT_TOKENS] == 11
    assert attrs[gen_ai.GEN_AI_USAGE_OUTPUT_TOKENS] == 3
    assert attrs[gen_ai.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 2
    assert attrs[gen_ai.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] == 1
    assert error_attributes.ERROR_TYPE not in attrs
    assert chat.status.status_code is StatusCode.UNSET
    assert attrs["aether.attempt"] == 1
    assert "aether.end_reason" not in attrs  # said only when a span ends otherwise
    parent = call.attributes or {}
    assert call.parent is None and call.kind is SpanKind.INTERNAL
    assert parent["aether.call.provider"] == "openai"
    assert parent["aether.call.model"] == "text"
    assert (parent["aether.call.model_calls"], parent["aether.call.retries"]) == (1, 0)
    assert (parent["aether.usage.input_tokens"], parent["aether.usage.output_tokens"]) == (11, 3)

    [duration] = recorded.points(gen_ai_metrics.GEN_AI_CLIENT_OPERATION_DURATION)
    assert duration.count == 1 and duration.sum > 0
    assert dict(duration.attributes) == {
        gen_ai.GEN_AI_OPERATION_NAME: "chat",
        gen_ai.GEN_AI_PROVIDER_NAME: "openai",
        gen_ai.GEN_AI_REQUEST_MODEL: "text",
        gen_ai.GEN_AI_RESPONSE_MODEL: ANSWER_MODEL,
        server_attributes.SERVER_ADDRESS: "127.0.0.1",
        server_attributes.SERVER_PORT: int(server.root.rsplit(":", 1)[1]),
    }
    usage = {
        p.attributes[gen_ai.GEN_AI_TOKEN_TYPE]: p.sum
        for p in recorded.points(gen_ai_metrics.GEN_AI_CLIENT_TOKEN_USAGE)
    }
    assert usage == {
        gen_ai.GenAiTokenTypeValues.INPUT.value: 11,
        gen_ai.GenAiTokenTypeValues.OUTPUT.value: 3,
    }
    assert recorded.points(gen_ai_metrics.GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK) == []


async def test_a_stream(recorded: Recorded, server: OpenAIServer) -> None:
    async with client_for(server) as client:
        text = "".join([piece async for piece in client.stream_text("hi")])
    assert text == "Hello there"
    call = recorded.one("aether.stream")
    [chat] = children(recorded.spans(), call)
    check_model_call(chat, server, "text")
    attrs = chat.attributes or {}
    assert attrs[gen_ai.GEN_AI_REQUEST_STREAM] is True
    assert attrs[gen_ai.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert attrs[gen_ai.GEN_AI_RESPONSE_ID] == RESPONSE_ID
    assert attrs[gen_ai.GEN_AI_USAGE_INPUT_TOKENS] == 11
    first = attrs[gen_ai.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK]
    assert isinstance(first, float) and 0 < first <= (chat.end_time - chat.start_time) / 1e9
    assert call.name == "aether.stream"
    [point] = recorded.points(gen_ai_metrics.GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK)
    assert point.count == 1 and point.sum == pytest.approx(first)


@pytest.mark.parametrize("streamed", [False, True])
async def test_a_tool_round(recorded: Recorded, server: OpenAIServer, streamed: bool) -> None:
    async with client_for(server, model="weather") as client:
        if streamed:
            text = "".join([p async for p in client.stream_text("weather?", tools=[get_weather])])
        else:
            text = await client.ask("weather?", tools=[get_weather])
    assert text == "Answer: sunny in Paris"
    call = recorded.one("aether.stream" if streamed else "aether.complete")
    first, tool, last = children(recorded.spans(), call)
    check_model_call(first, server, "weather")
    check_model_call(last, server, "weather")
    assert (first.attributes or {})[gen_ai.GEN_AI_RESPONSE_FINISH_REASONS] == ("tool_calls",)
    assert (last.attributes or {})[gen_ai.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert tool.name == "execute_tool get_weather"
    assert tool.kind is SpanKind.INTERNAL
    assert dict(tool.attributes or {}) == {
        gen_ai.GEN_AI_OPERATION_NAME: gen_ai.GenAiOperationNameValues.EXECUTE_TOOL.value,
        gen_ai.GEN_AI_TOOL_NAME: "get_weather",
        gen_ai.GEN_AI_TOOL_CALL_ID: "call_w",
        gen_ai.GEN_AI_TOOL_TYPE: "function",
    }
    assert first.end_time <= tool.start_time and tool.end_time <= last.start_time
    assert (call.attributes or {})["aether.call.model_calls"] == 2


async def test_a_tool_that_fails(recorded: Recorded) -> None:
    def explode(city: str) -> str:
        """Always fails."""
        raise RuntimeError(f"no weather for {city}")

    from aether.llm.contracts import ToolCall

    calls = [ToolCall(id="c1", name="explode", arguments={"city": "Paris"}), "done"]
    async with Aether(FakeProvider(responses=calls)) as client:
        assert await client.ask("go", tools=[explode]) == "done"
    tool = recorded.one("execute_tool")
    attrs = tool.attributes or {}
    assert attrs[error_attributes.ERROR_TYPE] == "ToolExecutionError"
    assert tool.status.status_code is StatusCode.ERROR
    assert tool.events == ()  # the tool's message is content: not recorded by default
    assert recorded.one("aether.complete").status.status_code is StatusCode.UNSET


async def test_a_retried_call_shows_each_attempt(recorded: Recorded, server: OpenAIServer) -> None:
    async with client_for(server, model="flaky") as client:
        assert await client.ask("hi") == "Hello there"
    call = recorded.one("aether.complete")
    failed, answered = children(recorded.spans(), call)
    for span in (failed, answered):
        check_model_call(span, server, "flaky")
    assert (failed.attributes or {})[error_attributes.ERROR_TYPE] == RateLimitError.__name__
    assert (failed.attributes or {})["aether.attempt"] == 1
    assert failed.status.status_code is StatusCode.ERROR
    assert [event.name for event in failed.events] == ["exception"]
    assert (answered.attributes or {})["aether.attempt"] == 2
    assert error_attributes.ERROR_TYPE not in (answered.attributes or {})
    [retry] = call.events
    assert retry.name == "aether.retry"
    assert dict(retry.attributes or {}) == {
        "aether.retry.attempt": 1,
        "aether.retry.delay_seconds": pytest.approx(retry.attributes["aether.retry.delay_seconds"]),
        error_attributes.ERROR_TYPE: RateLimitError.__name__,
    }
    assert failed.end_time <= retry.timestamp <= answered.start_time
    assert (call.attributes or {})["aether.call.retries"] == 1
    assert call.status.status_code is StatusCode.UNSET
    durations = recorded.points(gen_ai_metrics.GEN_AI_CLIENT_OPERATION_DURATION)
    errors = sorted(str(p.attributes.get(error_attributes.ERROR_TYPE)) for p in durations)
    assert errors == ["None", RateLimitError.__name__]


async def test_an_error(recorded: Recorded, server: OpenAIServer) -> None:
    async with client_for(server, model="broken") as client:
        with pytest.raises(ServerError):
            await client.ask("hi")
    call = recorded.one("aether.complete")
    attempts = children(recorded.spans(), call)
    assert [(s.attributes or {})["aether.attempt"] for s in attempts] == [1, 2, 3]
    for span in [*attempts, call]:
        assert (span.attributes or {})[error_attributes.ERROR_TYPE] == ServerError.__name__
        assert (span.attributes or {})["aether.end_reason"] == "error"
        assert span.status.status_code is StatusCode.ERROR
    assert call.events[-1].name == "exception"
    assert (call.events[-1].attributes or {})["exception.type"].endswith("ServerError")


async def test_a_cancelled_stream(recorded: Recorded, server: OpenAIServer) -> None:
    started = asyncio.Event()

    async def consume(client: Aether) -> None:
        async for _ in client.stream("hi"):
            started.set()

    async with client_for(server, model="hang") as client:
        task = asyncio.create_task(consume(client))
        await asyncio.wait_for(started.wait(), 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    call = recorded.one("aether.stream")
    [chat] = children(recorded.spans(), call)
    for span in (chat, call):
        attrs = span.attributes or {}
        assert attrs["aether.end_reason"] == "cancelled"
        assert attrs[error_attributes.ERROR_TYPE] == "cancelled"
        assert span.status.status_code is StatusCode.ERROR
    assert (chat.attributes or {})[gen_ai.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] > 0


async def test_an_abandoned_stream(recorded: Recorded, server: OpenAIServer) -> None:
    async with client_for(server) as client:
        stream: AsyncIterator[str] = client.stream_text("hi")
        async with aclosing(stream):  # type: ignore[type-var]
            async for _ in stream:
                break
        # Closing it ended both spans, with why; nothing hangs open.
        call = recorded.one("aether.stream")
        [chat] = children(recorded.spans(), call)
    for span in (chat, call):
        attrs = span.attributes or {}
        assert attrs["aether.end_reason"] == "abandoned"
        assert error_attributes.ERROR_TYPE not in attrs
        assert span.status.status_code is StatusCode.UNSET


async def test_a_stream_past_its_timeout(recorded: Recorded, server: OpenAIServer) -> None:
    async with client_for(server, model="hang") as client:
        with pytest.raises(ProviderTimeoutError):
            async for _ in client.stream("hi", settings={"timeout": 0.3}):
                pass
    call = recorded.one("aether.stream")
    [chat] = children(recorded.spans(), call)
    assert (call.attributes or {})[error_attributes.ERROR_TYPE] == ProviderTimeoutError.__name__
    assert (chat.attributes or {})["aether.end_reason"] == "cancelled"


async def test_cost_is_an_aether_attribute(recorded: Recorded) -> None:
    answer = LLMResponse(text="ok", model="gpt-4o-mini", input_tokens=1000, output_tokens=500)
    async with Aether(FakeProvider(answer)) as client:
        await client.ask("hi")
        expected = client.usage.total_cost_usd
    assert expected > 0
    chat = recorded.one("chat")
    assert (chat.attributes or {})["aether.usage.cost"] == pytest.approx(expected)
    assert (recorded.one("aether.complete").attributes or {})["aether.usage.cost"] == (
        pytest.approx(expected)
    )
    assert (chat.attributes or {})[gen_ai.GEN_AI_PROVIDER_NAME] == "fake"
    assert server_attributes.SERVER_ADDRESS not in (chat.attributes or {})


async def test_a_typed_answer_is_json_output(recorded: Recorded) -> None:
    async with Aether(FakeProvider(responses=[{"n": 2}])) as client:
        assert await client.ask("two", output_type=dict[str, int]) == {"n": 2}
    chat = recorded.one("chat")
    assert (chat.attributes or {})[gen_ai.GEN_AI_OUTPUT_TYPE] == (
        gen_ai.GenAiOutputTypeValues.JSON.value
    )
