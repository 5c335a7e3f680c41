"""The recorded Gemini traffic in ``tests/recorded/gemini``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.conformance import load, replay_transport
from tests.support.conformance import record_files as _record_files

__all__ = ["API_KEY", "load", "model_of", "record_files", "replay_transport"]

API_KEY = "test-gemini-key-123"


def record_files() -> list[Path]:
    return _record_files("gemini")


def model_of(record: dict[str, Any]) -> str:
    """``gemini-2.5-flash`` from ``/v1beta/models/gemini-2.5-flash:generateContent?...``."""
    path = record["request"]["path"].split("?")[0]
    return str(path.split("/models/", 1)[1].split(":", 1)[0])
