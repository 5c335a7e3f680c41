"""The recorded Anthropic traffic in ``tests/recorded/anthropic``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.conformance import load, replay_transport
from tests.support.conformance import record_files as _record_files

__all__ = ["API_KEY", "load", "record_files", "recorded_path", "replay_transport"]

API_KEY = "test-anthropic-key-123"


def record_files() -> list[Path]:
    return _record_files("anthropic")


def recorded_path(record: dict[str, Any]) -> str:
    """``/v1/messages``, without the ``?beta=true`` the Anthropic SDK's beta client adds."""
    return str(record["request"]["path"]).split("?", 1)[0]
