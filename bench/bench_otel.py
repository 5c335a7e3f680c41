"""What OpenTelemetry instrumentation costs the client, per loopback request.

    python bench/bench_otel.py [--calls 3000] [--batch 100] [--rounds 3]

The client is ``Aether()`` with the default stack and the OpenAI provider, asking
``bench/server.py`` on 127.0.0.1 (a separate process, so only the client's CPU is counted:
``time.process_time`` in the client's process). Three ways, switched in the same process
(``instrument()`` / ``uninstrument()`` on the same client) in interleaved batches, the order
rotating, so drift and the machine's other load hit all three alike:

- **off**: aether-otel installed, not turned on (the baseline);
- **no-op**: ``aether_otel.instrument()`` with OpenTelemetry's no-op tracer and meter
  providers: what the instrumentation itself costs when nothing records;
- **sdk**: the OpenTelemetry SDK with an in-memory span exporter and an in-memory metric
  reader: spans and metrics really recorded.

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
MODES = ("off", "no-op", "sdk")
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

        if mode == "off":
            aether_otel.uninstrument()
        else:
            aether_otel.instrument(**self.providers[mode])
        self.exporter.clear()  # it keeps every span; never let it grow


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

        async def ask() -> None:
            await client.ask("How are you today?")

        async def stream() -> None:
            async for _ in client.stream_text("How are you today?"):
                pass

        for name, call in (("ask", ask), ("stream", stream)):
            for mode in MODES:  # warm every path: imports, pricing, pydantic schemas
                modes.use(mode)
                for _ in range(WARM_UP):
                    await call()
            per_mode = figures[name] = {mode: [] for mode in MODES}
            for turn in range(max(calls // batch, 1)):
                # Rotate the order each turn, so no mode always follows the same one.
                for mode in MODES[turn % 3 :] + MODES[: turn % 3]:
                    modes.use(mode)
                    started = time.process_time()
                    for _ in range(batch):
                        await call()
                    per_mode[mode].append((time.process_time() - started) / batch)
                    if mode == "sdk":
                        assert len(modes.exporter.get_finished_spans()) == 2 * batch
    return figures


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
        for mode in ("no-op", "sdk"):
            cpu = statistics.median(seconds[(mode, call)])
            spread = sorted(ratios[(mode, call)])
            ratio = statistics.median(spread)
            quartiles = statistics.quantiles(spread, n=4)
            verdict = "met" if ratio <= BUDGETS[mode] else "MISS"
            missed += verdict == "MISS"
            print(
                f"  {mode:<16} {cpu * 1e6:8.1f} us  {ratio:5.3f}x "
                f"(quartiles {quartiles[0]:.3f}-{quartiles[2]:.3f}); "
                f"budget <= {BUDGETS[mode]}x: {verdict}"
            )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
