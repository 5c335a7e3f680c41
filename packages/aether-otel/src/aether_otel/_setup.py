"""Turning instrumentation on and off, and which clients it covers. Imports no OpenTelemetry.

Every client built while the plugin is installed is handed here by core's
``instrument_client`` hook and remembered weakly, so :func:`instrument` also covers the
clients that already exist. Until instrumentation is turned on, that is all that happens: the
OpenTelemetry API is imported only by :func:`instrument` (or ``AETHER_OTEL=1``).
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import TYPE_CHECKING

from aether import config

if TYPE_CHECKING:
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import TracerProvider

    from aether import Aether
    from aether_otel._instrumentation import Instrumentation

__all__ = ["CAPTURE_CONTENT_ENV", "ENABLE_ENV", "instrument", "is_instrumented", "uninstrument"]

ENABLE_ENV = "AETHER_OTEL"
CAPTURE_CONTENT_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
"""The conventions' opt-in for content, read by the OpenTelemetry GenAI instrumentations."""

_lock = threading.RLock()
_seen: weakref.WeakSet[Aether] = weakref.WeakSet()
_active: Instrumentation | None = None
_stopped = False  # uninstrument() was called: AETHER_OTEL no longer turns it on


def seen(client: Aether) -> None:
    """A new client (from core's hook): instrument it now, or remember it for later."""
    global _active
    with _lock:
        _seen.add(client)
        active = _active
        if active is None:
            if _stopped or not config.env_bool(ENABLE_ENV):
                return
            active = _active = _start(None, None, None)
        active.attach(client)


def instrument(
    *,
    tracer_provider: TracerProvider | None = None,
    meter_provider: MeterProvider | None = None,
    capture_content: bool | None = None,
) -> None:
    """Make every client (existing and future) emit spans and metrics.

    Calling it again replaces the settings of the previous call.

    Args:
        tracer_provider: Where spans go; default: OpenTelemetry's global provider (so an
            application that sets one later is covered).
        meter_provider: Where metrics go; default: the global one.
        capture_content: Record prompts, answers, tool arguments and results on the spans
            (the conventions' opt-in attributes). Default: the environment variable
            ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` (``true``), else off.
    """
    global _active, _stopped
    with _lock:
        if _active is not None:
            _active.detach_all()
        active = _active = _start(tracer_provider, meter_provider, capture_content)
        _stopped = False
        for client in list(_seen):
            active.attach(client)


def uninstrument() -> None:
    """Stop: clients keep working, without spans or metrics (``AETHER_OTEL`` is ignored after)."""
    global _active, _stopped
    with _lock:
        if _active is not None:
            _active.detach_all()
        _active = None
        _stopped = True


def is_instrumented() -> bool:
    """Whether :func:`instrument` (or ``AETHER_OTEL=1``) is in force."""
    return _active is not None


def _start(
    tracer_provider: TracerProvider | None,
    meter_provider: MeterProvider | None,
    capture_content: bool | None,
) -> Instrumentation:
    from aether_otel._instrumentation import Instrumentation
    from aether_otel._telemetry import Telemetry

    if capture_content is None:
        capture_content = os.environ.get(CAPTURE_CONTENT_ENV, "").strip().lower() == "true"
    return Instrumentation(Telemetry(tracer_provider, meter_provider, capture=capture_content))
