"""What OpenTelemetry instrumentation costs the client, per loopback request.

    python bench/bench_otel.py [--calls 3000] [--batch 100] [--rounds 3]

The client is ``Aether()`` with the default stack and the OpenAI provider, asking
``bench/server.py`` on 127.0.0.1 (a separate process, so only the client's CPU is counted:
``time.process_time`` in the client's process). Three ways, switched in the same process
(``instrument()`` / ``uninstrument()`` on the same client) in interleaved batches, the order
rotating, so drift and the machine's other load hit all four alike:

- **off**: aether-otel installed, not turned on (the baseline);
- **no-op**: ``aether_otel.instrument()`` with OpenTelemetry's no-op tracer and meter
  providers: what the instrumentation itself costs when nothing records;
- **sdk**: the OpenTelemetry SDK with an in-memory span exporter and an in-memory metric
  reader: spans and metrics really recorded;
- **by hand** (the floor, not budgeted): aether-otel off, and the same SDK given by hand what
  the conventions ask of each call: the call's span and the model call's span under it,
  started and ended with the very attributes Aether's spans carried in the warm-up (copied
  from them, split into start and end as Aether sets them), the duration and the two token
  usage points (and time to first chunk for a stream). No instrumentation following the
  conventions with this SDK can cost less; ``sdk / by hand`` is what Aether adds beyond it.

Budgets, as the median over batches of each batch's CPU per request against the baseline
batch of the same turn: no-op at most 1.03x, sdk at most 1.25x, for a whole answer
(``ask``) and for a 20-chunk stream (``stream_text``). Exit status 1 when a budget is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
MODES = ("off", "no-op", "sdk", "by hand")
BUDGETS = {"no-op": 1.03, "sdk": 1.25}
CHUNKS = 20
WARM_UP = 300


class _Modes:
    """Switches one process between the three ways; the SDK's data is kept in memory."""

    def __init__(self) -> None:
        from opentelemetry.metrics import NoOpMeterProvider
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        from opentelemetry.trace import NoOpTracerProvider

        self.exporter = InMemorySpanExporter()
        tracer_provider = TracerProvider()
        tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
        self.providers: dict[str, dict[str, Any]] = {
            "no-op": {
                "tracer_provider": NoOpTracerProvider(),
                "meter_provider": NoOpMeterProvider(),
            },
            "sdk": {"tracer_provider": tracer_provider, "meter_provider": meter_provider},
        }

    def use(self, mode: str) -> None:
        import aether_otel

        if mode in ("off", "by hand"):
            aether_otel.uninstrument()
        else:
            aether_otel.instrument(**self.providers[mode])
        self.exporter.clear()  # it keeps every span; never let it grow


class _ByHand:
    """The floor: what the conventions ask of one call, written by hand against the SDK.

    Names, buckets and attributes are Aether's own (``aether_otel._conventions``, and the
    attributes its spans carried in the warm-up), so only the code between them differs.
    """

    def __init__(self, modes: _Modes, spans: Any) -> None:
        from opentelemetry import context, trace
        from opentelemetry.trace import SpanKind

        from aether_otel import _conventions as names

        self.context, self.trace = context, trace
        self.kinds = (SpanKind.INTERNAL, SpanKind.CLIENT)
        self.token_type = names.GEN_AI_TOKEN_TYPE
        self.token_types = (names.TOKEN_TYPE_INPUT, names.TOKEN_TYPE_OUTPUT)
        sdk = modes.providers["sdk"]
        self.tracer = sdk["tracer_provider"].get_tracer("by_hand")
        meter = sdk["meter_provider"].get_meter("by_hand")
        seconds = {"unit": "s", "explicit_bucket_boundaries_advisory": names.SECONDS_BUCKETS}
        self.duration = meter.create_histogram(names.METRIC_OPERATION_DURATION, **seconds)
        self.first_chunk = meter.create_histogram(names.METRIC_TIME_TO_FIRST_CHUNK, **seconds)
        self.tokens = meter.create_histogram(
            names.METRIC_TOKEN_USAGE,
            unit="{token}",
            explicit_bucket_boundaries_advisory=names.TOKEN_BUCKETS,
        )
        # What Aether knows when each span starts; the rest it sets when the span ends.
        call_start = (names.AETHER_CALL_PROVIDER, names.AETHER_CALL_MODEL)
        model_start = (
            names.GEN_AI_OPERATION_NAME,
            names.GEN_AI_PROVIDER_NAME,
            names.SERVER_ADDRESS,
            names.SERVER_PORT,
            names.GEN_AI_REQUEST_MODEL,
        )
        call = next(s for s in spans if s.name.startswith("aether."))
        model = next(s for s in spans if s.name.startswith(names.OPERATION_CHAT))
        self.names = (call.name, model.name)
        self.call_start, self.call_end = _split(dict(call.attributes), call_start)
        self.model_start, self.model_end = _split(dict(model.attributes), model_start)
        attributes = dict(model.attributes)
        kept = (*model_start, names.GEN_AI_RESPONSE_MODEL)  # the metric points' attributes
        self.metric = {k: attributes[k] for k in kept if k in attributes}
        self.counts = (
            attributes[names.GEN_AI_USAGE_INPUT_TOKENS],
            attributes[names.GEN_AI_USAGE_OUTPUT_TOKENS],
        )

    async def call(self, work: Any) -> None:
        """``work(first)`` is the uninstrumented call; it calls ``first()`` on a first chunk."""
        context, trace = self.context, self.trace
        outer = self.tracer.start_span(
            self.names[0], kind=self.kinds[0], attributes=self.call_start
        )
        token = context.attach(trace.set_span_in_context(outer))
        try:
            inner = self.tracer.start_span(
                self.names[1], kind=self.kinds[1], attributes=self.model_start
            )
            started = time.perf_counter()
            first: list[float] = []
            current = context.attach(trace.set_span_in_context(inner))
            try:
                await work(lambda: first.append(time.perf_counter() - started))
            finally:
                context.detach(current)
            duration = time.perf_counter() - started
            inner.set_attributes(self.model_end)
            inner.end()
            metric = self.metric
            self.duration.record(duration, metric)
            if first:
                self.first_chunk.record(first[0], metric)
            for count, kind in zip(self.counts, self.token_types, strict=True):
                self.tokens.record(count, {**metric, self.token_type: kind})
        finally:
            context.detach(token)
        outer.set_attributes(self.call_end)
        outer.end()


def _split(attributes: dict[str, Any], start: tuple[str, ...]) -> tuple[dict[str, Any], ...]:
    """``attributes`` as (those set when the span starts, those set when it ends)."""
    return (
        {k: v for k, v in attributes.items() if k in start},
        {k: v for k, v in attributes.items() if k not in start},
    )


async def _measure(port: int, calls: int, batch: int) -> dict[str, dict[str, list[float]]]:
    """Per call kind and mode, the CPU per request of each batch, modes interleaved."""
    from pydantic import SecretStr

    from aether import Aether, ProviderConfig

    modes = _Modes()
    config = ProviderConfig(
        provider="openai",
        api_key=SecretStr("sk-bench"),
        model="gpt-4o-mini",
        base_url=f"http://127.0.0.1:{port}/n{CHUNKS}/v1",
    )
    figures: dict[str, dict[str, list[float]]] = {}
    async with Aether(config=config) as client:

        async def ask(first: Any = None) -> None:
            await client.ask("How are you today?")

        async def stream(first: Any = None) -> None:
            deltas = client.stream_text("How are you today?")
            async for _ in deltas:
                if first is not None:
                    first()
                    first = None

        for name, plain in (("ask", ask), ("stream", stream)):
            hand: _ByHand | None = None  # made from the spans of the sdk warm-up
            spans: Any = ()
            for mode in MODES:  # warm every path: imports, pricing, pydantic schemas
                modes.use(mode)
                if mode == "by hand":  # its attributes: those of Aether's spans just made
                    hand = _ByHand(modes, spans)
                for _ in range(WARM_UP):
                    await _call(plain, hand if mode == "by hand" else None)
                if mode == "sdk":
                    spans = modes.exporter.get_finished_spans()[-2:]
            per_mode = figures[name] = {mode: [] for mode in MODES}
            for turn in range(max(calls // batch, 1)):
                # Rotate the order each turn, so no mode always follows the same one.
                for mode in MODES[turn % 4 :] + MODES[: turn % 4]:
                    modes.use(mode)
                    by_hand = hand if mode == "by hand" else None
                    started = time.process_time()
                    for _ in range(batch):
                        await _call(plain, by_hand)
                    per_mode[mode].append((time.process_time() - started) / batch)
                    if mode in ("sdk", "by hand"):
                        assert len(modes.exporter.get_finished_spans()) == 2 * batch
    return figures


async def _call(plain: Any, by_hand: _ByHand | None) -> None:
    if by_hand is None:
        await plain()
    else:
        await by_hand.call(plain)


def _worker(port: int, calls: int, batch: int) -> None:
    print(json.dumps(asyncio.run(_measure(port, calls, batch))))


def _run(port: int, calls: int, batch: int) -> dict[str, dict[str, list[float]]]:
    env = {k: v for k, v in os.environ.items() if k not in ("AETHER_OTEL", "LLM_PROVIDER")}
    command = [sys.executable, __file__, "--worker", "--port", str(port)]
    done = subprocess.run(
        [*command, "--calls", str(calls), "--batch", str(batch)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, dict[str, list[float]]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _start_server() -> tuple[subprocess.Popen[bytes], int]:
    proc = subprocess.Popen([sys.executable, str(HERE / "server.py")], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    name, _, value = proc.stdout.readline().decode().partition(" ")
    if name != "PORT" or not value.strip().isdigit():
        proc.kill()
        raise RuntimeError(f"the bench server did not start: {name!r} {value!r}")
    return proc, int(value)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=3000, help="calls per mode and process")
    parser.add_argument("--batch", type=int, default=100, help="calls per timed batch")
    parser.add_argument("--rounds", type=int, default=3, help="fresh processes")
    parser.add_argument("--worker", action="store_true")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    if args.worker:
        _worker(args.port, args.calls, args.batch)
        return 0

    server, port = _start_server()
    # For each call kind and mode: every batch's CPU per request, and its ratio to the
    # baseline batch of the same turn.
    seconds: dict[tuple[str, str], list[float]] = {}
    ratios: dict[tuple[str, str], list[float]] = {}
    try:
        for _ in range(args.rounds):
            figures = _run(port, args.calls, args.batch)
            for call, per_mode in figures.items():
                for mode, batches in per_mode.items():
                    seconds.setdefault((mode, call), []).extend(batches)
                    if mode != "off":
                        ratios.setdefault((mode, call), []).extend(
                            b / off for b, off in zip(batches, per_mode["off"], strict=True)
                        )
    finally:
        server.kill()
        server.wait()

    missed = 0
    count = len(seconds[("off", "ask")])
    print(
        f"client CPU per loopback request: {args.rounds} processes x {args.calls} calls per "
        f"mode, in {count} interleaved batches of {args.batch}; stream: {CHUNKS} chunks"
    )
    for call in ("ask", "stream"):
        print(f"\n{call} (medians over batches)")
        base = statistics.median(seconds[("off", call)])
        print(f"  {'off (baseline)':<16} {base * 1e6:8.1f} us")
        for mode in ("no-op", "sdk", "by hand"):
            cpu = statistics.median(seconds[(mode, call)])
            spread = sorted(ratios[(mode, call)])
            ratio = statistics.median(spread)
            quartiles = statistics.quantiles(spread, n=4)
            if mode not in BUDGETS:
                verdict = "the floor: the same spans and points written by hand"
            else:
                verdict = "met" if ratio <= BUDGETS[mode] else "MISS"
                missed += verdict == "MISS"
                verdict = f"budget <= {BUDGETS[mode]}x: {verdict}"
            print(
                f"  {mode:<16} {cpu * 1e6:8.1f} us  {ratio:5.3f}x "
                f"(quartiles {quartiles[0]:.3f}-{quartiles[2]:.3f}); {verdict}"
            )
        beyond = sorted(
            sdk / hand
            for sdk, hand in zip(seconds[("sdk", call)], seconds[("by hand", call)], strict=True)
        )
        added = statistics.median(seconds[("sdk", call)]) - statistics.median(
            seconds[("by hand", call)]
        )
        print(
            f"  sdk / by hand    {statistics.median(beyond):5.3f}x "
            f"({added * 1e6:+.1f} us): what Aether adds beyond the floor"
        )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
