"""OpenTelemetry traces and metrics for Aether, following the GenAI semantic conventions.

    import aether_otel

    aether_otel.instrument()    # or set AETHER_OTEL=1: every client, existing and future

Each ``ask`` / ``complete`` / stream is one ``aether.complete`` / ``aether.stream`` span; under
it, one ``chat {model}`` span per model call (each retry attempt its own) and one
``execute_tool {name}`` span per tool call; plus the conventions' ``gen_ai.client.*``
histograms. Content (prompts, answers, tool arguments and results) is recorded only when
asked for. Depends on ``opentelemetry-api`` alone: the SDK and exporters are the
application's. The names followed, and their version, are in ``aether_otel._conventions``.
"""

from __future__ import annotations

from aether_otel._conventions import SCHEMA_URL, SEMCONV_VERSION
from aether_otel._setup import instrument, is_instrumented, uninstrument

__all__ = ["SCHEMA_URL", "SEMCONV_VERSION", "instrument", "is_instrumented", "uninstrument"]
