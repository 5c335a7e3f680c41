"""End to end: spans and metrics reach a real OTLP/HTTP receiver on 127.0.0.1.

The SDK's own OTLP/HTTP exporters send to a small receiver this test starts, which keeps what
arrives; the protobuf payloads are decoded and read back.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

import aether_otel
from aether import Aether, ProviderConfig
from tests.otel._server import OpenAIServer


class Receiver(ThreadingHTTPServer):
    """Keeps the body of every POST, by path."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.received: dict[str, list[bytes]] = {}
        self.lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        with self.server.lock:
            self.server.received.setdefault(self.path, []).append(body)
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return None  # quiet


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    thread = threading.Thread(target=made.serve_forever, daemon=True)
    thread.start()
    try:
        yield made
    finally:
        made.shutdown()
        made.server_close()
        thread.join(5)


async def test_spans_and_metrics_arrive_over_otlp(receiver: Receiver, server: OpenAIServer) -> None:
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(
        BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{receiver.endpoint}/v1/traces", timeout=5))
    )
    reader = PeriodicExportingMetricReader(
        OTLPMetricExporter(endpoint=f"{receiver.endpoint}/v1/metrics", timeout=5),
        export_interval_millis=60_000,
    )
    meter_provider = MeterProvider(metric_readers=[reader])
    aether_otel.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    try:
        config = ProviderConfig(
            provider="openai", base_url=server.base_url, api_key="k", model="text"
        )
        async with Aether(config=config) as client:
            assert await client.ask("hi") == "Hello there"
        assert tracer_provider.force_flush(10_000)
        assert meter_provider.force_flush(10_000)
    finally:
        aether_otel.uninstrument()
        tracer_provider.shutdown()
        meter_provider.shutdown()

    spans = []
    for body in receiver.received["/v1/traces"]:
        request = ExportTraceServiceRequest.FromString(body)
        for resource in request.resource_spans:
            for scope in resource.scope_spans:
                assert scope.scope.name == "aether_otel"
                assert scope.schema_url == aether_otel.SCHEMA_URL
                spans.extend(scope.spans)
    by_name = {span.name: span for span in spans}
    assert set(by_name) == {"aether.complete", "chat text"}
    chat, call = by_name["chat text"], by_name["aether.complete"]
    assert chat.parent_span_id == call.span_id and chat.trace_id == call.trace_id
    attributes = {a.key: a.value for a in chat.attributes}
    assert attributes["gen_ai.operation.name"].string_value == "chat"
    assert attributes["gen_ai.usage.output_tokens"].int_value == 3

    metrics = set()
    for body in receiver.received["/v1/metrics"]:
        request = ExportMetricsServiceRequest.FromString(body)
        for resource in request.resource_metrics:
            for scope in resource.scope_metrics:
                metrics.update(metric.name for metric in scope.metrics)
    assert metrics == {"gen_ai.client.operation.duration", "gen_ai.client.token.usage"}
