"""An SDK tracer and meter with in-memory exporters, instrumenting every client of a test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import aether_otel
from aether.extensions.llm.retrying import set_testing
from tests.otel._server import OpenAIServer


class Recorded:
    """What the instrumentation of one test exported."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def named(self, prefix: str) -> list[ReadableSpan]:
        return [span for span in self.spans() if span.name.startswith(prefix)]

    def one(self, prefix: str) -> ReadableSpan:
        [span] = self.named(prefix)
        return span

    def points(self, metric: str) -> list[Any]:
        """Every data point of ``metric`` (histogram points carry attributes, count, sum)."""
        data = self.reader.get_metrics_data()
        found = []
        for resource in data.resource_metrics if data is not None else ():
            for scope in resource.scope_metrics:
                for item in scope.metrics:
                    if item.name == metric:
                        found.extend(item.data.data_points)
        return found


@pytest.fixture
def recorded() -> Iterator[Recorded]:
    made = Recorded()
    aether_otel.instrument(tracer_provider=made.tracer_provider, meter_provider=made.meter_provider)
    try:
        with set_testing(True):  # retry waits are instant; decisions are unchanged
            yield made
    finally:
        aether_otel.uninstrument()
        made.tracer_provider.shutdown()
        made.meter_provider.shutdown()


@pytest.fixture
async def server() -> AsyncIterator[OpenAIServer]:
    started = await OpenAIServer().start()
    yield started
    await started.stop()


def children(spans: list[ReadableSpan], parent: ReadableSpan) -> list[ReadableSpan]:
    """The spans directly under ``parent``, in start order."""
    assert parent.context is not None
    found = [
        s for s in spans if s.parent is not None and s.parent.span_id == parent.context.span_id
    ]
    return sorted(found, key=lambda s: s.start_time or 0)
