"""A canary API key never reaches a span, a span event, a metric or a log record."""

from __future__ import annotations

import logging

import pytest

import aether_otel
from aether import Aether, ProviderConfig
from aether.errors import ProviderError
from tests.otel._server import OpenAIServer
from tests.otel.conftest import Recorded

CANARY = "sk-canary-6f1d2a9c84e07b35d1aa"


def _pieces(secret: str) -> list[str]:
    """Every 8-character run: a key cut anywhere is still found."""
    return [secret[i : i + 8] for i in range(len(secret) - 7)]


@pytest.mark.parametrize("capture", [False, True])
async def test_the_key_is_nowhere(
    recorded: Recorded, server: OpenAIServer, caplog: pytest.LogCaptureFixture, capture: bool
) -> None:
    aether_otel.instrument(
        tracer_provider=recorded.tracer_provider,
        meter_provider=recorded.meter_provider,
        capture_content=capture,
    )
    caplog.set_level(logging.DEBUG)

    def get_weather(city: str) -> str:
        """The weather in a city."""
        return f"sunny in {city}"

    for model in ("text", "weather", "flaky", "broken", "echo"):
        config = ProviderConfig(
            provider="openai", base_url=server.base_url, api_key=CANARY, model=model
        )
        async with Aether(config=config) as client:
            try:
                await client.ask("hi", tools=[get_weather])
                async for _ in client.stream("hi", tools=[get_weather]):
                    pass
            except ProviderError:
                pass
    # The server did see the key, and echoed it back in an error body.
    assert any(CANARY in r["headers"].get("authorization", "") for r in server.requests)
    assert any(r["body"].get("model") == "echo" for r in server.requests)

    seen: list[str] = []
    for span in recorded.spans():
        seen.append(span.name)
        seen.extend(f"{k}={v}" for k, v in (span.attributes or {}).items())
        for event in span.events:
            seen.append(event.name)
            seen.extend(f"{k}={v}" for k, v in (event.attributes or {}).items())
        seen.append(str(span.status.description))
    data = recorded.reader.get_metrics_data()
    assert data is not None
    seen.append(data.to_json())
    seen.extend(record.getMessage() for record in caplog.records)
    seen.extend(str(record.__dict__) for record in caplog.records)
    text = "\n".join(seen)
    assert "exception.message" in text  # the errors were recorded, only masked
    assert any(r.name == "aether.requests" for r in caplog.records)
    for piece in _pieces(CANARY):
        assert piece not in text
