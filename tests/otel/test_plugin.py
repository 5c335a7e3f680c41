"""The plugin through core's hook: AETHER_OTEL=1, clients built before instrument(), taking it
off again, and nothing imported while it is off."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

import aether_otel
from aether import Aether
from aether.events import REQUEST_RETRY, TOOL_START, EventBus
from aether.extensions.llm.fake import FakeProvider
from aether_otel._model import ModelCalls
from tests.otel.conftest import Recorded


def _run(code: str, **env: str) -> dict[str, object]:
    environment = {k: v for k, v in os.environ.items() if k != "AETHER_OTEL"}
    environment.update(env)
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # nothing logged or warned on an unconfigured process
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


SCRIPT = """
    import asyncio, json, sys
    {setup}
    from aether import Aether
    from aether.extensions.llm.fake import FakeProvider

    async def main():
        async with Aether(FakeProvider("hi")) as client:
            await client.ask("hello")
    asyncio.run(main())
    import aether_otel
    print(json.dumps({{
        "otel_imported": "opentelemetry" in sys.modules,
        "plugin_loaded": "aether_otel._plugin" in sys.modules,
        "instrumented": aether_otel.is_instrumented(),
        "spans": {spans},
    }}))
"""
SDK = """
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)
"""


def test_aether_otel_1_turns_it_on_through_the_hook() -> None:
    found = _run(
        SCRIPT.format(
            setup=textwrap.indent(SDK, "    "),
            spans="[s.name for s in exporter.get_finished_spans()]",
        ),
        AETHER_OTEL="1",
    )
    assert found["instrumented"] is True
    assert found["spans"] == ["chat fake-model", "aether.complete"]


def test_installed_but_off_it_imports_no_opentelemetry() -> None:
    found = _run(SCRIPT.format(setup="", spans="[]"))
    assert found == {
        "otel_imported": False,
        "plugin_loaded": True,  # core's hook loaded it, and it stayed asleep
        "instrumented": False,
        "spans": [],
    }


async def test_instrument_covers_clients_built_before_it() -> None:
    client = Aether(FakeProvider("hi"))
    made = Recorded()
    aether_otel.instrument(tracer_provider=made.tracer_provider, meter_provider=made.meter_provider)
    try:
        await client.ask("hello")
    finally:
        aether_otel.uninstrument()
    assert [s.name for s in made.spans()] == ["chat fake-model", "aether.complete"]


def _layers(client: Aether) -> list[object]:
    found, current = [], client.provider
    while current is not None:
        found.append(current)
        current = getattr(current, "inner", None)
    return found


async def test_uninstrument_takes_everything_off(recorded: Recorded) -> None:
    client = Aether(FakeProvider("hi"))
    positional = Aether(FakeProvider("hi"), with_cost_tracking=False)
    assert any(isinstance(layer, ModelCalls) for layer in _layers(client))
    assert isinstance(positional.provider, ModelCalls)
    assert client.events.scopes and client.events.wants(TOOL_START)
    aether_otel.uninstrument()
    for each in (client, positional):
        assert not any(isinstance(layer, ModelCalls) for layer in _layers(each))
        assert not each.events.scopes
        assert not each.events.wants(TOOL_START) and not each.events.wants(REQUEST_RETRY)
    await client.ask("hello")
    assert recorded.spans() == []
    assert not aether_otel.is_instrumented()


async def test_a_shared_bus_and_stack_are_instrumented_once(recorded: Recorded) -> None:
    bus = EventBus()
    stack = FakeProvider("hi")
    first = Aether(stack, events=bus, with_retry=True)
    second = Aether(first.provider, events=bus)  # the same stack, wrapped once more
    assert len(bus.scopes) == 1
    await first.ask("one")
    await second.ask("two")
    assert sorted(s.name for s in recorded.spans()) == [
        "aether.complete",
        "aether.complete",
        "chat fake-model",
        "chat fake-model",
    ]


@pytest.mark.parametrize("value", ["0", ""])
def test_aether_otel_off_values_leave_it_off(value: str) -> None:
    found = _run(SCRIPT.format(setup="", spans="[]"), AETHER_OTEL=value)
    assert found["instrumented"] is False and found["otel_imported"] is False
