"""The recorded Anthropic traffic in ``tests/recorded/anthropic``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.conformance import load, replay_transport
from tests.support.conformance import record_files as _record_files

__all__ = ["API_KEY", "load", "record_files", "recorded_path", "replay_transport"]

API_KEY = "sk-replay-9f3a2c71b0e4"
"""Shares no run of 8 characters with the recorded texts: a key fragment is masked wherever it
appears, and must not blank part of Anthropic's own message."""


def record_files() -> list[Path]:
    return _record_files("anthropic")


def recorded_path(record: dict[str, Any]) -> str:
    """``/v1/messages``, without the ``?beta=true`` the Anthropic SDK's beta client adds."""
    return str(record["request"]["path"]).split("?", 1)[0]
