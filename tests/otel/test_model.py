"""``ModelCalls`` steps aside when nothing would be recorded, and only then."""

from __future__ import annotations

from collections.abc import AsyncIterator

from opentelemetry import trace
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.trace import NoOpTracerProvider

from aether.extensions.llm.fake import FakeProvider
from aether.llm.contracts import LLMRequest, LLMStreamChunk, Message
from aether_otel._model import ModelCalls
from aether_otel._telemetry import Telemetry
from tests.otel.conftest import Recorded

REQUEST = LLMRequest(messages=[Message(role="user", content="hi")], model="fake-model")


class _Marked(FakeProvider):
    """A fake whose stream objects can be recognised: the one made last is kept."""

    made: AsyncIterator[LLMStreamChunk] | None = None

    def stream(self, request: LLMRequest) -> AsyncIterator[LLMStreamChunk]:
        self.made = super().stream(request)
        return self.made


def _layer(telemetry: Telemetry) -> tuple[ModelCalls, _Marked]:
    inner = _Marked(responses=["one two three"])
    return ModelCalls(inner, telemetry, provider="fake", prices=None), inner


async def test_with_a_no_op_tracer_and_meter_the_provider_stream_is_handed_back() -> None:
    telemetry = Telemetry(NoOpTracerProvider(), NoOpMeterProvider(), capture=False)
    assert telemetry.metrics_dropped
    layer, inner = _layer(telemetry)
    stream = layer.stream(REQUEST)
    assert stream is inner.made  # no layer per chunk
    text = "".join([chunk.text async for chunk in stream])
    assert text == "one two three"


class _Counting:
    """Stands in for a histogram: counts the points it is given."""

    def __init__(self) -> None:
        self.points = 0

    def record(self, amount: float, attributes: object = None) -> None:
        self.points += 1


async def test_with_a_no_op_tracer_and_meter_complete_only_calls_the_provider() -> None:
    telemetry = Telemetry(NoOpTracerProvider(), NoOpMeterProvider(), capture=False)
    counting = telemetry.duration = telemetry.token_usage = _Counting()  # type: ignore[assignment]
    layer, _ = _layer(telemetry)
    response = await layer.complete(REQUEST)
    assert response.text == "one two three"
    assert counting.points == 0  # nothing measured for points nobody keeps


async def test_a_real_meter_keeps_complete_measured(recorded: Recorded) -> None:
    telemetry = Telemetry(NoOpTracerProvider(), recorded.meter_provider, capture=False)
    layer, _ = _layer(telemetry)
    assert (await layer.complete(REQUEST)).text == "one two three"
    assert recorded.points("gen_ai.client.operation.duration")


async def test_a_real_meter_keeps_the_layer(recorded: Recorded) -> None:
    telemetry = Telemetry(NoOpTracerProvider(), recorded.meter_provider, capture=False)
    assert not telemetry.metrics_dropped
    layer, inner = _layer(telemetry)
    stream = layer.stream(REQUEST)
    assert stream is not inner.made
    assert "".join([chunk.text async for chunk in stream]) == "one two three"
    # The duration point of the stream was recorded although no span was.
    assert recorded.points("gen_ai.client.operation.duration")


async def test_a_recording_tracer_keeps_the_layer(recorded: Recorded) -> None:
    telemetry = Telemetry(recorded.tracer_provider, NoOpMeterProvider(), capture=False)
    layer, inner = _layer(telemetry)
    stream = layer.stream(REQUEST)
    assert stream is not inner.made
    assert [c.text async for c in stream]
    [span] = recorded.named("chat")
    assert span.end_time is not None


async def test_the_global_proxy_meter_is_never_taken_for_a_no_op() -> None:
    # The global providers may be set after instrumenting: the proxies must keep the layer.
    telemetry = Telemetry(trace.get_tracer_provider(), None, capture=False)
    assert not telemetry.metrics_dropped
